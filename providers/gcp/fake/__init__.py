"""A fake of the Google Compute Engine REST API, for tests and the demo.

It speaks the wire protocol of ``compute.googleapis.com/compute/v1`` closely enough that
the unmodified google-cloud-compute client (REST transport) works against it, and it
refuses what the real API refuses where a load balancer controller can get caught out.
What it models and what it leaves out is in ``docs/gcp-fake.md``.

    with start() as fake:
        options = ClientOptions(api_endpoint=fake.url)
        client = compute_v1.RegionBackendServicesClient(
            credentials=AnonymousCredentials(), transport="rest", client_options=options)
"""

from providers.gcp.fake.links import GOOGLE_BASE, REGIONS, ZONES
from providers.gcp.fake.start import FakeCompute, start
from providers.gcp.fake.store import Call

__all__ = ["GOOGLE_BASE", "REGIONS", "ZONES", "Call", "FakeCompute", "start"]
