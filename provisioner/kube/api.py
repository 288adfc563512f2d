"""The Kubernetes API as plain JSON over the official client's connection handling.

The official client's typed models cost memory and time on every watched object and lose
fields they do not know (custom resources, new API fields), while the rest of the project
reads objects as dictionaries, the same shape manifest files give. So this module keeps the
client for what it does well (kubeconfig and in-cluster configuration, authentication, TLS,
connection pooling) and speaks JSON paths itself.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True)
class Resource:
    """Where a kind lives in the API (`group` empty for the core group)."""

    kind: str
    plural: str
    group: str = ""
    version: str = "v1"
    namespaced: bool = True

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        return base

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


SERVICES = Resource("Service", "services")
ENDPOINT_SLICES = Resource("EndpointSlice", "endpointslices", "discovery.k8s.io")
NODES = Resource("Node", "nodes", namespaced=False)
INGRESSES = Resource("Ingress", "ingresses", "networking.k8s.io")
INGRESS_CLASSES = Resource("IngressClass", "ingressclasses", "networking.k8s.io", namespaced=False)
INGRESS_CLASS_PARAMS = Resource(
    "IngressClassParams", "ingressclassparams", "provisioner.io", "v1", namespaced=False
)
EVENTS = Resource("Event", "events")
LEASES = Resource("Lease", "leases", "coordination.k8s.io")


class ApiError(Exception):
    """An API server answer other than success; `status` is the HTTP code (0: no answer)."""

    def __init__(self, status: int, reason: str, body: str = "") -> None:
        super().__init__(f"{status} {reason}: {body[:300]}" if body else f"{status} {reason}")
        self.status = status
        self.reason = reason
        self.body = body

    @property
    def gone(self) -> bool:
        return self.status == 410

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def not_found(self) -> bool:
        return self.status == 404


class ConfigurationError(Exception):
    """No usable API server configuration; the message names where it was looked for."""


def load_configuration(kubeconfig: str | None) -> k8s.Configuration:
    """A kubeconfig file when given (or $KUBECONFIG), else the in-cluster service account."""
    try:
        return _load_configuration(kubeconfig)
    except Exception as err:  # the client raises its own, YAML's and OS errors alike
        where = (
            f"--kubeconfig {kubeconfig}"
            if kubeconfig
            else "the in-cluster service account, $KUBECONFIG and ~/.kube/config"
        )
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigurationError(
            f"{where}: no usable Kubernetes configuration ({detail}); accepted: a readable "
            "kubeconfig file with a current context, or running in a pod with a service account"
        ) from None


def _load_configuration(kubeconfig: str | None) -> k8s.Configuration:
    configuration = k8s.Configuration()
    if kubeconfig:
        k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
    else:
        try:
            k8s_config.load_incluster_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
        except k8s_config.ConfigException:
            k8s_config.load_kube_config(  # type: ignore[no-untyped-call]
                client_configuration=configuration
            )
    return configuration


class Api:
    """JSON requests to one API server; thread-safe (the client pools connections)."""

    def __init__(self, configuration: k8s.Configuration) -> None:
        configuration.retries = False  # retries are decided by the callers (informers, queue)
        self.client = k8s.ApiClient(configuration)

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | tuple[float, float] = 30.0,
        stream: bool = False,
    ) -> Any:
        headers = {"Accept": "application/json", "Content-Type": content_type}
        try:
            method, url, headers, serialized, post = self.client.param_serialize(
                method=method,
                resource_path=path,
                query_params=list((query or {}).items()),
                header_params=headers,
                body=body,
                auth_settings=["BearerToken"],
            )
            reply = self.client.call_api(
                method,
                url,
                header_params=headers,
                body=serialized,
                post_params=post,
                _request_timeout=timeout,
            )
        except ApiException as err:
            raise ApiError(err.status or 0, str(err.reason), _text(err.body)) from None
        except Exception as err:  # connection refused, reset, timeouts: the server is not there
            raise ApiError(0, type(err).__name__, str(err)) from None
        raw = reply.response
        if not 200 <= reply.status < 300:
            try:
                text = _text(raw.data)
            finally:
                raw.release_conn()
            raise ApiError(reply.status, str(reply.reason), text)
        if stream:
            return raw
        try:
            data = raw.data
        except Exception as err:
            raise ApiError(0, type(err).__name__, str(err)) from None
        finally:
            raw.release_conn()
        return json.loads(data) if data else None

    # Typed conveniences -------------------------------------------------------------

    def list(self, resource: Resource, namespace: str | None = None) -> tuple[list[Obj], str]:
        body = self.request("GET", resource.path(namespace))
        items = body.get("items") or []
        for item in items:  # lists omit kind and apiVersion on their items
            item.setdefault("kind", resource.kind)
            item.setdefault("apiVersion", resource.api_version)
        return items, str(body.get("metadata", {}).get("resourceVersion", ""))

    def get(self, resource: Resource, namespace: str | None, name: str) -> Obj:
        result: Obj = self.request("GET", resource.path(namespace, name))
        return result

    def create(self, resource: Resource, namespace: str | None, body: Obj) -> Obj:
        result: Obj = self.request("POST", resource.path(namespace), body=body)
        return result

    def replace(self, resource: Resource, namespace: str | None, name: str, body: Obj) -> Obj:
        result: Obj = self.request("PUT", resource.path(namespace, name), body=body)
        return result

    def merge_patch(
        self,
        resource: Resource,
        namespace: str | None,
        name: str,
        body: Obj,
        *,
        subresource: str = "",
    ) -> Obj:
        path = resource.path(namespace, name) + (f"/{subresource}" if subresource else "")
        result: Obj = self.request(
            "PATCH", path, body=body, content_type="application/merge-patch+json"
        )
        return result

    def delete(self, resource: Resource, namespace: str | None, name: str) -> None:
        self.request("DELETE", resource.path(namespace, name))

    def watch(
        self,
        resource: Resource,
        namespace: str | None,
        resource_version: str,
        *,
        timeout_seconds: int,
    ) -> Iterator[Obj]:
        """Events after `resource_version` until the server ends the watch.

        Raises ApiError(410) when that version is too old, and ApiError(0) when the
        connection breaks; the informer decides whether to resume or relist.
        """
        query = {
            "watch": "true",
            "resourceVersion": resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": str(timeout_seconds),
        }
        response = self.request(
            "GET",
            resource.path(namespace),
            query=query,
            timeout=(10.0, timeout_seconds + 30.0),
            stream=True,
        )
        buffer = b""
        try:
            for chunk in response.stream(65536, decode_content=True):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    if line.strip():
                        yield json.loads(line)
        except ApiError:
            raise
        except Exception as err:
            raise ApiError(0, type(err).__name__, str(err)) from None
        finally:
            response.release_conn()


def _text(body: Any) -> str:
    if isinstance(body, bytes):
        return body.decode("utf-8", "replace")
    return str(body or "")


PERMISSIONS: frozenset[tuple[str, str, str]] = frozenset(
    {
        ("", "services", "list"),
        ("", "services", "watch"),
        ("", "services", "patch"),  # the finalizer
        ("", "services/status", "patch"),
        ("", "nodes", "list"),
        ("", "nodes", "watch"),
        ("", "events", "create"),
        ("discovery.k8s.io", "endpointslices", "list"),
        ("discovery.k8s.io", "endpointslices", "watch"),
        ("networking.k8s.io", "ingresses", "list"),
        ("networking.k8s.io", "ingresses", "watch"),
        ("networking.k8s.io", "ingresses", "patch"),
        ("networking.k8s.io", "ingresses/status", "patch"),
        ("networking.k8s.io", "ingressclasses", "list"),
        ("networking.k8s.io", "ingressclasses", "watch"),
        ("provisioner.io", "ingressclassparams", "list"),
        ("provisioner.io", "ingressclassparams", "watch"),
        ("coordination.k8s.io", "leases", "get"),
        ("coordination.k8s.io", "leases", "create"),
        ("coordination.k8s.io", "leases", "update"),
    }
)
"""(API group, resource, verb) for every request the controller makes; deploy/ grants these."""
