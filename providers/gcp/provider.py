"""The GCP provider: a Service's desired state becomes a passthrough load balancer, an
Ingress key's a global external Application Load Balancer (`application`, `alb_plan`).

`plan` reads what the key owns (listing each collection once and keeping what carries the
key's marks), compares it with the desired state and returns ordered changes; `apply` carries
them out and is safe to run again at any point; `owned` lists every key with resources of
this cluster and class, shared instance-group keys included, for garbage collection. A
shared key planned with no desired state deletes its group once no backend service uses it.
Nothing is remembered between calls except the network found for a set of nodes.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

from providers.base import InvalidSpec, Plan, Status
from providers.gcp import application as a
from providers.gcp import desired as d
from providers.gcp import marks as m
from providers.gcp.alb_context import AppContext
from providers.gcp.alb_observe import AppObserved, observe_application
from providers.gcp.alb_observe import group_users as app_group_users
from providers.gcp.alb_plan import plan_application, plan_application_delete, zones_dropped
from providers.gcp.annotations import ANNOTATIONS
from providers.gcp.client import Compute
from providers.gcp.execute import Executor
from providers.gcp.ingress_annotations import INGRESS_ANNOTATIONS, STATIC_IP
from providers.gcp.network import Network, NodeVm, discover, path_of
from providers.gcp.observe import Lookup, Observed, group_users, observe, owned_keys
from providers.gcp.planner import Context, plan_delete, plan_desired
from provisioner.annotations import AnnotationSet
from provisioner.model import Key, Kind, LoadBalancer, split_key

APPLICATION_KEYS = ("Ingress", "IngressGroup")


@dataclass(frozen=True)
class GcpConfig:
    """What the controller was told: whose resources are ours, and where they live."""

    cluster_name: str
    load_balancer_class: str
    network: str | None = None


class GcpProvider:
    name = "gcp"
    annotations: AnnotationSet = ANNOTATIONS
    ingress_annotations: AnnotationSet = INGRESS_ANNOTATIONS

    def __init__(self, config: GcpConfig, *, compute: Compute) -> None:
        self.config = config
        self.compute = compute
        self.marks = m.Marks(cluster=config.cluster_name, lb_class=config.load_balancer_class)
        self._network: dict[tuple[str, ...], Network] = {}
        self._lock = threading.Lock()

    def network(self, vms: tuple[NodeVm, ...]) -> Network:
        """Network facts for this node set; cached until the set of VMs changes."""
        ids = tuple(sorted(vm.path for vm in vms))
        with self._lock:
            cached = self._network.get(ids)
        if cached is not None:
            return cached
        found = discover(
            self.compute, sorted(vms, key=lambda v: v.path), network=self.config.network
        )
        with self._lock:
            self._network = {ids: found}
        return found

    def plan(self, key: Key, desired: LoadBalancer | None) -> Plan:
        if desired is None:
            if split_key(key)[0] in APPLICATION_KEYS:
                return self._plan_application_delete(key)
            return self._plan_delete(key)
        if desired.key != key:
            raise InvalidSpec(
                f"key: desired state is for {desired.key}, not {key}", field="key", value=key
            )
        if desired.kind is Kind.APPLICATION:
            return self._plan_application(desired)
        d.check_spec(desired)
        project, region = self.compute.project, self.compute.region
        vms = d.node_vms(desired, project=project, region=region)
        location = d.Location(project=project, region=region, network=self.network(vms))
        service = d.build(desired, location, vms=vms, marks=self.marks)
        observed = observe(self.compute, self.marks, key, _lookup(service))
        users = self._users(observed, dropping=_drops_groups(service, observed))
        context = Context(
            marks=self.marks,
            project=project,
            region=region,
            service=service,
            observed=observed,
            users=users,
        )
        changes, summary = plan_desired(context)
        names = {
            "target_groups": {
                b.id: ", ".join(summary["backend_services"].values()) for b in desired.backends
            }
        }
        return Plan(key=key, changes=changes, observed={**summary, **names})

    def _plan_application(self, desired: LoadBalancer) -> Plan:
        """An Ingress key: a global external Application Load Balancer."""
        a.check_application(desired)
        project = self.compute.project
        vms = a.node_vms(desired, project=project, region=self.compute.region)
        found = self.network(vms)
        app = a.build_application(
            desired,
            project=project,
            network=found.network,
            vms=vms,
            marks=self.marks,
            target=found.target,
        )
        observed = observe_application(self.compute, self.marks, desired.key, _app_lookup(app))
        context = AppContext(
            marks=self.marks,
            project=project,
            app=app,
            observed=observed,
            users=app_group_users(self.compute, observed, dropping=zones_dropped(app, observed)),
            static_address=self._static_address(app),
            certificates=self._certificates(app, observed),
        )
        changes, summary = plan_application(context)
        names = {"target_groups": dict(summary["backend_services"])}
        return Plan(key=desired.key, changes=changes, observed={**summary, **names})

    def _static_address(self, app: a.GcpApplication) -> dict[str, object] | None:
        if app.static_ip is None:
            return None
        found = self.compute.get(
            "globalAddresses", project=self.compute.project, address=app.static_ip
        )
        if found is None or not found.get("address"):
            raise InvalidSpec(
                f"{app.key}: annotation {STATIC_IP}: no reserved global address named "
                f"{app.static_ip!r} in project {self.compute.project}; accepted: the name of a "
                "reserved global (not regional) address",
                field=STATIC_IP,
                value=app.static_ip,
            )
        return found

    def _certificates(self, app: a.GcpApplication, observed: AppObserved) -> dict[str, str]:
        """Certificate name -> path of those the user names; checked against the project's
        certificates (read while observing) when a proxy must change, to refuse a name that
        does not exist before any write."""
        project = self.compute.project
        wanted = {c for p in app.proxies for c in p.certificates}
        paths = {c: a.certificate_path(project, c) for c in wanted}
        carried = {
            path_of(str(link))
            for proxy in observed.of("targetHttpsProxies")
            for link in proxy.get("sslCertificates") or []
        }
        if set(paths.values()) <= carried:
            return paths
        existing = {str(c["name"]) for c in observed.all_certificates}
        for name in sorted(wanted):
            if name.rsplit("/", 1)[-1] not in existing:
                raise InvalidSpec(
                    f"{app.key}: annotation provisioner.io/tls-certificates (or "
                    f"ingress.gcp.kubernetes.io/pre-shared-cert): no SSL certificate named "
                    f"{name!r} in project {project}; accepted: names of existing global SSL "
                    "certificates",
                    field="provisioner.io/tls-certificates",
                    value=name,
                )
        return paths

    def _plan_application_delete(self, key: Key) -> Plan:
        observed = observe_application(self.compute, self.marks, key, Lookup())
        dropping = bool(observed.of("backendServices"))
        users = app_group_users(self.compute, observed, dropping=dropping)
        changes = plan_application_delete(self.marks, key, observed, users=users)
        return Plan(key=key, changes=changes, deleting=True)

    def _plan_delete(self, key: Key) -> Plan:
        observed = observe(self.compute, self.marks, key, Lookup())
        dropping = bool(observed.backend_services) or m.zone_of_group_key(key) is not None
        users = self._users(observed, dropping=dropping)
        changes = plan_delete(self.marks, key, observed, region=self.compute.region, users=users)
        return Plan(key=key, changes=changes, deleting=True)

    def _users(self, observed: Observed, *, dropping: bool) -> dict[str, set[str]]:
        """Who uses each instance group; global backend services are read only when a group
        might be deleted (Application load balancers use the same groups)."""
        return group_users(self.compute, observed, include_global=dropping)

    def apply(self, plan: Plan) -> Status:
        return Executor(self.compute, self.marks).run(plan)

    def owned(self) -> set[Key]:
        return owned_keys(self.compute, self.marks)

    def wait_ready(self, status: Status, *, timeout: float) -> Status:
        """A passthrough load balancer serves as soon as its forwarding rules exist."""
        return status

    def call_counts(self) -> Mapping[tuple[str, str, str], int]:
        return self.compute.counter.snapshot()


def _lookup(service: d.GcpService) -> Lookup:
    """Names we would create, to be refused if someone else holds them."""
    return Lookup(
        names={
            "addresses": (service.address_name,),
            "regionHealthChecks": (service.health_check_name,),
            "regionBackendServices": tuple(b.name for b in service.backend_services),
            "firewalls": tuple(f.name for f in service.firewalls),
            "instanceGroups": tuple(g.name for g in service.groups),
        },
        member_zones=tuple(g.zone for g in service.groups),
    )


def _app_lookup(app: a.GcpApplication) -> Lookup:
    """Names an Application Load Balancer would create, to be refused if someone else
    holds them."""
    return Lookup(
        names={
            "globalAddresses": (app.address_name,),
            "healthChecks": tuple(b.health_check_name for b in app.backends),
            "backendServices": tuple(b.name for b in app.backends),
            "urlMaps": tuple(u.name for u in app.url_maps),
            "targetHttpProxies": tuple(p.name for p in app.proxies),
            "targetHttpsProxies": tuple(p.name for p in app.proxies),
            "firewalls": (app.firewall_name,),
            "instanceGroups": tuple(g.name for g in app.groups),
            "sslPolicies": (app.ssl_policy.name,) if app.ssl_policy else (),
            "sslCertificates": ((app.managed_certificate.name,) if app.managed_certificate else ()),
        },
        member_zones=tuple(g.zone for g in app.groups),
    )


def _drops_groups(service: d.GcpService, observed: Observed) -> bool:
    """Whether this plan may leave one of our groups unused (so users must be read fully)."""
    wanted = {g.zone for g in service.groups}
    for backend_service in observed.backend_services:
        for backend in backend_service.get("backends") or []:
            zone = path_of(str(backend.get("group", ""))).split("/")
            if len(zone) > 3 and zone[3] not in wanted:
                return True
    return False
