"""The provider contract for Application Load Balancers on moto, in-process and in server mode:
create, re-apply, minimal updates of rules, zero-gap order, frozen Ingresses, delete,
ownership."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from providers.aws import marks as m
from providers.aws.provider import AwsProvider
from providers.aws.seed import SeededCluster
from providers.base import OwnershipConflict, Plan
from provisioner.model import LoadBalancer
from tests.aws.builders import (
    ALB_KEY,
    application,
    forward,
    http_backend,
    https_listener,
    redirect_listener,
    route,
    shop_routes,
    with_routes,
)
from tests.aws.certs import import_certificates
from tests.aws.conftest import CLUSTER, LB_CLASS, Cloud

HOST = "shop.example.com"


def converge(provider: AwsProvider, desired: LoadBalancer | None) -> Plan:
    plan = provider.plan(ALB_KEY, desired)
    provider.apply(plan)
    return plan


def ops(plan: Plan) -> list[tuple[str, str]]:
    return [(c.action.value, c.type) for c in plan.changes]


def mutating_calls(cloud: Cloud, provider: AwsProvider, plan: Plan) -> list[str]:
    """The writes `apply` makes, as botocore saw them; our own counter must agree."""
    cloud.recorder.clear()
    provider.clients.counter.reset()
    provider.apply(plan)
    ours = [
        op
        for op, n in provider.clients.counter.by_operation().items()
        for _ in range(n)
        if not op.startswith(("Describe", "Get", "List"))
    ]
    assert sorted(ours) == sorted(cloud.recorder.mutating())
    return cloud.recorder.mutating()


def the_lb(cloud: Cloud) -> dict[str, Any]:
    """Our load balancer (its name is generated), whatever else exists."""
    lbs = cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    [lb] = [x for x in lbs if x["LoadBalancerName"].startswith("k8s-")]
    return dict(lb)


def listener_on(cloud: Cloud, port: int) -> dict[str, Any]:
    listeners = cloud.elbv2.describe_listeners(LoadBalancerArn=the_lb(cloud)["LoadBalancerArn"])
    return next(dict(x) for x in listeners["Listeners"] if x["Port"] == port)


def rules_on(cloud: Cloud, port: int = 80) -> list[dict[str, Any]]:
    """Non-default rules by priority, each with its tags under `tags`."""
    arn = listener_on(cloud, port)["ListenerArn"]
    rules = [r for r in cloud.elbv2.describe_rules(ListenerArn=arn)["Rules"] if not r["IsDefault"]]
    if rules:
        described = cloud.elbv2.describe_tags(ResourceArns=[r["RuleArn"] for r in rules])
        tags = {t["ResourceArn"]: m.tag_dict(t["Tags"]) for t in described["TagDescriptions"]}
        for rule in rules:
            rule["tags"] = tags.get(rule["RuleArn"], {})
    return sorted(rules, key=lambda r: int(r["Priority"]))


def roles(cloud: Cloud, port: int = 80) -> list[str]:
    return [r["tags"].get(m.RESOURCE, "") for r in rules_on(cloud, port)]


def test_create_with_rules_tls_sni_and_redirect(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    certs = import_certificates(cloud.acm, HOST, "a.example.com", "b.example.com")
    desired = application(
        seeded, listeners=(redirect_listener(), https_listener(certs, shop_routes()))
    )
    plan = provider.plan(ALB_KEY, desired)
    kinds = ops(plan)
    assert kinds.count(("create", "rule")) == 3
    assert kinds.index(("create", "listener")) < kinds.index(("create", "rule"))
    status = provider.apply(plan)
    lb = the_lb(cloud)
    assert lb["Type"] == "application"
    assert status.hostnames == (lb["DNSName"],)
    assert sorted(z["SubnetId"] for z in lb["AvailabilityZones"]) == sorted(seeded.private_subnets)
    http = listener_on(cloud, 80)
    assert http["Protocol"] == "HTTP"
    assert http["DefaultActions"][0]["RedirectConfig"]["Protocol"] == "HTTPS"
    https = listener_on(cloud, 443)
    assert https["SslPolicy"] == "ELBSecurityPolicy-TLS13-1-2-2021-06"
    assert https["Certificates"][0]["CertificateArn"] == certs[0]
    listed = cloud.elbv2.describe_listener_certificates(ListenerArn=https["ListenerArn"])
    assert sorted(c["CertificateArn"] for c in listed["Certificates"]) == sorted(certs)
    rules = rules_on(cloud, 443)
    assert [r["tags"][m.RESOURCE] for r in rules] == [
        "rule:shop/api:0",
        "rule:shop/web:0",
        "rule:catch-all:shop.example.com",
    ]
    assert rules[0]["tags"][m.INGRESS] == "shop/api"
    assert m.INGRESS not in rules[2]["tags"]
    assert {r["tags"][m.OWNER] for r in rules} == {ALB_KEY}
    assert {r["tags"][m.CLUSTER] for r in rules} == {CLUSTER}
    assert {r["tags"][m.CLASS] for r in rules} == {LB_CLASS}
    paths = rules[0]["Conditions"][1]["PathPatternConfig"]["Values"]
    assert sorted(paths) == ["/api", "/api/*"]
    tgs = cloud.elbv2.describe_target_groups()["TargetGroups"]
    assert {(tg["Protocol"], tg["ProtocolVersion"], tg["HealthCheckPath"]) for tg in tgs} == {
        ("HTTP", "HTTP1", "/healthz")
    }
    assert "AddTags" not in cloud.recorder.calls
    assert "CreateTags" not in cloud.recorder.calls


def test_reapply_is_empty_and_makes_no_mutating_call(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    certs = import_certificates(cloud.acm, HOST, "a.example.com")
    desired = application(
        seeded, listeners=(redirect_listener(), https_listener(certs, shop_routes()))
    )
    converge(provider, desired)
    plan = provider.plan(ALB_KEY, desired)
    assert plan.empty, [c.as_json() for c in plan.changes]
    assert mutating_calls(cloud, provider, plan) == []
    fresh = cloud.provider()
    assert fresh.plan(ALB_KEY, desired).empty
    # Certificates already on the listener are not looked up in ACM again.
    assert not any(op == "DescribeCertificate" for op in fresh.clients.counter.by_operation())


def test_add_path_is_one_create_rule(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    before = {r["tags"][m.RESOURCE]: r["RuleArn"] for r in rules_on(cloud)}
    api, web, catch_all = shop_routes()
    static = route("shop/web:1", "shop/web:80", host=HOST, path="/static", owner="shop/web")
    first = route("shop/web:2", "shop/web:80", host=HOST, path="/a/b", owner="shop/web")
    for routes in ((api, static, web, catch_all), (first, api, static, web, catch_all)):
        desired = with_routes(application(seeded), routes)
        plan = provider.plan(ALB_KEY, desired)
        assert ops(plan)[0] == ("create", "rule")
        assert ops(plan)[1:] in ([], [("update", "rule-priorities")])
        calls = mutating_calls(cloud, provider, plan)
        assert calls[0] == "CreateRule"
        assert calls[1:] in ([], ["SetRulePriorities"])
        assert provider.plan(ALB_KEY, desired).empty
    after = rules_on(cloud)
    assert [r["tags"][m.RESOURCE] for r in after] == [
        "rule:shop/web:2",
        "rule:shop/api:0",
        "rule:shop/web:1",
        "rule:shop/web:0",
        "rule:catch-all:shop.example.com",
    ]
    assert {r["tags"][m.RESOURCE]: r["RuleArn"] for r in after}.items() >= before.items()


def test_reorder_is_one_priority_call(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    api, web, catch_all = shop_routes()
    desired = with_routes(application(seeded), (web, api, catch_all))
    plan = provider.plan(ALB_KEY, desired)
    assert ops(plan) == [("update", "rule-priorities")]
    assert mutating_calls(cloud, provider, plan) == ["SetRulePriorities"]
    assert roles(cloud) == [
        "rule:shop/web:0",
        "rule:shop/api:0",
        "rule:catch-all:shop.example.com",
    ]
    assert provider.plan(ALB_KEY, desired).empty


def test_changed_rule_is_modified_in_place(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    arns = [r["RuleArn"] for r in rules_on(cloud)]
    api, web, catch_all = shop_routes()
    desired = with_routes(
        application(seeded),
        (replace(api, path="/v2", action=forward("shop/web:80")), web, catch_all),
    )
    plan = provider.plan(ALB_KEY, desired)
    assert ops(plan) == [("update", "rule")]
    assert set(plan.changes[0].diff) == {"conditions", "actions"}
    assert mutating_calls(cloud, provider, plan) == ["ModifyRule"]
    after = rules_on(cloud)
    assert [r["RuleArn"] for r in after] == arns
    assert sorted(after[0]["Conditions"][1]["PathPatternConfig"]["Values"]) == ["/v2", "/v2/*"]
    assert provider.plan(ALB_KEY, desired).empty


def test_backend_change_registers_first_and_deletes_the_old_group_last(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    old = {
        tg["Port"]: tg["TargetGroupArn"]
        for tg in cloud.elbv2.describe_target_groups()["TargetGroups"]
    }
    api, web, catch_all = shop_routes()
    desired = with_routes(
        application(
            seeded,
            backends=(
                http_backend(seeded, "shop/api-v2:80", 30082),
                http_backend(seeded, "shop/web:80", 30080),
            ),
        ),
        (replace(api, action=forward("shop/api-v2:80")), web, catch_all),
    )
    calls = mutating_calls(cloud, provider, provider.plan(ALB_KEY, desired))
    order = [c for c in calls if c != "AuthorizeSecurityGroupIngress"]
    assert order == [
        "CreateTargetGroup",
        "RegisterTargets",
        "ModifyRule",
        "DeleteTargetGroup",
        "RevokeSecurityGroupIngress",
    ]
    assert calls.index("AuthorizeSecurityGroupIngress") < calls.index("ModifyRule")
    ports = {tg["Port"] for tg in cloud.elbv2.describe_target_groups()["TargetGroups"]}
    assert ports == {30080, 30082}
    assert old[30080] in {
        tg["TargetGroupArn"] for tg in cloud.elbv2.describe_target_groups()["TargetGroups"]
    }
    assert provider.plan(ALB_KEY, desired).empty


def test_frozen_owner_keeps_its_rules_and_target_groups(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    kept = rules_on(cloud)[0]
    assert kept["tags"][m.INGRESS] == "shop/api"
    _, web, catch_all = shop_routes()
    static = route("shop/web:1", "shop/web:80", host=HOST, path="/static", owner="shop/web")
    # shop/api is in error: translation has neither its routes nor its backend.
    frozen = application(
        seeded,
        routes=(static, web, catch_all),
        backends=(http_backend(seeded, "shop/web:80", 30080),),
        frozen=frozenset({"shop/api"}),
    )
    plan = provider.plan(ALB_KEY, frozen)
    assert ops(plan) == [("create", "rule")], [c.as_json() for c in plan.changes]
    provider.apply(plan)
    after = rules_on(cloud)
    assert after[0]["RuleArn"] == kept["RuleArn"]
    assert after[0]["Priority"] == kept["Priority"]
    assert after[0]["Actions"] == kept["Actions"]
    assert [r["tags"][m.RESOURCE] for r in after] == [
        "rule:shop/api:0",
        "rule:shop/web:1",
        "rule:shop/web:0",
        "rule:catch-all:shop.example.com",
    ]
    assert len(cloud.elbv2.describe_target_groups()["TargetGroups"]) == 2
    assert provider.plan(ALB_KEY, frozen).empty
    released = replace(frozen, frozen=frozenset())
    plan = provider.plan(ALB_KEY, released)
    kinds = ops(plan)
    assert kinds.index(("delete", "rule")) < kinds.index(("delete", "target-group"))
    provider.apply(plan)
    assert roles(cloud)[0] == "rule:shop/web:1"
    assert len(cloud.elbv2.describe_target_groups()["TargetGroups"]) == 1
    assert provider.plan(ALB_KEY, released).empty


def test_certificates_change_by_difference(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    certs = import_certificates(cloud.acm, HOST, "a.example.com", "b.example.com")
    converge(provider, application(seeded, listeners=(https_listener(certs[:2]),)))
    sni = application(seeded, listeners=(https_listener((certs[0], certs[2])),))
    plan = provider.plan(ALB_KEY, sni)
    assert [(c.type, list(c.diff)) for c in plan.changes] == [("listener", ["sni_certificates"])]
    assert sorted(mutating_calls(cloud, provider, plan)) == [
        "AddListenerCertificates",
        "RemoveListenerCertificates",
    ]
    assert provider.plan(ALB_KEY, sni).empty
    swapped = application(seeded, listeners=(https_listener((certs[1], certs[2])),))
    plan = provider.plan(ALB_KEY, swapped)
    assert [(c.type, sorted(c.diff)) for c in plan.changes] == [("listener", ["certificate"])]
    assert mutating_calls(cloud, provider, plan)[0] == "ModifyListener"
    assert provider.plan(ALB_KEY, swapped).empty
    listed = cloud.elbv2.describe_listener_certificates(
        ListenerArn=listener_on(cloud, 443)["ListenerArn"]
    )["Certificates"]
    assert {c["CertificateArn"] for c in listed} == {certs[1], certs[2]}


def test_https_listener_policy_and_default_change_in_place(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    certs = import_certificates(cloud.acm, HOST, "a.example.com")
    converge(provider, application(seeded, listeners=(https_listener(certs),)))
    changed = https_listener(
        certs, default=forward("shop/web:80"), policy="ELBSecurityPolicy-TLS13-1-3-2021-06"
    )
    desired = application(seeded, listeners=(changed,))
    plan = provider.plan(ALB_KEY, desired)
    assert [(c.type, sorted(c.diff)) for c in plan.changes] == [
        ("listener", ["default_action", "ssl_policy"])
    ]
    assert mutating_calls(cloud, provider, plan) == ["ModifyListener"]
    assert provider.plan(ALB_KEY, desired).empty
    listed = cloud.elbv2.describe_listener_certificates(
        ListenerArn=listener_on(cloud, 443)["ListenerArn"]
    )["Certificates"]
    assert {c["CertificateArn"] for c in listed} == set(certs)


def test_listener_default_changes_in_place(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    desired = application(seeded)
    listener = replace(desired.listeners[0], default=forward("shop/web:80"))
    desired = replace(desired, listeners=(listener,))
    plan = provider.plan(ALB_KEY, desired)
    assert ops(plan) == [("update", "listener")]
    assert mutating_calls(cloud, provider, plan) == ["ModifyListener"]
    assert provider.plan(ALB_KEY, desired).empty


def test_delete_removes_everything_in_reverse(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    converge(provider, application(seeded))
    plan = provider.plan(ALB_KEY, None)
    assert ops(plan) == [
        ("delete", "load-balancer"),
        ("delete", "target-group"),
        ("delete", "target-group"),
        ("delete", "security-group-rule"),
        ("delete", "security-group-rule"),
        ("delete", "security-group"),
    ]
    assert not provider.apply(plan).holds_resources
    assert cloud.elbv2.describe_load_balancers()["LoadBalancers"] == []
    assert cloud.elbv2.describe_target_groups()["TargetGroups"] == []
    assert provider.owned() == set()
    assert provider.plan(ALB_KEY, None).empty


def test_ownership_clash_and_foreign_rules(
    cloud: Cloud, seeded: SeededCluster, provider: AwsProvider
) -> None:
    cloud.elbv2.create_load_balancer(
        Name="shop-fixed",
        Type="application",
        Scheme="internal",
        Subnets=list(seeded.private_subnets),
    )
    cloud.recorder.clear()
    with pytest.raises(OwnershipConflict, match="shop-fixed"):
        provider.plan(ALB_KEY, application(seeded, name="shop-fixed"))
    assert cloud.recorder.mutating() == []
    desired = application(seeded)
    converge(provider, desired)
    listener = listener_on(cloud, 80)
    cloud.elbv2.create_rule(  # someone else's rule on our listener, at a priority we use later
        ListenerArn=listener["ListenerArn"],
        Priority=15,
        Conditions=[{"Field": "path-pattern", "PathPatternConfig": {"Values": ["/ops"]}}],
        Actions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}],
    )
    assert provider.plan(ALB_KEY, desired).empty
    api, web, catch_all = shop_routes()
    more = with_routes(
        desired,
        (
            api,
            route("shop/web:1", "shop/web:80", host=HOST, path="/s", owner="shop/web"),
            web,
            catch_all,
        ),
    )
    converge(provider, more)
    priorities = [int(r["Priority"]) for r in rules_on(cloud)]
    assert len(set(priorities)) == 5 and 15 in priorities
    assert provider.plan(ALB_KEY, more).empty
    converge(provider, None)
    names = [
        lb["LoadBalancerName"] for lb in cloud.elbv2.describe_load_balancers()["LoadBalancers"]
    ]
    assert names == ["shop-fixed"]
