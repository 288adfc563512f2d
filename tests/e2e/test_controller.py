"""The controller process end to end: dev cluster + moto server + `provisioner run`."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from provisioner.kube.api import LEASES, SERVICES, Resource
from tests.e2e.controller import (
    Stack,
    deployment,
    events_for,
    gone,
    hostname,
    running_stack,
    service,
    wait_for,
)

pytestmark = pytest.mark.e2e

DEPLOYMENTS = Resource("Deployment", "deployments", "apps")
FAST_LEASE = (
    "--leader-elect-lease-duration",
    "3s",
    "--leader-elect-renew-deadline",
    "2s",
    "--leader-elect-retry-period",
    "0.5s",
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("controller")) as world:
        yield world


@pytest.fixture
def controller_stack(stack: Stack) -> Iterator[Stack]:
    """The stack with no controller left over from an earlier test."""
    yield stack
    stack.stop_all()


def test_create_update_delete_with_status_finalizer_and_events(controller_stack: Stack) -> None:
    stack = controller_stack
    ctl = stack.controller()
    ctl.wait_ready()
    started = time.monotonic()
    stack.api.create(
        SERVICES,
        "default",
        service("shop", annotations={"provisioner.io/healthcheck-interval": "10"}),
    )
    host = wait_for(lambda: hostname(stack.api, "shop"), what="status hostname")
    provisioned_after = time.monotonic() - started
    assert host.endswith(".elb.amazonaws.com")
    lb = stack.load_balancer_for(host)
    assert lb is not None and lb["Scheme"] == "internal"
    obj = stack.api.get(SERVICES, "default", "shop")
    assert "provisioner.io/resources" in obj["metadata"]["finalizers"]
    reasons = [e["reason"] for e in events_for(stack.api, "shop")]
    assert reasons == ["Provisioned"], reasons
    assert len(stack.targets(host)) == 3  # instance mode: every node

    # An annotation change reaches the cloud.
    stack.api.merge_patch(
        SERVICES,
        "default",
        "shop",
        {"metadata": {"annotations": {"provisioner.io/healthcheck-interval": "30"}}},
    )

    def interval() -> bool:
        groups = stack.elbv2.describe_target_groups(LoadBalancerArn=lb["LoadBalancerArn"])
        return all(g["HealthCheckIntervalSeconds"] == 30 for g in groups["TargetGroups"])

    wait_for(interval, what="health check interval 30")

    # Delete: the object goes only once the cloud is clean.
    stack.api.delete(SERVICES, "default", "shop")
    wait_for(lambda: gone(stack.api, "shop"), what="Service removed")
    assert stack.load_balancer_for(host) is None
    assert provisioned_after < 15, provisioned_after
    assert ctl.terminate() == 0


def test_scaling_a_deployment_moves_ip_targets(controller_stack: Stack) -> None:
    stack = controller_stack
    ctl = stack.controller()
    ctl.wait_ready()
    stack.api.create(DEPLOYMENTS, "default", deployment("pods", 2))
    stack.api.create(
        SERVICES, "default", service("pods", annotations={"provisioner.io/target-type": "ip"})
    )
    host = wait_for(lambda: hostname(stack.api, "pods"), what="status hostname")
    wait_for(lambda: len(stack.targets(host)) == 2, what="two pod targets")
    before = stack.targets(host)
    assert all(t.startswith("10.0.20") for t in before), before
    stack.api.merge_patch(DEPLOYMENTS, "default", "pods", {"spec": {"replicas": 4}})
    wait_for(lambda: len(stack.targets(host)) == 4, what="four pod targets")
    assert before < stack.targets(host)
    stack.api.merge_patch(DEPLOYMENTS, "default", "pods", {"spec": {"replicas": 1}})
    wait_for(lambda: len(stack.targets(host)) == 1, what="one pod target")
    stack.api.delete(SERVICES, "default", "pods")
    wait_for(lambda: gone(stack.api, "pods"), what="Service removed")
    stack.api.delete(DEPLOYMENTS, "default", "pods")


def test_failed_cloud_delete_keeps_the_finalizer_and_says_why(controller_stack: Stack) -> None:
    stack = controller_stack
    ctl = stack.controller()
    ctl.wait_ready()
    stack.api.create(
        SERVICES,
        "default",
        service("guarded", annotations={"provisioner.io/deletion-protection": "true"}),
    )
    host = wait_for(lambda: hostname(stack.api, "guarded"), what="status hostname")
    stack.api.delete(SERVICES, "default", "guarded")

    def warned() -> bool:
        return any(e["type"] == "Warning" for e in events_for(stack.api, "guarded"))

    wait_for(warned, what="a Warning event")
    warning = next(e for e in events_for(stack.api, "guarded") if e["type"] == "Warning")
    assert "deletion protection" in warning["message"].lower(), warning["message"]
    obj = stack.api.get(SERVICES, "default", "guarded")
    assert obj["metadata"].get("deletionTimestamp")
    assert obj["metadata"]["finalizers"] == ["provisioner.io/resources"]
    lb = stack.load_balancer_for(host)
    assert lb is not None
    # Someone turns protection off in the cloud: the retry completes the delete.
    stack.elbv2.modify_load_balancer_attributes(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}],
    )
    wait_for(lambda: gone(stack.api, "guarded"), timeout=40, what="Service removed")
    assert stack.load_balancer_for(host) is None


def test_invalid_service_gets_a_warning_and_no_cloud_write(controller_stack: Stack) -> None:
    stack = controller_stack
    ctl = stack.controller()
    ctl.wait_ready()
    stack.moto.clear_recording()
    stack.api.create(
        SERVICES, "default", service("broken", annotations={"provisioner.io/scheme": "public"})
    )
    stack.api.create(SERVICES, "default", service("fine"))
    wait_for(lambda: hostname(stack.api, "fine"), what="the valid Service provisioned")

    def invalid() -> list[dict[str, object]]:
        return [e for e in events_for(stack.api, "broken") if e["reason"] == "InvalidSpec"]

    event = wait_for(invalid, what="InvalidSpec event")[0]
    message = str(event["message"])
    assert "provisioner.io/scheme" in message and "public" in message, message
    assert "internet-facing" in message
    assert hostname(stack.api, "broken") is None
    names = [lb["LoadBalancerName"] for lb in stack.load_balancers()]
    assert not any("broken" in n for n in names), names
    broken = stack.api.get(SERVICES, "default", "broken")
    assert "provisioner.io/resources" in broken["metadata"].get("finalizers", [])
    # Mend it: it is provisioned like any other.
    stack.api.merge_patch(
        SERVICES,
        "default",
        "broken",
        {"metadata": {"annotations": {"provisioner.io/scheme": "internal"}}},
    )
    wait_for(lambda: hostname(stack.api, "broken"), what="mended Service provisioned")
    for name in ("broken", "fine"):
        stack.api.delete(SERVICES, "default", name)
    wait_for(lambda: gone(stack.api, "broken") and gone(stack.api, "fine"), what="cleanup")


def test_watches_answered_with_410_and_a_restarted_api_server_converge(
    controller_stack: Stack,
) -> None:
    stack = controller_stack
    ctl = stack.controller()
    ctl.wait_ready()
    stack.api.create(SERVICES, "default", service("before"))
    host = wait_for(lambda: hostname(stack.api, "before"), what="first Service")
    # The API server goes away; meanwhile one Service is deleted and another created, and
    # history is compacted, so the controller's resourceVersion is gone when it comes back.
    stack.cluster.stop_serving()
    stack.cluster.registry.delete(stack.cluster.resource("services"), "default", "before")
    stack.cluster.create(service("during"))
    stack.cluster.compact()
    time.sleep(1.0)
    stack.cluster.resume_serving()
    wait_for(lambda: hostname(stack.api, "during"), timeout=40, what="Service created meanwhile")
    wait_for(lambda: gone(stack.api, "before"), timeout=40, what="Service deleted meanwhile")
    assert stack.load_balancer_for(host) is None
    relisted = [e for e in ctl.log_entries() if e.get("msg") == "watch expired, listing again"]
    assert relisted, "the controller never saw 410 Gone"
    # A plain restart of the API server: watches drop and resume.
    stack.cluster.restart()
    stack.api.create(SERVICES, "default", service("after"))
    wait_for(lambda: hostname(stack.api, "after"), timeout=40, what="Service after restart")
    for name in ("during", "after"):
        stack.api.delete(SERVICES, "default", name)
    wait_for(lambda: gone(stack.api, "during") and gone(stack.api, "after"), what="cleanup")


def test_leader_election_one_writer_and_takeover(controller_stack: Stack) -> None:
    stack = controller_stack
    first = stack.controller(*FAST_LEASE, "--leader-elect-id", "pair", name="first")
    first.wait_ready()
    wait_for(first.leading, what="first controller leading")
    second = stack.controller(*FAST_LEASE, "--leader-elect-id", "pair", name="second")
    second.wait_ready()
    stack.api.create(SERVICES, "default", service("elected"))
    wait_for(lambda: hostname(stack.api, "elected"), what="provisioned by the leader")
    assert first.cloud_writes() > 0
    assert second.cloud_writes() == 0
    assert not second.leading()
    # Kill the leader without a chance to release the lease: the standby takes over.
    first.kill()
    killed = time.monotonic()
    wait_for(second.leading, timeout=15, what="the standby to lead")
    took_over = time.monotonic() - killed
    assert took_over < 3 + 0.5 + 2, took_over  # lease duration + retry period (+ slack)
    stack.api.create(SERVICES, "default", service("elected-two"))
    wait_for(lambda: hostname(stack.api, "elected-two"), what="provisioned by the new leader")
    assert second.cloud_writes() > 0
    for name in ("elected", "elected-two"):
        stack.api.delete(SERVICES, "default", name)
    wait_for(lambda: gone(stack.api, "elected") and gone(stack.api, "elected-two"), what="cleanup")


def test_sigterm_mid_work_finishes_in_flight_and_releases_the_lease(
    controller_stack: Stack,
) -> None:
    stack = controller_stack
    ctl = stack.controller(*FAST_LEASE, "--leader-elect-id", "term", "--workers", "2")
    ctl.wait_ready()
    wait_for(ctl.leading, what="leading")
    names = [f"burst-{i}" for i in range(8)]
    for name in names:
        stack.api.create(SERVICES, "default", service(name))
    wait_for(
        lambda: any(e.get("msg") == "reconciled" for e in ctl.log_entries()),
        what="a first reconcile",
    )
    assert ctl.terminate(timeout=40) == 0
    lease = stack.api.get(LEASES, "default", "term")
    assert lease["spec"]["holderIdentity"] == ""
    stopped = [e for e in ctl.log_entries() if e.get("msg") == "stopped"]
    assert stopped and stopped[0]["in_flight_finished"] is True
    # A new controller picks up the rest; nothing is duplicated or half-made.
    again = stack.controller(*FAST_LEASE, "--leader-elect-id", "term")
    again.wait_ready()
    for name in names:
        wait_for(lambda name=name: hostname(stack.api, name), what=f"{name} provisioned")
    mine = [lb for lb in stack.load_balancers() if "burst" in lb["LoadBalancerName"]]
    assert len(mine) == len(names)
    for name in names:
        stack.api.delete(SERVICES, "default", name)
    wait_for(lambda: all(gone(stack.api, n) for n in names), timeout=60, what="cleanup")


def test_garbage_collection_only_inside_the_watched_scope(controller_stack: Stack) -> None:
    stack = controller_stack
    ctl = stack.controller("--no-leader-elect")
    ctl.wait_ready()
    stack.api.create(SERVICES, "default", service("orphan"))
    host = wait_for(lambda: hostname(stack.api, "orphan"), what="provisioned")
    assert ctl.terminate() == 0
    # While no controller runs, the object disappears without its finalizer being honoured.
    stack.api.merge_patch(SERVICES, "default", "orphan", {"metadata": {"finalizers": None}})
    stack.api.delete(SERVICES, "default", "orphan")
    wait_for(lambda: gone(stack.api, "orphan"), what="object gone")
    assert stack.load_balancer_for(host) is not None
    # A controller watching another namespace must not judge keys outside it.
    scoped = stack.controller("--no-leader-elect", "--namespace", "kube-system")
    scoped.wait_ready()
    wait_for(
        lambda: any(e.get("msg") == "controller started" for e in scoped.log_entries()),
        what="scoped controller started",
    )
    time.sleep(3.0)
    assert stack.load_balancer_for(host) is not None
    assert scoped.terminate() == 0
    # A cluster-wide one collects the orphan.
    collector = stack.controller("--no-leader-elect")
    collector.wait_ready()
    wait_for(lambda: stack.load_balancer_for(host) is None, what="orphan collected")
    collected = [e for e in collector.log_entries() if e.get("msg") == "garbage collecting"]
    assert [e["key"] for e in collected] == ["Service/default/orphan"]


def test_restart_over_fifty_converged_services_makes_no_cloud_write(
    controller_stack: Stack,
) -> None:
    stack = controller_stack
    # The client-side limits are AWS's published rates; moto has none, so they are raised
    # here to keep the suite quick (the restart below writes nothing whatever the limits).
    fast = ("--aws-api-rate", "modify=100:100", "--aws-api-rate", "targets=100:100")
    ctl = stack.controller("--workers", "4", "--no-leader-elect", *fast)
    ctl.wait_ready()
    names = [f"many-{i:02d}" for i in range(50)]
    quiet = {"provisioner.io/manage-backend-security-group-rules": "false"}
    for name in names:
        stack.api.create(SERVICES, "default", service(name, annotations=quiet))
    for name in names:
        wait_for(lambda name=name: hostname(stack.api, name), timeout=120, what=name)
    assert ctl.terminate() == 0
    stack.moto.clear_recording()
    restarted = stack.controller("--workers", "4", "--no-leader-elect", *fast)
    restarted.wait_ready()
    wait_for(
        lambda: sum(e.get("msg") == "reconciled" for e in restarted.log_entries()) >= 50,
        timeout=120,
        what="every Service looked at again",
    )
    time.sleep(0.5)
    calls = stack.moto.calls()
    assert stack.moto.mutating() == {}, stack.moto.mutating()
    assert restarted.cloud_writes() == 0
    entries = restarted.log_entries()
    assert all(e.get("changes", 0) == 0 for e in entries if e.get("msg") == "reconciled")
    assert calls, "the restart read nothing from the cloud"
    # The 50 load balancers go with the module's cloud; deleting them here would only add time.
