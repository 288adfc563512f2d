"""Every annotation key the core knows, with typed parsers, and how cloud aliases map onto them.

Annotations are parsed once, here, into typed values. The portable vocabulary lives under
`provisioner.io/`; each provider contributes aliases (the names its cloud's own controller
uses) that map onto the same fields, so a manifest written for that controller works
unchanged. When a portable key and an alias give different values for one field, the object
gets an error naming both: silently preferring one would hide a mistake.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

PREFIX = "provisioner.io/"


class SpecError(ValueError):
    """An object's spec or annotations cannot be used; the message names field, value, accepted."""

    def __init__(self, message: str, *, field: str = "", value: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class ParseError(ValueError):
    """Raised by parsers; `accepted` describes what would have been valid."""

    def __init__(self, accepted: str) -> None:
        super().__init__(accepted)
        self.accepted = accepted


Parser = Callable[[str], Any]


def choice(*values: str) -> Parser:
    def parse(raw: str) -> str:
        value = raw.strip()
        if value not in values:
            raise ParseError("one of " + ", ".join(values))
        return value

    return parse


def boolean(raw: str) -> bool:
    value = raw.strip().lower()
    if value == "true":
        return True
    if value == "false":
        return False
    raise ParseError('"true" or "false"')


def integer(low: int, high: int) -> Parser:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip(), 10)
        except ValueError:
            raise ParseError(f"an integer from {low} to {high}") from None
        if not low <= value <= high:
            raise ParseError(f"an integer from {low} to {high}")
        return value

    return parse


def string_list(raw: str) -> tuple[str, ...]:
    """`a,b, c` -> ("a", "b", "c"); empty items are refused rather than dropped."""
    items = tuple(item.strip() for item in raw.split(","))
    if not raw.strip() or any(not item for item in items):
        raise ParseError("a comma-separated list of non-empty values")
    return items


def string_map(raw: str) -> dict[str, str]:
    """`k=v,k2=v2` -> {"k": "v", "k2": "v2"}; a key given twice is refused."""
    result: dict[str, str] = {}
    if not raw.strip():
        raise ParseError("a comma-separated list of key=value pairs")
    for item in raw.split(","):
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            raise ParseError("a comma-separated list of key=value pairs")
        if key in result:
            raise ParseError(f"a comma-separated list of key=value pairs, each key once ({key})")
        result[key] = value
    return result


def cidr_list(raw: str) -> tuple[str, ...]:
    values = string_list(raw)
    out = []
    for value in values:
        try:
            out.append(str(ipaddress.ip_network(value, strict=False)))
        except ValueError:
            raise ParseError(f"a comma-separated list of CIDRs ({value!r} is not one)") from None
    return tuple(out)


_CODES = re.compile(r"^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$")


def success_codes(raw: str) -> str:
    value = raw.strip()
    if not _CODES.match(value):
        raise ParseError("HTTP codes such as 200, 200,202 or 200-399")
    return value


def health_port(raw: str) -> int | None:
    """`traffic-port` (None) or a port number."""
    value = raw.strip()
    if value == "traffic-port":
        return None
    try:
        port = int(value, 10)
    except ValueError:
        raise ParseError('"traffic-port" or a port number from 1 to 65535') from None
    if not 1 <= port <= 65535:
        raise ParseError('"traffic-port" or a port number from 1 to 65535')
    return port


def port_number(raw: str) -> int:
    return int(integer(1, 65535)(raw))


_LISTEN_ACCEPTED = 'a JSON list of {"PROTOCOL": port} objects, e.g. [{"HTTP": 80}, {"HTTPS": 443}]'


