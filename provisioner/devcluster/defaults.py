"""Per-kind defaulting and validation the real API server applies on write.

Clients read back what they wrote and compare; a Deployment that comes back
without ``spec.replicas`` or a Secret whose ``stringData`` never became
``data`` would make a controller behave differently here than on a real
cluster. Only the defaults and checks that clients observe are reproduced.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from provisioner.devcluster.errors import field_cause, invalid
from provisioner.devcluster.selectors import match_label_selector

Obj = dict[str, Any]

_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")
_LABEL_RE = re.compile(rf"^{_LABEL}$")
# Kinds whose names must be a single DNS label rather than a subdomain.
LABEL_NAMED = {("", "services"), ("", "namespaces")}

# Without a value of its own, a Pod is given this grace period. The real
# default is 30 seconds; a short one keeps "terminating" observable in tests
# without making every scale-down wait half a minute.
DEFAULT_POD_GRACE_SECONDS = 1


def name_problem(storage: tuple[str, str], name: str) -> str | None:
    """The message the real server gives for a malformed object name, if any."""
    if storage in LABEL_NAMED:
        if len(name) > 63 or not _LABEL_RE.match(name):
            return (
                f'Invalid value: "{name}": a lowercase RFC 1123 label must consist of lower '
                "case alphanumeric characters or '-', and must start and end with an "
                "alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
                f"validation is '{_LABEL}')"
            )
        return None
    if storage[1] == "customresourcedefinitions":
        return None
    if len(name) > 253 or not _SUBDOMAIN_RE.match(name):
        return (
            f'Invalid value: "{name}": a lowercase RFC 1123 subdomain must consist of lower '
            "case alphanumeric characters, '-' or '.', and must start and end with an "
            "alphanumeric character (e.g. 'example.com', regex used for validation is "
            f"'{_LABEL}(\\.{_LABEL})*')"
        )
    return None


def default_pod(pod: Obj, old: Obj | None) -> None:
    spec: Obj = pod.setdefault("spec", {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", DEFAULT_POD_GRACE_SECONDS)
    causes = []
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        causes.append(field_cause("spec.containers", "Required value", reason="FieldValueRequired"))
    else:
        for container in containers:
            for port in container.get("ports") or []:
                port.setdefault("protocol", "TCP")
    if causes:
        raise invalid("Pod", pod["metadata"].get("name", ""), causes)
    if old is None:
        pod["status"] = {"phase": "Pending", "qosClass": "BestEffort"}


def default_deployment(deploy: Obj, old: Obj | None) -> None:
    name = deploy["metadata"].get("name", "")
    spec: Obj = deploy.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    spec.setdefault(
        "strategy",
        {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    )
    template: Obj = spec.setdefault("template", {})
    labels = (template.get("metadata") or {}).get("labels") or {}
    causes = []
    if not spec.get("selector"):
        causes.append(field_cause("spec.selector", "Required value", reason="FieldValueRequired"))
    elif not match_label_selector(spec["selector"], labels):
        causes.append(
            field_cause(
                "spec.template.metadata.labels",
                f"Invalid value: {labels}: `selector` does not match template `labels`",
            )
        )
    elif old is not None and old.get("spec", {}).get("selector") != spec["selector"]:
        causes.append(
            field_cause("spec.selector", f"Invalid value: {spec['selector']}: field is immutable")
        )
    if not isinstance(spec.get("replicas"), int) or spec["replicas"] < 0:
        causes.append(
            field_cause(
                "spec.replicas",
                f"Invalid value: {spec.get('replicas')}: must be greater than or equal to 0",
            )
        )
    pod_spec = template.setdefault("spec", {})
    if not pod_spec.get("containers"):
        causes.append(
            field_cause(
                "spec.template.spec.containers", "Required value", reason="FieldValueRequired"
            )
        )
    if causes:
        raise invalid("Deployment", name, causes, group="apps")
    if old is None:
        deploy["status"] = {}
    pod_spec.setdefault("restartPolicy", "Always")
    pod_spec.setdefault("terminationGracePeriodSeconds", DEFAULT_POD_GRACE_SECONDS)
    for container in pod_spec.get("containers") or []:
        for port in container.get("ports") or []:
            port.setdefault("protocol", "TCP")


def default_secret(secret: Obj, old: Obj | None) -> None:
    """``stringData`` is write-only: it is folded into base64 ``data``."""
    secret.setdefault("type", "Opaque")
    string_data = secret.pop("stringData", None) or {}
    if string_data:
        data = secret.setdefault("data", {})
        for key, value in string_data.items():
            data[key] = base64.b64encode(str(value).encode()).decode()


def default_namespace(namespace: Obj, old: Obj | None) -> None:
    namespace.setdefault("spec", {})
    labels = namespace["metadata"].setdefault("labels", {})
    labels["kubernetes.io/metadata.name"] = namespace["metadata"]["name"]
    if old is None or not namespace.get("status", {}).get("phase"):
        namespace["status"] = {"phase": "Active"}


def default_ingress(ingress: Obj, old: Obj | None) -> None:
    ingress.setdefault("spec", {})
    if old is None:
        ingress["status"] = {"loadBalancer": {}}


DEFAULTERS = {
    ("", "pods"): default_pod,
    ("apps", "deployments"): default_deployment,
    ("", "secrets"): default_secret,
    ("", "namespaces"): default_namespace,
    ("networking.k8s.io", "ingresses"): default_ingress,
}
