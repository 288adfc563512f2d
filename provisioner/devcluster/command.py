"""``provisioner dev-cluster``: run the dev cluster as a long-lived process.

The demo and out-of-process tests need the cluster to outlive a Python
``with`` block, and need to learn where it is without parsing logs: the env
file is written only once the server answers, atomically, so a reader that
sees the file can use it at once.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from provisioner.devcluster.start import DevCluster, start


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--serve",
        action="store_true",
        help="keep serving until SIGINT/SIGTERM (the default behaviour; kept explicit for scripts)",
    )
    parser.add_argument(
        "--env-file",
        type=Path,
        help="write KUBECONFIG=, KUBE_API_URL= lines here once the server answers; removed on exit",
    )
    parser.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0 picks one)")


def write_env_file(path: Path, cluster: DevCluster) -> None:
    """Write ``NAME=value`` lines via a temporary file and a rename, so readers never see half."""
    lines = [
        f"KUBECONFIG={cluster.kubeconfig}",
        f"KUBE_API_URL={cluster.url}",
        f"DEVCLUSTER_NODES={','.join(n.name or '' for n in cluster.nodes)}",
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")
    os.replace(temporary, path)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; always serves, ``--serve`` only documents the intent."""
    if args.nodes < 0:
        print("--nodes must be zero or more", file=sys.stderr)
        return 2
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    env_file: Path | None = args.env_file
    try:
        with start(args.nodes, host=args.host, port=args.port) as cluster:
            if env_file is not None:
                write_env_file(env_file, cluster)
            print(f"dev cluster serving at {cluster.url}", flush=True)
            print(f"KUBECONFIG={cluster.kubeconfig}", flush=True)
            while not stop.wait(0.5):
                pass
    finally:
        if env_file is not None:
            env_file.unlink(missing_ok=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
