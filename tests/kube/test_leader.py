"""Leader election against the dev cluster's Lease API."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from provisioner.devcluster import DevCluster, start
from provisioner.kube.api import LEASES, Api, load_configuration
from provisioner.kube.leader import LeaderElector, LeaseConfig


@pytest.fixture(scope="module")
def cluster() -> Iterator[DevCluster]:
    with start(0) as running:
        yield running


@pytest.fixture
def api(cluster: DevCluster) -> Iterator[Api]:
    client = Api(load_configuration(str(cluster.kubeconfig)))
    yield client
    client.close()


def config(name: str, identity: str) -> LeaseConfig:
    return LeaseConfig(
        namespace="default",
        name=name,
        identity=identity,
        lease_duration=1.5,
        renew_deadline=1.0,
        retry_period=0.2,
    )


def wait(check: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_only_one_leads_and_a_release_hands_over_at_once(api: Api) -> None:
    a = LeaderElector(api, config("pair", "a"))
    b = LeaderElector(api, config("pair", "b"))
    a.start()
    wait(lambda: a.leading)
    b.start()
    time.sleep(1.0)
    assert a.leading and not b.leading
    assert api.get(LEASES, "default", "pair")["spec"]["holderIdentity"] == "a"
    a.stop()
    a.release()
    released = time.monotonic()
    wait(lambda: b.leading)
    assert time.monotonic() - released < 1.0  # no need to wait for the lease to expire
    lease = api.get(LEASES, "default", "pair")["spec"]
    assert lease["holderIdentity"] == "b"
    assert lease["leaseTransitions"] >= 1
    b.stop()
    b.release()


def test_a_silent_leader_is_replaced_after_the_lease_duration(api: Api) -> None:
    a = LeaderElector(api, config("silent", "a"))
    b = LeaderElector(api, config("silent", "b"))
    a.start()
    wait(lambda: a.leading)
    b.start()
    a.stop()  # stops renewing without releasing, like a crashed process
    stopped = time.monotonic()
    wait(lambda: b.leading)
    took = time.monotonic() - stopped
    assert 1.0 < took < 1.5 + 0.2 * 1.2 + 0.5, took
    b.stop()


def test_a_leader_that_cannot_renew_stops_within_the_renew_deadline(
    cluster: DevCluster, api: Api
) -> None:
    lost: list[float] = []
    a = LeaderElector(api, config("deadline", "a"), on_stopped=lambda: lost.append(1))
    a.start()
    wait(lambda: a.leading)
    cluster.stop_serving()
    cut = time.monotonic()
    try:
        wait(lambda: not a.leading, timeout=5)
        assert time.monotonic() - cut < 1.0 + 0.2 + 0.5
        assert lost == [1]
    finally:
        cluster.resume_serving()
    wait(lambda: a.leading, timeout=10)
    a.stop()


def test_bad_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="lease duration > renew deadline > retry period"):
        LeaseConfig(
            namespace="x", name="x", identity="x", lease_duration=5, renew_deadline=10
        ).check()