def listen_ports(raw: str) -> tuple[tuple[str, int], ...]:
    """`[{"HTTP": 80}, {"HTTPS": 443}]` -> (("HTTP", 80), ("HTTPS", 443)), sorted by port.

    A port listed twice with different protocols is refused: one port has one listener.
    """
    try:
        items = json.loads(raw)
    except ValueError:
        raise ParseError(_LISTEN_ACCEPTED) from None
    if not isinstance(items, list) or not items:
        raise ParseError(_LISTEN_ACCEPTED)
    found: dict[int, str] = {}
    for item in items:
        if not isinstance(item, dict) or len(item) != 1:
            raise ParseError(_LISTEN_ACCEPTED)
        ((protocol, port),) = item.items()
        if protocol not in ("HTTP", "HTTPS"):
            raise ParseError(_LISTEN_ACCEPTED + f" with protocol HTTP or HTTPS (not {protocol!r})")
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            raise ParseError(_LISTEN_ACCEPTED + f" with ports from 1 to 65535 (not {port!r})")
        if found.get(port, protocol) != protocol:
            raise ParseError(_LISTEN_ACCEPTED + f", each port with one protocol ({port})")
        found[port] = protocol
    return tuple((protocol, port) for port, protocol in sorted(found.items()))


_GROUP_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$")


def group_name(raw: str) -> str:
    """Group names become part of a key (`IngressGroup/<name>`), hence the strict shape."""
    value = raw.strip()
    if not _GROUP_NAME.match(value):
        raise ParseError(
            "at most 63 characters of a-z, 0-9, '-' and '.', starting and ending with a letter "
            "or digit"
        )
    return value


_ANY_CODES = re.compile(r"^\d{1,3}(-\d{1,3})?(,\d{1,3}(-\d{1,3})?)*$")


def response_codes(raw: str) -> str:
    """HTTP codes (200, 200-299) or, for gRPC backends, gRPC codes (0, 0-99)."""
    value = raw.strip()
    if not _ANY_CODES.match(value):
        raise ParseError("codes such as 200, 200,202, 200-399 (gRPC: 0, 0-99)")
    return value


def http_path(raw: str) -> str:
    value = raw.strip()
    if not value.startswith("/") or len(value) > 1024 or any(c.isspace() for c in value):
        raise ParseError("a path starting with / (at most 1024 characters, no spaces)")
    return value


@dataclass(frozen=True)
class Setting:
    """One portable annotation: `provisioner.io/<name>` sets `field`."""

    name: str
    field: str
    parse: Parser
    accepted: str
    default: str
    description: str

    @property
    def key(self) -> str:
        return PREFIX + self.name


@dataclass(frozen=True)
class Alias:
    """A cloud controller's annotation; `expand` turns its raw value into field values.

    One native annotation may set several fields (an attribute map that holds both deletion
    protection and cross-zone, say), so `expand` returns a dict of field -> value.
    """

    key: str
    expand: Callable[[str], dict[str, Any]]
    accepted: str
    fields: tuple[str, ...]


def alias(key: str, field: str, parse: Parser, accepted: str) -> Alias:
    return Alias(
        key=key, expand=lambda raw: {field: parse(raw)}, accepted=accepted, fields=(field,)
    )


@dataclass(frozen=True)
class AnnotationSet:
    """What a provider adds to the portable vocabulary: aliases, and its own settings."""

    aliases: tuple[Alias, ...] = ()
    settings: tuple[Setting, ...] = ()
    ignored: frozenset[str] = field(default_factory=frozenset)
    unsupported: Mapping[str, str] = field(default_factory=dict)
    """Native annotations we recognise but cannot honour yet, with what to do instead.

    Ignoring them would give a load balancer that differs from what the manifest asks for
    (other addresses, say), so they are errors on the object."""
    unsupported_prefixes: Mapping[str, str] = field(default_factory=dict)
    """The same for families of native annotations (`alb.ingress.kubernetes.io/actions.NAME`)."""
    host_check: Callable[[str], None] | None = None
    """Raises ParseError when the cloud cannot match this Ingress host (application only)."""
    path_check: Callable[[str, str], None] | None = None
    """Raises ParseError when the cloud cannot match this path of this path type
    (`exact`, `prefix`, `glob`): routing must be exact or refused, never approximated."""
    class_params: Mapping[str, str] = field(default_factory=dict)
    """IngressClassParams fields under `spec.providers.<provider>`, each read as the native
    annotation it names (a map becomes `k=v,...`, a list `a,b`), so one parser serves both."""


