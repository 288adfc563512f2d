"""The README documents every annotation the code accepts."""

from __future__ import annotations

from pathlib import Path

from providers.aws.annotations import ANNOTATIONS, SERVICE
from provisioner.annotations import PORTABLE

README = (Path(__file__).parents[1] / "README.md").read_text()


def test_every_portable_annotation_is_documented() -> None:
    missing = [s.key for s in (*PORTABLE, *ANNOTATIONS.settings) if f"`{s.key}`" not in README]
    assert missing == []


def test_every_aws_alias_is_documented() -> None:
    missing = [a.key for a in ANNOTATIONS.aliases if a.key.replace(SERVICE, "…/") not in README]
    assert missing == []
