"""The fake's state: one store of resources per project, plus the call log.

State is plain dicts keyed by `Key`, guarded by one lock: the HTTP server handles each
request on its own thread, and a request's checks and writes must see one consistent
project. Ids and addresses come from counters and a seeded generator, so a run after
`reset` hands out the same values as a fresh start.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from providers.gcp.fake.errors import invalid_value
from providers.gcp.fake.links import GLOBAL, GOOGLE_BASE, Key, Scope, parse_link

Resource = dict[str, Any]

ID_SEED = 20240601
HEALTH_STATES = ("HEALTHY", "UNHEALTHY", "DRAINING", "TIMEOUT", "UNKNOWN")
EXTERNAL_POOLS = {
    "regional": ipaddress.ip_network("34.56.0.0/16"),
    "global": ipaddress.ip_network("35.190.0.0/16"),
}
"""Where ephemeral and reserved external addresses come from."""


def timestamp() -> str:
    """RFC 3339 with milliseconds and an explicit offset, as the API writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def fingerprint(content: object) -> str:
    """Base64 of the first 8 bytes of a SHA-256 of `content`, like the API's fingerprints."""
    data = json.dumps(content, sort_keys=True, separators=(",", ":")).encode()
    return base64.b64encode(hashlib.sha256(data).digest()[:8]).decode()


@dataclass(frozen=True)
class Call:
    """One request the fake answered (admin endpoints excluded)."""

    method: str
    path: str
    operation: str
    """``<collection api name>.<method>``, e.g. ``regionBackendServices.insert``; "" if unknown."""
    project: str
    status: int

    def to_json(self) -> dict[str, object]:
        return {
            "method": self.method,
            "path": self.path,
            "operation": self.operation,
            "project": self.project,
            "status": self.status,
        }


@dataclass
class Project:
    name: str
    resources: dict[Key, Resource] = field(default_factory=dict)
    polls_left: dict[Key, int] = field(default_factory=dict)
    """Operation key -> how many more polls report it RUNNING."""
    request_ids: dict[str, Resource] = field(default_factory=dict)
    """requestId -> the operation it started, so a retried mutation is not applied twice."""
    allocated: dict[str, int] = field(default_factory=dict)
    """Address pool -> the next host index to hand out."""
    health: dict[str, str] = field(default_factory=dict)
    """Instance link -> the healthState getHealth reports (HEALTHY when absent)."""


class Store:
    """Every project's resources, the operations switch and the call log."""

    def __init__(self, *, link_base: str = GOOGLE_BASE) -> None:
        self.lock = threading.RLock()
        self.link_base = link_base.rstrip("/")
        self.projects: dict[str, Project] = {}
        self.pending_polls = 0
        self.call_log: list[Call] = []
        self._ids = random.Random(ID_SEED)
        self._used_ids: set[str] = set()
        self._operation_counter = 0

    def reset(self) -> None:
        """Forget every project and the call log; back to DONE-at-once operations."""
        with self.lock:
            self.projects.clear()
            self.pending_polls = 0
            self.call_log.clear()
            self._ids = random.Random(ID_SEED)
            self._used_ids.clear()
            self._operation_counter = 0

    def project(self, name: str) -> Project:
        """Any project id is accepted; each gets its own empty store on first use."""
        found = self.projects.get(name)
        if found is None:
            found = self.projects[name] = Project(name)
        return found

    def new_id(self) -> str:
        """A unique numeric string id of the size the API uses (uint64, 19 digits)."""
        while True:
            value = str(self._ids.randrange(10**18, 10**19))
            if value not in self._used_ids:
                self._used_ids.add(value)
                return value

    def new_operation_name(self) -> str:
        self._operation_counter += 1
        stamp = int(datetime.now(UTC).timestamp() * 1000)
        return f"operation-{stamp}-{self._operation_counter:06d}-{self._ids.getrandbits(32):08x}"

    def link(self, key: Key) -> str:
        return key.link(self.link_base)

    def allocate(
        self, project: Project, pool: str, network: ipaddress.IPv4Network | ipaddress.IPv6Network
    ) -> str:
        """The next address of `network` not yet handed out in `project` (skips .0 and .1)."""
        index = project.allocated.get(pool, 2)
        project.allocated[pool] = index + 1
        if index >= network.num_addresses - 1:
            raise RuntimeError(f"address pool {pool} is exhausted")
        return str(network.network_address + index)

    def set_health(self, instance: str, state: str) -> None:
        """What getHealth reports for `instance` (a full link or ``projects/p/zones/z/...``)."""
        if state not in HEALTH_STATES:
            raise invalid_value("state", state, f"Must be one of {', '.join(HEALTH_STATES)}.")
        key = parse_link(
            instance,
            field="instance",
            project="",
            collections=((Scope.ZONE, "instances"),),
            default=GLOBAL,
        )
        if not key.project:
            raise invalid_value("instance", instance, "Give projects/<p>/zones/<z>/instances/<n>.")
        with self.lock:
            self.project(key.project).health[self.link(key)] = state

    def record(self, call: Call) -> None:
        with self.lock:
            self.call_log.append(call)