def _setting(name: str, parse: Parser, accepted: str, default: str, description: str) -> Setting:
    return Setting(
        name=name,
        field=name.replace("-", "_"),
        parse=parse,
        accepted=accepted,
        default=default,
        description=description,
    )


PORTABLE: tuple[Setting, ...] = (
    _setting(
        "scheme",
        choice("internet-facing", "internal"),
        "internet-facing, internal",
        "internal",
        "Whether the load balancer has public addresses.",
    ),
    _setting(
        "target-type",
        choice("instance", "ip"),
        "instance, ip",
        "instance",
        "Send traffic to node ports (instance) or straight to pod IPs (ip).",
    ),
    _setting(
        "load-balancer-name",
        lambda raw: raw.strip(),
        "a name the cloud accepts",
        "derived from the object",
        "Fixed name; changing it replaces the load balancer.",
    ),
    _setting(
        "subnets",
        string_list,
        "comma-separated subnet ids or names",
        "discovered by role tags",
        "Subnets to place the load balancer in, one per zone.",
    ),
    _setting(
        "ip-address-type",
        choice("ipv4", "dualstack"),
        "ipv4, dualstack",
        "ipv4",
        "Address families of the frontend.",
    ),
    _setting(
        "tls-certificates",
        string_list,
        "comma-separated certificate ids",
        "none",
        "Certificates for TLS listeners; the first is the default, others SNI.",
    ),
    _setting(
        "tls-ports",
        string_list,
        "comma-separated port numbers or port names, or *",
        "all ports when certificates are set",
        "Which Service ports terminate TLS.",
    ),
    _setting(
        "tls-policy",
        lambda raw: raw.strip(),
        "a TLS policy name of the cloud",
        "ELBSecurityPolicy-TLS13-1-2-2021-06",
        "TLS versions and ciphers offered.",
    ),
    _setting(
        "backend-protocol",
        choice("tcp", "tls"),
        "tcp, tls",
        "tcp",
        "Protocol from the load balancer to the targets on TLS listeners.",
    ),
    _setting(
        "healthcheck-protocol",
        choice("tcp", "http", "https"),
        "tcp, http, https",
        "tcp (http on healthCheckNodePort with externalTrafficPolicy Local)",
        "Health-check protocol.",
    ),
    _setting(
        "healthcheck-port",
        health_port,
        "traffic-port or 1-65535",
        "traffic-port",
        "Health-check port.",
    ),
    _setting(
        "healthcheck-path",
        http_path,
        "a path starting with /",
        "/",
        "Health-check path for http(s).",
    ),
    _setting(
        "healthcheck-healthy-threshold",
        integer(2, 10),
        "an integer from 2 to 10",
        "3",
        "Consecutive successes before a target is healthy.",
    ),
    _setting(
        "healthcheck-unhealthy-threshold",
        integer(2, 10),
        "an integer from 2 to 10",
        "3",
        "Consecutive failures before a target is unhealthy.",
    ),
    _setting(
        "healthcheck-timeout",
        integer(2, 120),
        "seconds from 2 to 120",
        "10",
        "Health-check timeout.",
    ),
    _setting(
        "healthcheck-interval",
        integer(5, 300),
        "seconds from 5 to 300",
        "10",
        "Seconds between health checks.",
    ),
    _setting(
        "healthcheck-success-codes",
        success_codes,
        "codes like 200, 200,202, 200-399",
        "200-399",
        "HTTP codes that count as healthy.",
    ),
    _setting(
        "proxy-protocol",
        boolean,
        "true, false",
        "false",
        "Prepend PROXY protocol v2 headers on connections to the targets.",
    ),
    _setting(
        "backend-attributes",
        string_map,
        "key=value pairs the cloud accepts",
        "none",
        "Target group / backend attributes, passed to the cloud as given.",
    ),
    _setting(
        "deletion-protection",
        boolean,
        "true, false",
        "false",
        "Refuse deletion of the load balancer in the cloud.",
    ),
    _setting(
        "cross-zone",
        boolean,
        "true, false",
        "false",
        "Balance across zones rather than within the zone a connection arrived in.",
    ),
    _setting(
        "tags",
        string_map,
        "key=value pairs (no provisioner.io/ keys)",
        "none",
        "Extra tags on every resource created.",
    ),
    _setting(
        "security-groups",
        string_list,
        "comma-separated security group ids or names",
        "a managed security group",
        "Frontend security groups instead of a managed one.",
    ),
    _setting(
        "manage-backend-security-group-rules",
        boolean,
        "true, false",
        "true (false when security-groups is set)",
        "Add node security group rules allowing the load balancer to reach targets.",
    ),
    _setting(
        "source-ranges",
        cidr_list,
        "comma-separated CIDRs",
        "0.0.0.0/0 (and ::/0)",
        "Clients allowed to connect (spec.loadBalancerSourceRanges is the same).",
    ),
    _setting(
        "target-node-labels",
        string_map,
        "key=value pairs",
        "all eligible nodes",
        "Only nodes with these labels receive traffic in instance mode.",
    ),
)


