"""Networks, subnetworks, instances, addresses and firewalls: what a cluster stands on.

Addresses are handed out here too: internal ones from the subnetwork's range, external
ones from fixed pools, never one already used by an instance, an address or a forwarding
rule of the project.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from providers.gcp.fake import checks
from providers.gcp.fake.errors import Invalid, invalid_value, required
from providers.gcp.fake.links import GLOBAL, Key, Location, Scope
from providers.gcp.fake.methods import whole
from providers.gcp.fake.registry import Collection, Context, register
from providers.gcp.fake.store import EXTERNAL_POOLS, Resource, fingerprint, timestamp

NETWORKS = ((Scope.GLOBAL, "networks"),)
SUBNETWORKS = ((Scope.REGION, "subnetworks"),)
AUTO_RANGES = {
    "us-central1": "10.128.0.0/20",
    "europe-west1": "10.132.0.0/20",
    "us-east1": "10.142.0.0/20",
}
"""The ranges an auto-mode network's subnetworks get, as in the real API."""
IPV6_POOL = ipaddress.ip_network("2600:1901:0::/48")


def used_addresses(ctx: Context) -> set[str]:
    """Every IP address some resource of the project holds."""
    taken: set[str] = set()
    for _, instance in ctx.items("instances"):
        for nic in instance.get("networkInterfaces", []):
            taken.add(str(nic.get("networkIP", "")))
            taken.update(str(a.get("natIP", "")) for a in nic.get("accessConfigs", []))
    for _, address in ctx.items("addresses"):
        taken.add(str(address.get("address", "")))
    for _, rule in ctx.items("forwardingRules"):
        taken.add(str(rule.get("IPAddress", "")))
    return taken


