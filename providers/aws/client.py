"""The one gateway to AWS: every call (elbv2, ec2, tagging, acm) goes through `AwsClient.call`.

Policy is layered here so that the provider never thinks about it: a client-side token bucket
per API class (AWS Load Balancer Controller's figures: describes 50/s burst 200, target
registration 4/s burst 20, other modifies 3/s burst 20), retries of throttling, 5xx and
connection errors only (tenacity, full jitter, bounded attempts), a counter of every attempt
by (service, operation, outcome), and translation of botocore errors into the neutral
hierarchy with the original chained. The SDK's own retries are switched off so that this is
the single place that decides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore import xform_name
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from providers.aws.errors import translate
from providers.base import ProviderError
from providers.calls import CallCounter, outcome

SDK_CONFIG = Config(retries={"total_max_attempts": 1, "mode": "standard"})
"""botocore retries off: `AwsClient` retries, counts and limits every attempt itself."""

READ_PREFIXES = ("Describe", "Get", "List")


def is_mutating(operation: str) -> bool:
    return not operation.startswith(READ_PREFIXES)


def api_class(operation: str) -> str:
    """The rate-limit class of an operation, as AWS Load Balancer Controller groups them."""
    if not is_mutating(operation):
        return "describe"
    if operation in ("RegisterTargets", "DeregisterTargets"):
        return "targets"
    return "modify"


class TokenBucket:
    """Allows `burst` calls at once, then `rate` per second; sleeps only when empty."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token; returns the seconds waited (0.0 while under the burst)."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return 0.0
            wait = (1 - self._tokens) / self.rate
            self._tokens = 0.0
            self._last = now + wait
        self._sleep(wait)
        return wait


API_CLASSES = {"describe": (50.0, 200), "targets": (4.0, 20), "modify": (3.0, 20)}
"""Calls per second and burst per API class: AWS's published ELB rates, shared by ec2 writes."""


def default_limits(
    overrides: Mapping[str, tuple[float, int]] | None = None,
) -> dict[str, TokenBucket]:
    rates = {**API_CLASSES, **(overrides or {})}
    return {name: TokenBucket(rate, burst) for name, (rate, burst) in rates.items()}


def parse_rate(raw: str) -> tuple[str, tuple[float, int]]:
    """`modify=10:40` -> ("modify", (10.0, 40)): an API class, calls per second, burst."""
    name, sep, value = raw.partition("=")
    rate, colon, burst = value.partition(":")
    accepted = (
        f"CLASS=RATE:BURST with CLASS one of {', '.join(API_CLASSES)}, RATE calls per second "
        "above 0 and BURST a whole number of 1 or more (e.g. modify=10:40)"
    )
    try:
        parsed = (float(rate), int(burst))
    except ValueError:
        raise ValueError(f"{raw!r}: expected {accepted}") from None
    if name.strip() not in API_CLASSES or not sep or not colon or parsed[0] <= 0 or parsed[1] < 1:
        raise ValueError(f"{raw!r}: expected {accepted}")
    return name.strip(), parsed


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded attempts with full jitter; tests shrink the waits to stay fast."""

    attempts: int = 5
    multiplier: float = 0.5
    max_wait: float = 10.0


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


class AwsClient:
    """One boto3 client behind the rate limit, retry, count and translate layers."""

    def __init__(
        self,
        service: str,
        sdk: Any,
        *,
        counter: CallCounter,
        limits: Mapping[str, TokenBucket],
        retry: RetryPolicy,
    ) -> None:
        self.service = service
        self.sdk = sdk
        self.counter = counter
        self.limits = limits
        self.retry = retry

    def call(self, operation: str, *, retry: bool = True, **kwargs: Any) -> dict[str, Any]:
        """Run one API operation (PascalCase name) and return its response.

        `retry=False` is for creates that the cloud (or moto) does not make idempotent: the
        caller looks the resource up after a lost response instead of sending it twice.
        """
        method = getattr(self.sdk, xform_name(operation))
        attempts = self.retry.attempts if retry else 1

        def once() -> dict[str, Any]:
            bucket = self.limits.get(api_class(operation))
            if bucket is not None:
                bucket.acquire()
            try:
                response: dict[str, Any] = method(**kwargs)
            except (ClientError, BotoCoreError) as err:
                neutral = translate(err, service=self.service, operation=operation)
                self.counter.record(self.service, operation, outcome(neutral))
                raise neutral from err
            self.counter.record(self.service, operation, "ok")
            return response

        retrying = Retrying(
            stop=stop_after_attempt(attempts),
            wait=wait_random_exponential(multiplier=self.retry.multiplier, max=self.retry.max_wait),
            retry=retry_if_exception(_retryable),
            reraise=True,
            before_sleep=_no_op,
        )
        result: dict[str, Any] = retrying(once)
        return result

    def pages(
        self, operation: str, *, token: str, next_token: str | None = None, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        """Every page of a listing; each page is one counted call."""
        out_key = next_token or token
        while True:
            page = self.call(operation, **kwargs)
            yield page
            marker = page.get(out_key)
            if not marker:
                return
            kwargs[token] = marker


def _no_op(state: RetryCallState) -> None:
    return None


@dataclass
class Clients:
    """The wrapped clients the provider uses, their region, and the shared counter."""

    elbv2: AwsClient
    ec2: AwsClient
    tagging: AwsClient
    region: str
    counter: CallCounter = field(default_factory=lambda: CallCounter(is_mutating))
    acm: AwsClient | None = None
    """Checks HTTPS certificates of ALB listeners; None where no ALB is ever planned."""


def wrap_clients(
    *,
    elbv2: Any,
    ec2: Any,
    tagging: Any,
    region: str,
    acm: Any = None,
    counter: CallCounter | None = None,
    retry: RetryPolicy | None = None,
    limits: Mapping[str, TokenBucket] | None = None,
) -> Clients:
    """Wrap ready boto3 clients; tests pass moto-backed ones here (injection, no patching)."""
    shared = counter or CallCounter(is_mutating)
    policy = retry or RetryPolicy()
    buckets = dict(limits) if limits is not None else default_limits()

    def wrap(service: str, sdk: Any) -> AwsClient:
        return AwsClient(service, sdk, counter=shared, limits=buckets, retry=policy)

    return Clients(
        elbv2=wrap("elbv2", elbv2),
        ec2=wrap("ec2", ec2),
        tagging=wrap("resourcegroupstaggingapi", tagging),
        region=region,
        counter=shared,
        acm=wrap("acm", acm) if acm is not None else None,
    )


def build_clients(
    *,
    region: str | None,
    session: boto3.Session | None = None,
    endpoint_url: str | None = None,
    rates: Mapping[str, tuple[float, int]] | None = None,
) -> Clients:
    """Clients from the standard AWS environment (AWS_ENDPOINT_URL, credentials chain)."""
    sess = session or boto3.Session(region_name=region)
    resolved = region or sess.region_name
    if not resolved:
        raise ProviderError("no AWS region: pass --region or set AWS_REGION / AWS_DEFAULT_REGION")
    extra: dict[str, Any] = {"region_name": resolved, "config": SDK_CONFIG}
    if endpoint_url:
        extra["endpoint_url"] = endpoint_url
    return wrap_clients(
        elbv2=sess.client("elbv2", **extra),
        ec2=sess.client("ec2", **extra),
        tagging=sess.client("resourcegroupstaggingapi", **extra),
        acm=sess.client("acm", **extra),
        region=resolved,
        limits=default_limits(rates),
    )