SERVICE_ONLY = frozenset({"tls-ports", "proxy-protocol", "cross-zone"})
"""Portable settings with no meaning on an Ingress (ALBs always balance across zones)."""

INGRESS_ONLY: tuple[Setting, ...] = (
    _setting(
        "listen-ports",
        listen_ports,
        'JSON such as [{"HTTP": 80}, {"HTTPS": 443}]',
        "HTTP:80, or HTTPS:443 when certificates are set",
        "Listeners an Ingress's rules are served on.",
    ),
    _setting(
        "ssl-redirect",
        port_number,
        "an HTTPS listen port",
        "none",
        "Every HTTP listener redirects to HTTPS on this port instead of routing.",
    ),
    _setting(
        "group-name",
        group_name,
        "at most 63 of a-z, 0-9, -, .",
        "none (the Ingress has its own load balancer)",
        "Ingresses with the same group name share one load balancer.",
    ),
    _setting(
        "group-order",
        integer(-1000, 1000),
        "an integer from -1000 to 1000",
        "0",
        "Rule precedence within a group: lower first, then namespace/name.",
    ),
    _setting(
        "backend-protocol-version",
        choice("HTTP1", "HTTP2", "GRPC"),
        "HTTP1, HTTP2, GRPC",
        "HTTP1",
        "Protocol version from the load balancer to the targets.",
    ),
    _setting(
        "backend-timeout",
        integer(1, 86400),
        "seconds from 1 to 86400",
        "30",
        "How long the load balancer waits for a backend's response.",
    ),
    _setting(
        "connection-draining-timeout",
        integer(0, 3600),
        "seconds from 0 to 3600",
        "0",
        "How long a target being removed keeps its open requests.",
    ),
    _setting(
        "session-affinity",
        choice("none", "client-ip", "cookie"),
        "none, client-ip, cookie",
        "none",
        "Send a client's requests to the same target (by address, or a generated cookie).",
    ),
)

