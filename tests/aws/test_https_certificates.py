"""An HTTPS listener without certificates on AWS: refused, even when spec.tls names hosts
(certificates are not discovered from them on AWS)."""

from __future__ import annotations

import pytest

from providers.aws.application import check_application_spec
from providers.base import InvalidSpec
from tests.translate.alb import load_balancer
from tests.translate.builders import ingress, node_port_service


def test_https_with_only_tls_hosts_is_refused_naming_the_setting() -> None:
    site = ingress(annotations={"alb.ingress.kubernetes.io/listen-ports": '[{"HTTPS": 443}]'})
    site["spec"]["tls"] = [{"hosts": ["www.example.com"], "secretName": "site-tls"}]
    desired = load_balancer("Ingress/default/site", node_port_service("web"), site)
    with pytest.raises(InvalidSpec) as caught:
        check_application_spec(desired)
    message = str(caught.value)
    assert message.startswith("Ingress/default/site: provisioner.io/tls-certificates: HTTPS port")
    assert "needs a certificate and none is set" in message
    assert "not discovered from spec.tls hosts" in message