def allocate(
    ctx: Context,
    pool: str,
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> str:
    taken = used_addresses(ctx)
    while True:
        candidate = ctx.store.allocate(ctx.project, pool, network)
        if candidate not in taken:
            return candidate


def allocate_external(ctx: Context, location: Location, version: str = "IPV4") -> str:
    if version == "IPV6":
        index = ctx.project.allocated.get("ipv6", 1)
        ctx.project.allocated["ipv6"] = index + 1
        return str(IPV6_POOL.network_address + (index << 64))
    pool = "global" if location.scope is Scope.GLOBAL else "regional"
    return allocate(ctx, pool, EXTERNAL_POOLS[pool])


def subnet_range(subnet: Resource) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(str(subnet["ipCidrRange"]))


def claim_internal(ctx: Context, subnet_link: str, given: object, field: str) -> str:
    """A free internal address of the subnetwork: `given` if it fits, else the next one."""
    subnet = ctx.lookup(subnet_link)
    assert subnet is not None
    network = subnet_range(subnet)
    if given in (None, ""):
        return allocate(ctx, subnet_link, network)
    address = checks.ip(given, field)
    if address not in network or address in (network.network_address, network.network_address + 1):
        raise invalid_value(field, given, f"The address is not usable in {subnet['ipCidrRange']}.")
    if str(address) in used_addresses(ctx):
        raise invalid_value(
            field, given, "The IP address is already being used by another resource."
        )
    return str(address)


# networks --------------------------------------------------------------------------------


def prepare_network(ctx: Context, body: Resource, old: Resource | None) -> None:
    if "IPv4Range" in body:
        raise invalid_value(
            "resource.IPv4Range",
            body["IPv4Range"],
            "Legacy networks are not supported; use a VPC network.",
        )
    body.setdefault("autoCreateSubnetworks", True)
    body.setdefault("routingConfig", {"routingMode": "REGIONAL"})
    checks.one_of(
        body["routingConfig"],
        "routingMode",
        ("REGIONAL", "GLOBAL"),
        default="REGIONAL",
        prefix="resource.routingConfig",
    )
    checks.integer(body, "mtu", default=1460, low=1300, high=8896)
    body.setdefault("networkFirewallPolicyEnforcementOrder", "AFTER_CLASSIC_FIREWALL")
    if old is None and body["autoCreateSubnetworks"]:
        link = ctx.link(ctx.key)
        for region, cidr in AUTO_RANGES.items():
            key = Key(ctx.project.name, Location(Scope.REGION, region), "subnetworks", ctx.key.name)
            network = ipaddress.ip_network(cidr)
            ctx.project.resources[key] = {
                "kind": "compute#subnetwork",
                "id": ctx.store.new_id(),
                "creationTimestamp": timestamp(),
                "name": key.name,
                "network": link,
                "ipCidrRange": cidr,
                "gatewayAddress": str(network.network_address + 1),
                "region": ctx.location_link(key.location),
                "purpose": "PRIVATE",
                "stackType": "IPV4_ONLY",
                "privateIpGoogleAccess": False,
                "selfLink": ctx.link(key),
                "_auto": True,
            }
            subnet = ctx.project.resources[key]
            subnet["fingerprint"] = fingerprint(whole(subnet))


def render_network(ctx: Context, network: Resource) -> Resource:
    link = network["selfLink"]
    subnets = sorted(s["selfLink"] for _, s in ctx.items("subnetworks") if s["network"] == link)
    return {**network, "subnetworks": subnets} if subnets else network


def delete_network(ctx: Context, network: Resource) -> None:
    """An auto-mode network takes its automatic subnetworks with it."""
    for key, subnet in list(ctx.items("subnetworks")):
        if subnet.get("_auto") and subnet["network"] == network["selfLink"]:
            del ctx.project.resources[key]


# subnetworks -----------------------------------------------------------------------------


def prepare_subnetwork(ctx: Context, body: Resource, old: Resource | None) -> None:
    body["network"] = ctx.require(
        body.get("network"), field="resource.network", collections=NETWORKS, default=GLOBAL
    )
    network = checks.cidr(checks.present(body, "ipCidrRange"), "resource.ipCidrRange")
    if network.version != 4 or not 8 <= network.prefixlen <= 29:
        raise invalid_value(
            "resource.ipCidrRange",
            body["ipCidrRange"],
            "Must be an IPv4 range with a prefix length between 8 and 29.",
        )
    for key, other in ctx.items("subnetworks"):
        if (
            key != ctx.key
            and other["network"] == body["network"]
            and subnet_range(other).overlaps(network)
        ):
            raise invalid_value(
                "resource.ipCidrRange",
                body["ipCidrRange"],
                f"It conflicts with existing subnetwork '{key.path}'.",
            )
    purpose = checks.one_of(
        body,
        "purpose",
        ("PRIVATE", "REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY", "PRIVATE_SERVICE_CONNECT"),
        default="PRIVATE",
    )
    if purpose in ("REGIONAL_MANAGED_PROXY", "GLOBAL_MANAGED_PROXY"):
        checks.one_of(body, "role", ("ACTIVE", "BACKUP"), default="ACTIVE")
    else:
        body["gatewayAddress"] = str(network.network_address + 1)
    body.setdefault("privateIpGoogleAccess", False)
    body.setdefault("stackType", "IPV4_ONLY")
    for index, secondary in enumerate(body.get("secondaryIpRanges", [])):
        checks.cidr(
            secondary.get("ipCidrRange"), f"resource.secondaryIpRanges[{index}].ipCidrRange"
        )


def subnetwork_refs(subnet: Resource) -> Iterable[str]:
    return () if subnet.get("_auto") else (subnet["network"],)


# instances -------------------------------------------------------------------------------


def _nic_subnet(ctx: Context, nic: dict[str, Any], field: str) -> str:
    region = Location(Scope.REGION, ctx.location.region)
    if nic.get("subnetwork"):
        key = ctx.parse(
            nic["subnetwork"], field=f"{field}.subnetwork", collections=SUBNETWORKS, default=region
        )
        if key.location != region:
            raise invalid_value(
                f"{field}.subnetwork",
                nic["subnetwork"],
                f"The subnetwork must be in region {region.name}.",
            )
        return ctx.require(
            nic["subnetwork"], field=f"{field}.subnetwork", collections=SUBNETWORKS, default=region
        )
    if not nic.get("network"):
        raise required(f"{field}.network")
    network = ctx.require(
        nic["network"], field=f"{field}.network", collections=NETWORKS, default=GLOBAL
    )
    for key, subnet in ctx.items("subnetworks"):
        if subnet["network"] == network and key.location == region and subnet.get("_auto"):
            return ctx.link(key)
    raise required(f"{field}.subnetwork")


def prepare_instance(ctx: Context, body: Resource, old: Resource | None) -> None:
    machine = str(checks.present(body, "machineType"))
    if "/" not in machine:
        machine = f"{ctx.location_link(ctx.location)}/machineTypes/{machine}"
    body["machineType"] = machine
    nics = checks.present(body, "networkInterfaces")
    for index, nic in enumerate(nics):
        field = f"resource.networkInterfaces[{index}]"
        nic["subnetwork"] = _nic_subnet(ctx, nic, field)
        subnet = ctx.lookup(nic["subnetwork"])
        assert subnet is not None
        nic["network"] = subnet["network"]
        nic["networkIP"] = claim_internal(
            ctx, nic["subnetwork"], nic.get("networkIP"), f"{field}.networkIP"
        )
        nic["name"] = f"nic{index}"
        nic["kind"] = "compute#networkInterface"
        nic.setdefault("stackType", "IPV4_ONLY")
        for config in nic.get("accessConfigs", []):
            config.setdefault("type", "ONE_TO_ONE_NAT")
            config.setdefault("name", "External NAT")
            config.setdefault("networkTier", "PREMIUM")
            config["kind"] = "compute#accessConfig"
            if not config.get("natIP"):
                config["natIP"] = allocate_external(
                    ctx, Location(Scope.REGION, ctx.location.region)
                )
    tags = body.get("tags") or {}
    items = list(tags.get("items", []))
    body["tags"] = (
        {"items": items, "fingerprint": fingerprint(items)}
        if items
        else {"fingerprint": fingerprint([])}
    )
    body["status"] = "RUNNING"
    body.setdefault("canIpForward", False)
    body.setdefault("deletionProtection", False)


def instance_refs(instance: Resource) -> Iterable[str]:
    for nic in instance.get("networkInterfaces", []):
        yield nic["network"]
        yield nic["subnetwork"]


def delete_instance(ctx: Context, instance: Resource) -> None:
    """Deleting an instance takes it out of every unmanaged instance group."""
    for _, group in ctx.items("instanceGroups"):
        members = group.get("_members", [])
        if instance["selfLink"] in members:
            members.remove(instance["selfLink"])


# addresses -------------------------------------------------------------------------------


def prepare_address(ctx: Context, body: Resource, old: Resource | None) -> None:
    regional = ctx.location.scope is Scope.REGION
    kind = checks.one_of(body, "addressType", ("EXTERNAL", "INTERNAL"), default="EXTERNAL")
    version = checks.one_of(body, "ipVersion", ("IPV4", "IPV6"), default="IPV4")
    checks.one_of(body, "networkTier", ("PREMIUM", "STANDARD"), default="PREMIUM")
    if body["networkTier"] == "STANDARD" and not regional:
        raise invalid_value(
            "resource.networkTier", "STANDARD", "Global addresses must use the PREMIUM tier."
        )
    if kind == "INTERNAL":
        if not regional:
            raise invalid_value(
                "resource.addressType", kind, "Internal global addresses are not modelled."
            )
        body["subnetwork"] = ctx.require(
            body.get("subnetwork"), field="resource.subnetwork", collections=SUBNETWORKS
        )
        body["address"] = claim_internal(
            ctx, body["subnetwork"], body.get("address"), "resource.address"
        )
        body.setdefault("purpose", "GCE_ENDPOINT")
        return
    if version == "IPV6" and regional:
        raise invalid_value(
            "resource.ipVersion", version, "Regional external IPv6 addresses are not modelled."
        )
    if body.get("address"):
        raise invalid_value(
            "resource.address",
            body["address"],
            "External addresses are chosen by the API; leave it empty.",
        )
    body["address"] = allocate_external(ctx, ctx.location, version or "IPV4")
    if version == "IPV6":
        body["prefixLength"] = 64


def render_address(ctx: Context, address: Resource) -> Resource:
    link = address["selfLink"]
    users = sorted(
        r["selfLink"] for _, r in ctx.items("forwardingRules") if r.get("_address") == link
    )
    shown = {**address, "status": "IN_USE" if users else "RESERVED"}
    if users:
        shown["users"] = users
    return shown


def address_refs(address: Resource) -> Iterable[str]:
    return [address[f] for f in ("subnetwork", "network") if address.get(f)]


# firewalls -------------------------------------------------------------------------------

PROTOCOLS = ("tcp", "udp", "icmp", "esp", "ah", "sctp", "ipip", "all")


def _rules(body: Resource, name: str) -> None:
    for index, rule in enumerate(body.get(name, [])):
        field = f"resource.{name}[{index}]"
        protocol = str(checks.present(rule, "IPProtocol", field)).lower()
        if protocol not in PROTOCOLS and not (protocol.isdigit() and int(protocol) < 256):
            raise invalid_value(f"{field}.IPProtocol", protocol, "Unknown protocol.")
        ports = rule.get("ports", [])
        if ports and protocol not in ("tcp", "udp", "sctp", "all"):
            raise invalid_value(f"{field}.ports", ports, "Ports need tcp, udp or sctp.")
        for port in ports:
            checks.port_range(port, f"{field}.ports")


def prepare_firewall(ctx: Context, body: Resource, old: Resource | None) -> None:
    body["network"] = ctx.require(
        body.get("network") or "global/networks/default",
        field="resource.network",
        collections=NETWORKS,
        default=GLOBAL,
    )
    direction = checks.one_of(body, "direction", ("INGRESS", "EGRESS"), default="INGRESS")
    checks.integer(body, "priority", default=1000, low=0, high=65535)
    if bool(body.get("allowed")) == bool(body.get("denied")):
        raise Invalid(
            "Invalid value for field 'resource.allowed': exactly one of 'allowed' "
            "or 'denied' must be specified."
        )
    _rules(body, "allowed")
    _rules(body, "denied")
    ranges = "sourceRanges" if direction == "INGRESS" else "destinationRanges"
    for index, value in enumerate(body.get(ranges, [])):
        checks.cidr(value, f"resource.{ranges}[{index}]")
    if body.get("targetTags") and body.get("targetServiceAccounts"):
        raise invalid_value(
            "resource.targetServiceAccounts",
            body["targetServiceAccounts"],
            "Target service accounts cannot be combined with target tags.",
        )
    if direction == "INGRESS" and not any(
        body.get(f) for f in ("sourceRanges", "sourceTags", "sourceServiceAccounts")
    ):
        body["sourceRanges"] = ["0.0.0.0/0"]
    if direction == "EGRESS" and not body.get("destinationRanges"):
        body["destinationRanges"] = ["0.0.0.0/0"]
    body.setdefault("disabled", False)
    body.setdefault("logConfig", {"enable": False})


register(
    Collection(
        "networks",
        "networks",
        Scope.GLOBAL,
        "compute#network",
        "network",
        methods=frozenset({"get", "list", "insert", "delete", "patch"}),
        prepare=prepare_network,
        render=render_network,
        on_delete=delete_network,
    ),
    Collection(
        "subnetworks",
        "subnetworks",
        Scope.REGION,
        "compute#subnetwork",
        "subnetwork",
        methods=frozenset({"get", "list", "insert", "delete", "patch", "aggregatedList"}),
        prepare=prepare_subnetwork,
        refs=subnetwork_refs,
        fingerprint=whole,
    ),
    Collection(
        "instances",
        "instances",
        Scope.ZONE,
        "compute#instance",
        "instance",
        methods=frozenset({"get", "list", "insert", "delete", "aggregatedList", "setLabels"}),
        prepare=prepare_instance,
        refs=instance_refs,
        fingerprint=whole,
        labels=True,
        on_delete=delete_instance,
    ),
    Collection(
        "addresses",
        "addresses",
        Scope.REGION,
        "compute#address",
        "address",
        methods=frozenset({"get", "list", "insert", "delete", "aggregatedList", "setLabels"}),
        prepare=prepare_address,
        refs=address_refs,
        render=render_address,
        labels=True,
    ),
    Collection(
        "globalAddresses",
        "addresses",
        Scope.GLOBAL,
        "compute#address",
        "address",
        methods=frozenset({"get", "list", "insert", "delete", "setLabels"}),
        prepare=prepare_address,
        refs=address_refs,
        render=render_address,
        labels=True,
    ),
    Collection(
        "firewalls",
        "firewalls",
        Scope.GLOBAL,
        "compute#firewall",
        "firewall",
        methods=frozenset({"get", "list", "insert", "delete", "patch", "update"}),
        prepare=prepare_firewall,
        refs=lambda r: (r["network"],),
    ),
)
