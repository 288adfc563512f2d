"""The README documents every annotation the code accepts."""

from __future__ import annotations

from pathlib import Path

from providers.aws.annotations import ANNOTATIONS, SERVICE
from providers.aws.ingress_annotations import INGRESS, INGRESS_ANNOTATIONS
from provisioner.annotations import INGRESS_ONLY, INGRESS_PORTABLE, PORTABLE

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_portable_annotation_is_documented() -> None:
    missing = [s.key for s in (*PORTABLE, *ANNOTATIONS.settings) if f"`{s.key}`" not in README]
    assert missing == []


def test_every_aws_alias_is_documented() -> None:
    missing = [a.key for a in ANNOTATIONS.aliases if a.key.replace(SERVICE, "…/") not in README]
    assert missing == []


def test_every_ingress_only_annotation_is_documented() -> None:
    missing = [s.key for s in INGRESS_ONLY if f"`{s.key}`" not in README]
    assert missing == []


def test_every_ingress_annotation_and_alias_is_in_the_ingress_guide() -> None:
    guide = (Path(__file__).parents[1] / "docs" / "ingress.md").read_text()
    keys = [s.key for s in (*INGRESS_PORTABLE, *INGRESS_ANNOTATIONS.settings)]
    keys += [a.key.replace(INGRESS, "") for a in INGRESS_ANNOTATIONS.aliases]
    missing = [key for key in keys if f"`{key}`" not in guide]
    assert missing == []


def test_every_gcp_ingress_annotation_is_in_the_gcp_guide() -> None:
    from providers.gcp.ingress_annotations import INGRESS_ANNOTATIONS as GCP_INGRESS

    guide = (Path(__file__).parents[1] / "docs" / "gcp.md").read_text()
    keys = [s.key for s in GCP_INGRESS.settings] + [a.key for a in GCP_INGRESS.aliases]
    keys += list(GCP_INGRESS.unsupported)
    missing = [key for key in keys if f"`{key}`" not in guide]
    assert missing == []
