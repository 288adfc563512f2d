"""The one gateway to Compute Engine: every call goes through `Compute.call`.

Policy is layered here so that the provider never thinks about it: retries of throttling,
5xx and connection errors only (tenacity, full jitter, bounded attempts; the SDK's own retry
is switched off per call), a counter of every attempt by (service, operation, outcome),
translation of google-api-core errors into the neutral hierarchy with the original chained,
and waiting for operations through operations clients built with the same endpoint options
(the SDK's `ExtendedOperation.result()` would build its own client for the real endpoint).

The provider speaks the REST shape throughout: request bodies are camelCase dicts as the
Compute API documents them, turned into SDK messages here, and responses come back as dicts.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import compute_v1
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from providers.base import ProviderError, Unavailable
from providers.calls import CallCounter, outcome
from providers.gcp.errors import operation_error, translate

SERVICE = "compute"
READ_METHODS = frozenset({"get", "list", "aggregatedList", "listInstances", "getHealth", "wait"})
TIMEOUT = 60.0
MAX_WAITS = 30
"""`operations.wait` returns after at most about two minutes; this bounds the total wait."""

CLIENTS: Mapping[str, Callable[..., Any]] = {
    "addresses": compute_v1.AddressesClient,
    "forwardingRules": compute_v1.ForwardingRulesClient,
    "regionBackendServices": compute_v1.RegionBackendServicesClient,
    "backendServices": compute_v1.BackendServicesClient,
    "regionHealthChecks": compute_v1.RegionHealthChecksClient,
    "firewalls": compute_v1.FirewallsClient,
    "instanceGroups": compute_v1.InstanceGroupsClient,
    "instances": compute_v1.InstancesClient,
    "subnetworks": compute_v1.SubnetworksClient,
    "networks": compute_v1.NetworksClient,
    "regionOperations": compute_v1.RegionOperationsClient,
    "zoneOperations": compute_v1.ZoneOperationsClient,
    "globalOperations": compute_v1.GlobalOperationsClient,
    "globalAddresses": compute_v1.GlobalAddressesClient,
    "globalForwardingRules": compute_v1.GlobalForwardingRulesClient,
    "healthChecks": compute_v1.HealthChecksClient,
    "urlMaps": compute_v1.UrlMapsClient,
    "targetHttpProxies": compute_v1.TargetHttpProxiesClient,
    "targetHttpsProxies": compute_v1.TargetHttpsProxiesClient,
    "sslCertificates": compute_v1.SslCertificatesClient,
    "sslPolicies": compute_v1.SslPoliciesClient,
}

BODIES: Mapping[str, Any] = {
    "address_resource": compute_v1.Address,
    "forwarding_rule_resource": compute_v1.ForwardingRule,
    "backend_service_resource": compute_v1.BackendService,
    "health_check_resource": compute_v1.HealthCheck,
    "firewall_resource": compute_v1.Firewall,
    "instance_group_resource": compute_v1.InstanceGroup,
    "instance_resource": compute_v1.Instance,
    "network_resource": compute_v1.Network,
    "subnetwork_resource": compute_v1.Subnetwork,
    "instance_groups_add_instances_request_resource": compute_v1.InstanceGroupsAddInstancesRequest,
    "instance_groups_remove_instances_request_resource": (
        compute_v1.InstanceGroupsRemoveInstancesRequest
    ),
    "instance_groups_list_instances_request_resource": (
        compute_v1.InstanceGroupsListInstancesRequest
    ),
    "region_set_labels_request_resource": compute_v1.RegionSetLabelsRequest,
    "global_set_labels_request_resource": compute_v1.GlobalSetLabelsRequest,
    "url_map_resource": compute_v1.UrlMap,
    "target_http_proxy_resource": compute_v1.TargetHttpProxy,
    "target_https_proxy_resource": compute_v1.TargetHttpsProxy,
    "url_map_reference_resource": compute_v1.UrlMapReference,
    "target_reference_resource": compute_v1.TargetReference,
    "target_https_proxies_set_ssl_certificates_request_resource": (
        compute_v1.TargetHttpsProxiesSetSslCertificatesRequest
    ),
    "ssl_certificate_resource": compute_v1.SslCertificate,
    "ssl_policy_resource": compute_v1.SslPolicy,
    "ssl_policy_reference_resource": compute_v1.SslPolicyReference,
    "instance_groups_set_named_ports_request_resource": (
        compute_v1.InstanceGroupsSetNamedPortsRequest
    ),
}
"""Request fields that carry a body, and the message each one is parsed into."""


def is_mutating(operation: str) -> bool:
    return operation.rsplit(".", 1)[-1] not in READ_METHODS


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def to_dict(message: Any) -> dict[str, Any]:
    """An SDK message in the REST (camelCase) shape; unset optional fields are absent."""
    result: dict[str, Any] = type(message).to_dict(
        message, preserving_proto_field_name=False, use_integers_for_enums=False
    )
    return result


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with full jitter; tests shrink the waits to stay fast."""

    attempts: int = 5
    multiplier: float = 0.5
    max_wait: float = 10.0


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


