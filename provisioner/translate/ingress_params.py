"""IngressClassParams: settings an administrator fixes for every Ingress of a class.

A field set here overrides the Ingresses' annotations, which is what lets a platform team
pin the scheme or the subnets of a class whatever its users write. The CRD schema refuses bad
values in a cluster; manifest files skip the API server, so every field is checked again
here with the annotation parsers, and an error names the object, the field and the value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from provisioner.annotations import (
    AnnotationSet,
    ParseError,
    Parser,
    SpecError,
    choice,
    cidr_list,
    group_name,
    resolve,
)
from provisioner.translate.objects import Obj, name_of, spec_of

PARAMS_GROUP = "provisioner.io"
PARAMS_KIND = "IngressClassParams"


@dataclass(frozen=True)
class ClassParams:
    """`values` holds resolved fields, keyed like the annotation fields they override."""

    name: str
    values: Mapping[str, Any] = field(default_factory=dict)
    group_name: str | None = None


def find_params(
    ingress_class: Obj, candidates: Sequence[Obj], *, provider: str, annotations: AnnotationSet
) -> ClassParams | None:
    """The parameters an IngressClass points at; a dangling reference is an error."""
    ref = spec_of(ingress_class).get("parameters")
    if not ref:
        return None
    where = f"IngressClass {name_of(ingress_class)} spec.parameters"
    if not isinstance(ref, Mapping):
        raise SpecError(f"{where}: expected an object", field=where)
    if ref.get("apiGroup") != PARAMS_GROUP or ref.get("kind") != PARAMS_KIND:
        raise SpecError(
            f"{where}: refers to {ref.get('apiGroup')}/{ref.get('kind')}; accepted: "
            f"apiGroup {PARAMS_GROUP}, kind {PARAMS_KIND}",
            field=where,
            value=f"{ref.get('apiGroup')}/{ref.get('kind')}",
        )
    if ref.get("scope", "Cluster") != "Cluster":
        raise SpecError(
            f"{where}.scope: {ref.get('scope')}; accepted: Cluster ({PARAMS_KIND} is "
            "cluster-scoped)",
            field=f"{where}.scope",
            value=str(ref.get("scope")),
        )
    wanted = str(ref.get("name") or "")
    found = next((obj for obj in candidates if name_of(obj) == wanted), None)
    if found is None:
        raise SpecError(
            f"{where}.name: {PARAMS_KIND} {wanted!r} not found; create it or remove the reference",
            field=f"{where}.name",
            value=wanted,
        )
    return parse_params(found, provider=provider, annotations=annotations)


def _fail(where: str, value: Any, accepted: str) -> SpecError:
    return SpecError(
        f"{where}: invalid value {value!r}; accepted: {accepted}", field=where, value=str(value)
    )


def _strings(where: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(where, value, "a non-empty list of strings")
    if not all(isinstance(item, str) and item.strip() for item in value):
        raise _fail(where, value, "a non-empty list of non-empty strings")
    return tuple(item.strip() for item in value)


def _string_map(where: str, value: Any) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) for k, v in value.items()
    ):
        raise _fail(where, value, "a map of strings")
    return dict(value)


def _parsed(where: str, value: Any, parse: Parser) -> Any:
    if not isinstance(value, str):
        raise _fail(where, value, "a string")
    try:
        return parse(value)
    except ParseError as err:
        raise _fail(where, value, err.accepted) from None


def parse_params(params: Obj, *, provider: str, annotations: AnnotationSet) -> ClassParams:
    name = name_of(params)
    spec = spec_of(params)
    base = f"{PARAMS_KIND} {name} spec"
    values: dict[str, Any] = {}
    if "scheme" in spec:
        values["scheme"] = _parsed(
            f"{base}.scheme", spec["scheme"], choice("internet-facing", "internal")
        )
    if "ipAddressType" in spec:
        values["ip_address_type"] = _parsed(
            f"{base}.ipAddressType", spec["ipAddressType"], choice("ipv4", "dualstack")
        )
    group = spec.get("group") or {}
    fixed_group = _parsed(f"{base}.group.name", group["name"], group_name) if group else None
    subnets = spec.get("subnets")
    if subnets is not None:
        if not isinstance(subnets, Mapping) or len(set(subnets) & {"ids", "tags"}) != 1:
            raise _fail(f"{base}.subnets", subnets, "exactly one of ids or tags")
        if "ids" in subnets:
            values["subnets"] = _strings(f"{base}.subnets.ids", subnets["ids"])
        else:
            tags = subnets["tags"]
            if not isinstance(tags, Mapping) or not tags:
                raise _fail(f"{base}.subnets.tags", tags, "a map of tag key to list of values")
            values["subnet_tags"] = {
                str(key): _strings(f"{base}.subnets.tags.{key}", items)
                for key, items in sorted(tags.items())
            }
    if "certificates" in spec:
        values["tls_certificates"] = _strings(f"{base}.certificates", spec["certificates"])
    if "tlsPolicy" in spec:
        values["tls_policy"] = _parsed(f"{base}.tlsPolicy", spec["tlsPolicy"], str.strip)
    if "inboundCIDRs" in spec:
        cidrs = _strings(f"{base}.inboundCIDRs", spec["inboundCIDRs"])
        values["source_ranges"] = _parsed(f"{base}.inboundCIDRs", ",".join(cidrs), cidr_list)
    if "tags" in spec:
        values["tags"] = _string_map(f"{base}.tags", spec["tags"])
    values.update(_provider_values(spec, base=base, provider=provider, annotations=annotations))
    return ClassParams(name=name, values=values, group_name=fixed_group)


def _provider_values(
    spec: Mapping[str, Any], *, base: str, provider: str, annotations: AnnotationSet
) -> dict[str, Any]:
    """`spec.providers.<provider>` fields, each parsed as the annotation the provider names."""
    section = (spec.get("providers") or {}).get(provider) or {}
    raw: dict[str, str] = {}
    for key, value in sorted(section.items()):
        where = f"{base}.providers.{provider}.{key}"
        annotation = annotations.class_params.get(key)
        if annotation is None:
            known = ", ".join(sorted(annotations.class_params)) or "none"
            raise _fail(where, key, f"fields {known}")
        if isinstance(value, Mapping):
            raw[annotation] = ",".join(f"{k}={v}" for k, v in _string_map(where, value).items())
        elif isinstance(value, list):
            raw[annotation] = ",".join(_strings(where, value))
        else:
            raw[annotation] = str(value)
    if not raw:
        return {}
    try:
        return dict(resolve(raw, extra=annotations))
    except SpecError as err:
        raise SpecError(f"{base}.providers.{provider}: {err}", field=err.field) from None
