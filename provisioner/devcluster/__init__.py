"""An in-memory Kubernetes API server, with a small simulated control plane.

It speaks the real REST protocol (kubectl and the official clients work
against it unchanged) so end-to-end tests and the demo can run the
controller without a real cluster.
"""

from provisioner.devcluster.nodes import NodeSpec
from provisioner.devcluster.start import DevCluster, start

__all__ = ["DevCluster", "NodeSpec", "start"]