@dataclass
class Compute:
    """The Compute clients of one project and region behind retry, count and translate."""

    project: str
    region: str
    sdk: Mapping[str, Any]
    counter: CallCounter = field(default_factory=lambda: CallCounter(is_mutating))
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def call(self, resource: str, method: str, request: Mapping[str, Any]) -> Any:
        """One API method (`insert`, `listInstances`, ...) of one resource collection.

        Mutating methods go through their `_unary` form (an `Operation`, not the SDK's
        `ExtendedOperation`) and carry a `requestId`, the same on every attempt, so that a
        retry after a lost response is not carried out twice.
        """
        operation = f"{resource}.{method}"
        mutating = is_mutating(operation)
        python_name = _snake(method) + ("_unary" if mutating else "")
        target = getattr(self.sdk[resource], python_name)
        body = {
            k: BODIES[k].from_json(json.dumps(v)) if k in BODIES else v for k, v in request.items()
        }
        if mutating:
            body["request_id"] = str(uuid.uuid4())

        def once() -> Any:
            try:
                response = target(request=body, retry=None, timeout=TIMEOUT)
            except Exception as err:  # the SDK raises api-core, requests and auth errors
                neutral = translate(err, operation=operation)
                self.counter.record(SERVICE, operation, outcome(neutral))
                raise neutral from err
            self.counter.record(SERVICE, operation, "ok")
            return response

        retrying = Retrying(
            stop=stop_after_attempt(self.retry.attempts),
            wait=wait_random_exponential(multiplier=self.retry.multiplier, max=self.retry.max_wait),
            retry=retry_if_exception(_retryable),
            reraise=True,
        )
        return retrying(once)

    def get(self, resource: str, /, **request: Any) -> dict[str, Any] | None:
        """The resource, or None when it does not exist."""
        try:
            return to_dict(self.call(resource, "get", request))
        except ProviderError as err:
            if isinstance(err.__cause__, gexc.NotFound):
                return None
            raise

    def pages(self, resource: str, method: str = "list", /, **request: Any) -> Iterator[Any]:
        """Every page of a listing (each page one counted call), as the SDK's pager objects."""
        token = ""
        while True:
            pager = self.call(
                resource, method, {**request, "page_token": token} if token else request
            )
            yield pager
            token = str(getattr(pager, "next_page_token", "") or "")
            if not token:
                return

    def listing(
        self, resource: str, method: str = "list", /, **request: Any
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for pager in self.pages(resource, method, **request):
            out += [to_dict(item) for item in pager.items]
        return out

    def aggregated(self, resource: str, field: str, /, **request: Any) -> list[dict[str, Any]]:
        """Every zonal or regional item of a collection, from `aggregatedList` pages."""
        out: list[dict[str, Any]] = []
        for pager in self.pages(resource, "aggregatedList", **request):
            for scoped in pager.items.values():
                out += to_dict(scoped).get(field) or []
        return out

    def mutate(self, resource: str, method: str, /, **request: Any) -> dict[str, Any]:
        """Run a write and wait for its operation; a failed operation raises its error."""
        operation = f"{resource}.{method}"
        op = to_dict(self.call(resource, method, request))
        waits = 0
        while op.get("status") != "DONE":
            if waits >= MAX_WAITS:
                raise Unavailable(f"{operation}: operation {op.get('name')} still running")
            op = self._wait(op)
            waits += 1
        error = operation_error(operation, op)
        if error is not None:
            raise error
        return op

    def _wait(self, op: Mapping[str, Any]) -> dict[str, Any]:
        name = str(op["name"])
        if op.get("zone"):
            zone = str(op["zone"]).rsplit("/", 1)[-1]
            request = {"project": self.project, "zone": zone, "operation": name}
            return to_dict(self.call("zoneOperations", "wait", request))
        if op.get("region"):
            region = str(op["region"]).rsplit("/", 1)[-1]
            request = {"project": self.project, "region": region, "operation": name}
            return to_dict(self.call("regionOperations", "wait", request))
        return to_dict(
            self.call("globalOperations", "wait", {"project": self.project, "operation": name})
        )


def build_sdk(*, endpoint: str | None, credentials: Credentials | None) -> dict[str, Any]:
    """One SDK client per collection, all REST, all pointed at the same endpoint."""
    options = ClientOptions(api_endpoint=endpoint) if endpoint else None
    creds = credentials or (AnonymousCredentials() if endpoint else None)  # type: ignore[no-untyped-call]
    return {
        name: factory(credentials=creds, transport="rest", client_options=options)
        for name, factory in CLIENTS.items()
    }


def build_compute(
    *,
    project: str | None,
    region: str,
    endpoint: str | None = None,
    credentials: Credentials | None = None,
    retry: RetryPolicy | None = None,
) -> Compute:
    """Clients from the standard Google chain, or anonymous ones for a local endpoint."""
    chosen = project
    if credentials is None and not endpoint:
        import google.auth

        try:
            credentials, default_project = google.auth.default()
        except Exception as err:  # DefaultCredentialsError, with its own advice
            raise ProviderError(f"no Google credentials: {err}") from err
        chosen = chosen or default_project
    if not chosen:
        raise ProviderError("no GCP project: pass --project")
    return Compute(
        project=chosen,
        region=region,
        sdk=build_sdk(endpoint=endpoint, credentials=credentials),
        retry=retry or RetryPolicy(),
    )