_INGRESS_VARIANTS: dict[str, dict[str, Any]] = {
    "backend-protocol": {
        "parse": choice("http", "https"),
        "accepted": "http, https",
        "default": "http",
        "description": "Protocol from the load balancer to the targets.",
    },
    "healthcheck-protocol": {
        "parse": choice("http", "https"),
        "accepted": "http, https",
        "default": "the backend protocol",
    },
    "healthcheck-success-codes": {
        "parse": response_codes,
        "accepted": "codes like 200, 200-399 (gRPC: 0-99)",
        "default": "200 (gRPC: 12)",
    },
    "healthcheck-healthy-threshold": {"default": "2"},
    "healthcheck-unhealthy-threshold": {"default": "2"},
    "healthcheck-timeout": {"default": "5"},
    "healthcheck-interval": {"default": "15"},
}

INGRESS_PORTABLE: tuple[Setting, ...] = (
    *(
        replace(s, **_INGRESS_VARIANTS.get(s.name, {}))
        for s in PORTABLE
        if s.name not in SERVICE_ONLY
    ),
    *INGRESS_ONLY,
)
"""The vocabulary on Ingresses: the same names, with what an HTTP load balancer accepts."""


class Resolved(dict[str, Any]):
    """Field values, remembering which annotation set each one (for error messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.sources: dict[str, str] = {}

    def key_of(self, name: str) -> str:
        """The annotation that set field `name`, or its portable key if none did."""
        return self.sources.get(name, PREFIX + name.replace("_", "-"))


def resolve(
    annotations: Mapping[str, str],
    *,
    extra: AnnotationSet,
    portable: tuple[Setting, ...] = PORTABLE,
) -> Resolved:
    """Parse every known annotation of an object into {field: value}.

    Raises SpecError naming the key, the value and what is accepted, or naming both keys
    when a portable annotation and an alias disagree. Unknown `provisioner.io/` keys are
    errors too: a typo would otherwise be silently ignored.
    """
    values = Resolved()
    source = values.sources
    settings = {s.key: s for s in (*portable, *extra.settings)}
    for key in sorted(annotations):
        raw = annotations[key]
        setting = settings.get(key)
        if setting is not None:
            _store(values, source, key, {setting.field: _parse(key, raw, setting)})
        elif key.startswith(PREFIX) and key not in extra.ignored:
            known = ", ".join(sorted(s.key for s in settings.values()))
            raise SpecError(
                f"annotation {key}: unknown provisioner.io annotation; known: {known}",
                field=key,
                value=raw,
            )
    for key in sorted(set(annotations) & set(extra.unsupported)):
        raise SpecError(
            f"annotation {key}: not supported yet; {extra.unsupported[key]}",
            field=key,
            value=annotations[key],
        )
    for key in sorted(annotations):
        for prefix, advice in extra.unsupported_prefixes.items():
            if key.startswith(prefix):
                raise SpecError(
                    f"annotation {key}: not supported yet; {advice}",
                    field=key,
                    value=annotations[key],
                )
    for item in extra.aliases:
        if item.key in annotations:
            raw = annotations[item.key]
            try:
                expanded = item.expand(raw)
            except ParseError as err:
                raise SpecError(
                    f"annotation {item.key}: invalid value {raw!r}; accepted: {err.accepted}",
                    field=item.key,
                    value=raw,
                ) from None
            _store(values, source, item.key, expanded)
    return values


def _parse(key: str, raw: str, setting: Setting) -> Any:
    try:
        return setting.parse(raw)
    except ParseError as err:
        raise SpecError(
            f"annotation {key}: invalid value {raw!r}; accepted: {err.accepted}",
            field=key,
            value=raw,
        ) from None


def _store(
    values: dict[str, Any], source: dict[str, str], key: str, expanded: Mapping[str, Any]
) -> None:
    for name, value in expanded.items():
        if name in values and values[name] != value:
            raise SpecError(
                f"annotations {source[name]} and {key} disagree on {name.replace('_', '-')}: "
                f"{_show(values[name])} versus {_show(value)}; remove one or make them equal",
                field=f"{source[name]}, {key}",
                value=_show(value),
            )
        if name in values and isinstance(value, dict):
            continue
        values[name] = value
        source.setdefault(name, key)


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items())
    return str(value)
