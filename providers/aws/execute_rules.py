"""Carrying out ALB rule changes: create, modify in place, one priority call, delete.

As everywhere in apply, each handler may run twice: a create whose response was lost is
looked up by its priority and adopted when that rule carries our marks and role; a delete of
a rule already gone succeeds. A priority taken by anything else is a `Conflict`: the key is
re-read and re-planned, never retried in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from providers.aws import marks as m
from providers.base import Change, Conflict, NotFound, ProviderError

if TYPE_CHECKING:
    from providers.aws.execute import Executor


def _rule_at(ex: Executor, listener_arn: str, priority: int) -> dict[str, str] | None:
    """Tags of the rule holding `priority` on the listener, or None if no rule does."""
    for page in ex.clients.elbv2.pages(
        "DescribeRules", token="Marker", next_token="NextMarker", ListenerArn=listener_arn
    ):
        for rule in page.get("Rules", []):
            if str(rule.get("Priority")) == str(priority):
                items = ex.clients.elbv2.call("DescribeTags", ResourceArns=[rule["RuleArn"]])
                found = items["TagDescriptions"]
                return m.tag_dict(found[0].get("Tags")) if found else {}
    return None


def create_rule(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    args = {
        "ListenerArn": p["ListenerArn"],
        "Priority": p["Priority"],
        "Conditions": p["Conditions"],
        "Actions": p["Actions"],
        "Tags": m.tag_list(p["tags"]),
    }
    try:
        ex.clients.elbv2.call("CreateRule", retry=False, **args)
    except ProviderError as err:
        if not (err.retryable or isinstance(err, Conflict)):
            raise
        tags = _rule_at(ex, p["ListenerArn"], p["Priority"])
        if tags is not None:
            if ex.owned(tags, change.owner) and m.role(tags) == p["tags"][m.RESOURCE]:
                return
            raise Conflict(
                f"rule priority {p['Priority']} on {change.name.split(' ')[0]} is held by "
                f"another rule ({m.describe_marks(tags)}); re-plan"
            ) from err
        if isinstance(err, Conflict):
            raise
        ex.clients.elbv2.call("CreateRule", **args)


def update_rule(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    ex.clients.elbv2.call(
        "ModifyRule", RuleArn=p["RuleArn"], Conditions=p["Conditions"], Actions=p["Actions"]
    )


def set_priorities(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    ex.clients.elbv2.call("SetRulePriorities", RulePriorities=p["RulePriorities"])


def delete_rule(ex: Executor, change: Change, p: dict[str, Any]) -> None:
    try:
        ex.clients.elbv2.call("DeleteRule", RuleArn=p["RuleArn"])
    except NotFound:
        return


RULE_HANDLERS: dict[tuple[str, str], Callable[[Executor, Change, dict[str, Any]], None]] = {
    ("rule", "create"): create_rule,
    ("rule", "update"): update_rule,
    ("rule", "delete"): delete_rule,
    ("rule-priorities", "update"): set_priorities,
}
