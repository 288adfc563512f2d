"""The CLI end to end against a moto server: apply, no-op, target changes, crash, prune."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import Counter

import pytest

from tests.e2e.conftest import Cloud, endpoint_slice, service

pytestmark = pytest.mark.e2e

IP_MODE = {"provisioner.io/target-type": "ip"}


def test_apply_then_plan_is_empty_and_reapply_makes_no_mutating_calls(cloud: Cloud) -> None:
    manifests = cloud.write(
        "all.yaml",
        *cloud.nodes(),
        service("web", annotations={"provisioner.io/scheme": "internet-facing"}),
        service("api", annotations=IP_MODE, ports=[{"name": "http", "port": 80}]),
        endpoint_slice("api", ["10.0.100.50", "10.0.101.50"]),
    )
    code, body = cloud.run("apply", manifests)
    assert code == 0, body
    names = [(o["kind"], o["name"]) for o in body["objects"]]
    assert names == [("Service", "api"), ("Service", "web")]
    for entry in body["objects"]:
        (ingress,) = entry["status"]["loadBalancer"]["ingress"]
        assert ingress["hostname"].endswith(".elb.amazonaws.com")
    created = cloud.server.mutating()
    assert created["CreateLoadBalancer"] == 2
    assert created["CreateTargetGroup"] == 2
    assert created["CreateListener"] == 2
    assert created["RegisterTargets"] == 2

    cloud.server.clear_recording()
    code, plan = cloud.run("plan", manifests)
    assert (code, plan) == (0, {"changes": [], "errors": []})
    code, _ = cloud.run("apply", manifests)
    assert code == 0
    assert cloud.server.mutating() == Counter()
    assert cloud.server.calls(), "the re-apply read nothing at all"


def test_a_node_removed_and_an_endpoint_added_change_only_those_targets(cloud: Cloud) -> None:
    web = service("web")
    api = service("api", annotations=IP_MODE, ports=[{"name": "http", "port": 80}])
    before = cloud.write(
        "before.yaml", *cloud.nodes(), web, api, endpoint_slice("api", ["10.0.100.50"])
    )
    assert cloud.run("apply", before)[0] == 0
    after = cloud.write(
        "after.yaml",
        *cloud.nodes(2),
        web,
        api,
        endpoint_slice("api", ["10.0.100.50", "10.0.101.51"]),
    )
    code, plan = cloud.run("plan", after)
    assert code == 0
    assert [(c["type"], c["action"]) for c in plan["changes"]] == [
        ("targets", "update"),
        ("targets", "update"),
    ]
    by_owner = {c["owner"]: c for c in plan["changes"]}
    removed = cloud.seeded.instance_ids[2]
    assert by_owner["Service/default/web"]["deregister"] == [f"{removed}:30080"]
    assert by_owner["Service/default/web"]["register"] == []
    assert by_owner["Service/default/api"]["register"] == ["10.0.101.51:8080"]
    assert by_owner["Service/default/api"]["deregister"] == []

    cloud.server.clear_recording()
    assert cloud.run("apply", after)[0] == 0
    assert cloud.server.mutating() == Counter({"DeregisterTargets": 1, "RegisterTargets": 1})


def test_a_crash_between_two_calls_converges_without_duplicates(cloud: Cloud) -> None:
    manifests = cloud.write(
        "crash.yaml",
        *cloud.nodes(),
        service("web"),
        service(
            "api",
            ports=[
                {"name": "a", "port": 81, "nodePort": 30081},
                {"name": "b", "port": 82, "nodePort": 30082},
            ],
        ),
    )
    env_cli = [
        sys.executable,
        "-m",
        "provisioner.cli",
        "apply",
        "-f",
        str(manifests),
        "--provider",
        "aws",
        "--cluster-name",
        "e2e",
        "-o",
        "json",
    ]
    import os

    process = subprocess.Popen(
        env_cli,
        env={**os.environ, **cloud.server.env()},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while sum(cloud.server.mutating().values()) < 6:
        assert process.poll() is None, "apply finished before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    interrupted = cloud.server.mutating()
    assert interrupted["CreateListener"] < 3, "the crash came too late to test anything"

    code, body = cloud.run("apply", manifests)
    assert code == 0, body
    code, plan = cloud.run("plan", manifests)
    assert plan == {"changes": [], "errors": []}
    for owner, groups in (("Service/default/web", 1), ("Service/default/api", 2)):
        assert len(cloud.owned_load_balancers(owner)) == 1
        assert len(cloud.owned_target_groups(owner)) == groups
    groups = cloud.ec2.describe_security_groups(
        Filters=[{"Name": "tag:provisioner.io/owner", "Values": ["Service/default/web"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    listeners = cloud.elbv2.describe_listeners(
        LoadBalancerArn=cloud.owned_load_balancers("Service/default/api")[0]
    )["Listeners"]
    assert sorted(lst["Port"] for lst in listeners) == [81, 82]


def test_invalid_input_is_reported_and_the_rest_is_applied(cloud: Cloud) -> None:
    bad = service("bad", annotations={"provisioner.io/target-type": "pods"})
    long_name = service("long", annotations={"provisioner.io/load-balancer-name": "x" * 40})
    good = service("good")
    manifests = cloud.write("mixed.yaml", *cloud.nodes(), bad, long_name, good)
    broken = cloud.tmp / "broken.yaml"
    broken.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: [unclosed\n")
    code, body = cloud.run("apply", manifests, broken)
    assert code == 1
    entries = {(o.get("name") or o.get("source")): o for o in body["objects"]}
    assert "provisioner.io/target-type" in entries["bad"]["error"]
    assert "'pods'" in entries["bad"]["error"]
    assert "instance, ip" in entries["bad"]["error"]
    assert "x" * 40 in entries["long"]["error"]
    assert "32" in entries["long"]["error"]
    assert entries["good"]["status"]["loadBalancer"]["ingress"]
    (source,) = [k for k in entries if k.endswith("broken.yaml#1")]
    assert "YAML" in entries[source]["error"]
    assert cloud.owned_load_balancers("Service/default/bad") == []
    assert cloud.owned_load_balancers("Service/default/long") == []
    groups = cloud.ec2.describe_security_groups(
        Filters=[{"Name": "tag:provisioner.io/owner", "Values": ["Service/default/bad"]}]
    )["SecurityGroups"]
    assert groups == []

    code, plan = cloud.run("plan", manifests, broken)
    assert code == 1
    assert {e.get("name") for e in plan["errors"]} >= {"bad", "long"}
    assert plan["changes"] == []


def test_a_service_that_stops_being_ours_is_deleted(cloud: Cloud) -> None:
    web = service("web")
    manifests = cloud.write("web.yaml", *cloud.nodes(), web)
    assert cloud.run("apply", manifests)[0] == 0
    web["spec"]["type"] = "ClusterIP"
    code, body = cloud.run("apply", cloud.write("web.yaml", *cloud.nodes(), web))
    assert code == 0, body
    assert body["objects"] == [
        {"kind": "Service", "namespace": "default", "name": "web", "status": {"loadBalancer": {}}}
    ]
    assert cloud.owned_load_balancers("Service/default/web") == []
    assert cloud.owned_target_groups("Service/default/web") == []


def test_a_service_with_a_deletion_timestamp_is_deleted(cloud: Cloud) -> None:
    web = service("web")
    assert cloud.run("apply", cloud.write("web.yaml", *cloud.nodes(), web))[0] == 0
    web["metadata"]["deletionTimestamp"] = "2026-11-22T00:00:00Z"
    code, plan = cloud.run("plan", cloud.write("web.yaml", *cloud.nodes(), web))
    assert code == 0
    assert {c["action"] for c in plan["changes"]} == {"delete"}
    assert cloud.run("apply", cloud.write("web.yaml", *cloud.nodes(), web))[0] == 0
    assert cloud.owned_load_balancers("Service/default/web") == []


def test_prune_removes_exactly_what_it_should(cloud: Cloud) -> None:
    keep, gone = service("keep"), service("gone")
    invalid = service("invalid")
    both = cloud.write("both.yaml", *cloud.nodes(), keep, gone, invalid)
    assert cloud.run("apply", both)[0] == 0
    gone_lb = cloud.owned_load_balancers("Service/default/gone")[0]
    gone_name = cloud.elbv2.describe_load_balancers(LoadBalancerArns=[gone_lb])["LoadBalancers"][0][
        "LoadBalancerName"
    ]

    # A foreign load balancer: another cluster's marks, and one with no marks at all.
    subnets = list(cloud.seeded.private_subnets)
    cloud.elbv2.create_load_balancer(
        Name="foreign-nlb",
        Type="network",
        Scheme="internal",
        Subnets=subnets,
        Tags=[
            {"Key": "provisioner.io/cluster", "Value": "other"},
            {"Key": "provisioner.io/class", "Value": "provisioner.io/nlb"},
            {"Key": "provisioner.io/owner", "Value": "Service/default/gone"},
        ],
    )
    # moto allows a second load balancer with the same name (AWS does not): an unmarked twin.
    twin = cloud.elbv2.create_load_balancer(
        Name=gone_name, Type="network", Scheme="internal", Subnets=subnets
    )["LoadBalancers"][0]["LoadBalancerArn"]

    invalid["metadata"]["annotations"] = {"provisioner.io/scheme": "public"}
    only_keep = cloud.write("keep.yaml", *cloud.nodes(), keep, invalid)
    code, body = cloud.run("apply", only_keep, extra=("--prune",))
    assert code == 1  # the invalid one is reported ...
    entries = {o["name"]: o for o in body["objects"]}
    assert entries["gone"] == {
        "kind": "Service",
        "namespace": "default",
        "name": "gone",
        "pruned": True,
    }
    assert "provisioner.io/scheme" in entries["invalid"]["error"]
    (foreign,) = cloud.owned_load_balancers("Service/default/gone")
    assert "foreign-nlb" in foreign
    # ... and never pruned: its resources are still there, as are both foreign ones.
    assert len(cloud.owned_load_balancers("Service/default/invalid")) == 1
    assert len(cloud.owned_load_balancers("Service/default/keep")) == 1
    remaining = {
        lb["LoadBalancerArn"] for lb in cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    }
    assert {foreign, twin} <= remaining
    assert gone_lb not in remaining


def test_usage_errors_exit_2(cloud: Cloud) -> None:
    missing = cloud.cli("plan", "-f", str(cloud.tmp / "nope.yaml"), "--cluster-name", "e2e")
    assert missing.returncode == 2
    assert "nope.yaml" in missing.stderr
    unknown = cloud.cli("plan", "-f", str(cloud.tmp), "--provider", "mars", "--cluster-name", "e2e")
    assert unknown.returncode == 2
    assert "mars" in unknown.stderr and "aws" in unknown.stderr
    no_cluster = cloud.cli("plan", "-f", str(cloud.tmp))
    assert no_cluster.returncode == 2
    assert "Traceback" not in no_cluster.stderr


def test_apply_wait_reports_once_the_load_balancer_is_active(cloud: Cloud) -> None:
    manifests = cloud.write("web.yaml", *cloud.nodes(), service("web"))
    code, body = cloud.run("apply", manifests, extra=("--wait", "--wait-timeout", "60"))
    assert code == 0, body
    assert cloud.server.calls()[-1] == "DescribeLoadBalancers"  # the wait, after the writes
    (entry,) = body["objects"]
    assert entry["status"]["loadBalancer"]["ingress"][0]["hostname"]
    (arn,) = cloud.owned_load_balancers("Service/default/web")
    state = cloud.elbv2.describe_load_balancers(LoadBalancerArns=[arn])["LoadBalancers"][0]
    assert state["State"]["Code"] == "active"


def test_vpc_id_flag_is_the_vpc_the_nodes_must_be_in(cloud: Cloud) -> None:
    manifests = cloud.write("web.yaml", *cloud.nodes(), service("web"))
    other = cloud.ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    code, plan = cloud.run("plan", manifests, extra=("--vpc-id", other))
    assert code == 1
    (error,) = plan["errors"]
    assert other in error["error"]
    assert any(i in error["error"] for i in cloud.seeded.instance_ids)
    code, plan = cloud.run("plan", manifests, extra=("--vpc-id", cloud.seeded.vpc_id))
    assert code == 0
    assert plan["changes"]
