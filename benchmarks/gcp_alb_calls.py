"""Compute API calls of Ingress -> global external Application Load Balancer reconciles on GCP.

Run: `.venv/bin/python benchmarks/gcp_alb_calls.py`.
It runs the real provider against the Compute fake in-process for the example Ingresses of
the GCP tests (the counterpart of `examples/ingress.yaml` in instance mode: an HTTPS
Ingress with a redirect on its own load balancer, and a group of two Ingresses), on three
nodes in three zones, and prints, per key and in total, the calls and writes of: create on
an empty project (the SSL certificate exists), a no-op reconcile by a fresh provider (as a
restarted controller or the CLI would make it), and adding one path to one group member;
then, for an HTTPS Ingress whose `spec.tls` hosts get a Google-managed certificate: create,
no-op, a host added (create, swap, delete the certificate), the TLS policy changed, delete.
The yardstick is the minimum: on create one insert per resource (plus the groups' members
and named ports), nothing on a no-op, one URL map update for a new path.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from providers.gcp.client import Compute, build_sdk, is_mutating
from providers.gcp.fake import start
from providers.gcp.provider import GcpConfig, GcpProvider
from providers.gcp.seed import SeedNode, seed_cluster
from tests.gcp import ingress as ing
from tests.gcp.builders import PROJECT, REGION, vm_names

KEYS = (ing.STOREFRONT, ing.SHARED)
BOTH_PORTS = '[{"HTTP": 80}, {"HTTPS": 443}]'
PEM = (
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
)


def _provider(url: str) -> GcpProvider:
    compute = Compute(project=PROJECT, region=REGION, sdk=build_sdk(endpoint=url, credentials=None))
    return GcpProvider(GcpConfig(cluster_name="bench", load_balancer_class="c"), compute=compute)


def _round(url: str, objects: list[dict[str, object]], keys: tuple[str, ...]) -> Counter[str]:
    provider = _provider(url)
    for key in keys:
        provider.apply(provider.plan(key, ing.desired(key, objects)))
    return Counter(provider.compute.counter.by_operation())


def _show(title: str, calls: Counter[str]) -> None:
    writes = Counter({op: n for op, n in calls.items() if is_mutating(op)})
    print(f"{title}: {sum(calls.values())} calls, {sum(writes.values())} writes")
    for op, n in sorted(writes.items()):
        print(f"    {op} x{n}")
    reads = Counter({op: n for op, n in calls.items() if not is_mutating(op)})
    print("    reads: " + ", ".join(f"{op} x{n}" for op, n in sorted(reads.items())))


def _secure(*hosts: str, **annotations: str) -> dict[str, object]:
    """An Ingress on HTTP and HTTPS whose TLS hosts get a managed certificate."""
    obj = ing.ingress(
        "secure",
        rules=[(host, [ing.path("/", "Prefix", "store")]) for host in hosts],
        annotations={"provisioner.io/listen-ports": BOTH_PORTS, **annotations},
    )
    obj["spec"]["tls"] = [{"hosts": list(hosts), "secretName": "unused"}]
    return obj


def _managed(url: str) -> None:
    key = "Ingress/default/secure"
    base = [ing.ingress_class(), *ing.nodes(3), ing.service("store", "default", 30180)]
    steps = [
        ("create", _secure("www.example.com")),
        ("no-op", _secure("www.example.com")),
        ("host added", _secure("www.example.com", "api.example.com")),
        (
            "TLS policy changed",
            _secure(
                "www.example.com", "api.example.com", **{"provisioner.io/tls-policy": "RESTRICTED"}
            ),
        ),
    ]
    for title, ingress in steps:
        _show(f"managed certificate, {title}", _round(url, [*base, ingress], (key,)))
    provider = _provider(url)
    provider.apply(provider.plan(key, None))
    _show("managed certificate, delete", Counter(provider.compute.counter.by_operation()))


def main() -> None:
    with start() as fake:
        seed_cluster(
            fake.url,
            project=PROJECT,
            nodes=[SeedNode(n, z) for n, z in vm_names(3)],
            network="default",
        )
        setup = _provider(fake.url).compute
        setup.mutate(
            "sslCertificates",
            "insert",
            project=PROJECT,
            ssl_certificate_resource={
                "name": ing.CERT,
                "certificate": PEM[0],
                "privateKey": PEM[1],
            },
        )
        objects = [o for o in ing.example() if o["kind"] != "Node"] + ing.nodes(3)
        for key in KEYS:
            _show(f"create {key}", _round(fake.url, objects, (key,)))
        _show("no-op, both keys", _round(fake.url, objects, KEYS))
        more = [
            o for o in objects if not (o["kind"] == "Ingress" and o["metadata"]["name"] == "cart")
        ]
        more.append(ing.cart(ing.path("/basket", "Prefix", "cart")))
        _show(f"add one path, {ing.SHARED}", _round(fake.url, more, (ing.SHARED,)))
        _managed(fake.url)


if __name__ == "__main__":
    main()
