"""Certificates of HTTPS listeners: each must exist in ACM and be issued, checked on plan.

A missing or unusable certificate would otherwise surface halfway through an apply (AWS
refuses the listener after the target groups exist). Certificates already attached to the
key's listeners are not checked again: ACM refuses to delete a certificate in use, so a
no-op reconcile costs no ACM call. IAM server certificates (`arn:...:iam::...`) are accepted
without a check; the provider has no IAM client.
"""

from __future__ import annotations

from collections.abc import Iterable

from providers.aws.client import AwsClient
from providers.base import InvalidSpec, NotFound, ProviderError
from provisioner.model import LoadBalancer


def check_certificates(
    acm: AwsClient | None, desired: LoadBalancer, *, attached: Iterable[str] = ()
) -> None:
    known = set(attached)
    for listener in desired.listeners:
        if listener.tls is None:
            continue
        for arn in listener.tls.certificates:
            if arn in known or ":iam::" in arn:
                continue
            _check_one(acm, arn, port=listener.port)
            known.add(arn)


def _check_one(acm: AwsClient | None, arn: str, *, port: int) -> None:
    if not arn.startswith("arn:") or ":acm:" not in arn:
        raise InvalidSpec(
            f"tls-certificates: {arn!r} on port {port} is not a certificate ARN; accepted: "
            "arn:aws:acm:<region>:<account>:certificate/<id> (or an IAM server certificate)",
            field="tls-certificates",
            value=arn,
        )
    if acm is None:
        raise ProviderError("no ACM client configured: cannot check HTTPS certificates")
    try:
        found = acm.call("DescribeCertificate", CertificateArn=arn)["Certificate"]
    except NotFound as err:
        raise InvalidSpec(
            f"tls-certificates: certificate {arn} on port {port} does not exist in ACM (in "
            "this account and region); accepted: an issued ACM certificate",
            field="tls-certificates",
            value=arn,
        ) from err
    status = str(found.get("Status", ""))
    if status != "ISSUED":
        raise InvalidSpec(
            f"tls-certificates: certificate {arn} on port {port} is {status or 'not issued'} in "
            "ACM; accepted: an issued certificate",
            field="tls-certificates",
            value=arn,
        )
