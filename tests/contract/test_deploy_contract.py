"""The deploy contract over every synthesized template, and each rule against a template that breaks it."""

from __future__ import annotations

import copy
import pathlib
import re
from typing import Any

import pytest

from batch_constructs.model import deploy_contract as contract

from ..conftest import SynthesizedApp
from ..core_stacks import default_platform, ec2_platform, efa_stack
from .fixtures import contract_stack

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULE_IDS = [r.id for r in contract.CONTRACT_RULES]


# ------------------------------------------------------------------------------------- every template keeps it


def test_every_example_app_keeps_the_deploy_contract(all_apps: list[SynthesizedApp]) -> None:
    problems = {
        f"{app.module}/{name}": contract.check_template(tpl) for app in all_apps for name, tpl in app.templates.items()
    }
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(problems) >= len(all_apps)


@pytest.mark.parametrize("build", [default_platform, ec2_platform, efa_stack], ids=lambda b: b.__name__)
def test_core_stacks_keep_the_deploy_contract(build: Any) -> None:
    assert contract.check_template(build().template) == []


def test_the_fixture_stack_keeps_the_deploy_contract() -> None:
    tpl, _ = contract_stack()
    assert contract.check_template(tpl) == []


# ------------------------------------------------------------------------------- each rule fails a bad template


def _fixture() -> dict[str, Any]:
    return copy.deepcopy(contract_stack()[0])


def _logical_ids(tpl: dict[str, Any], resource_type: str, prefix: str) -> list[str]:
    return [k for k, v in tpl["Resources"].items() if v["Type"] == resource_type and k.startswith(prefix)]


def _env(tpl: dict[str, Any], prefix: str) -> dict[str, Any]:
    (logical_id,) = _logical_ids(tpl, "AWS::Batch::ComputeEnvironment", prefix)
    props: dict[str, Any] = tpl["Resources"][logical_id]["Properties"]
    return props


def _efa_template_data(tpl: dict[str, Any]) -> dict[str, Any]:
    (logical_id,) = _logical_ids(tpl, "AWS::EC2::LaunchTemplate", "EfaLaunchTemplate")
    data: dict[str, Any] = tpl["Resources"][logical_id]["Properties"]["LaunchTemplateData"]
    return data


def _rule_ids(problems: list[str]) -> set[str]:
    return {m.group(1) for p in problems if (m := re.match(r"\[([a-z-]+)\]", p))}


def _break_sg_or_interfaces(tpl: dict[str, Any]) -> None:
    _env(tpl, "Efa")["ComputeResources"]["SecurityGroupIds"] = [{"Fn::GetAtt": ["NetworkJobsSG", "GroupId"]}]


def _break_efa_security_group(tpl: dict[str, Any]) -> None:
    for logical_id in _logical_ids(tpl, "AWS::EC2::SecurityGroupEgress", "EfaEfaSecurityGroup"):
        del tpl["Resources"][logical_id]


def _break_efa_driver(tpl: dict[str, Any]) -> None:
    del _efa_template_data(tpl)["UserData"]


def _break_efa_memlock(tpl: dict[str, Any]) -> None:
    (logical_id,) = _logical_ids(tpl, "AWS::Batch::JobDefinition", "EfaJob")
    for node_range in tpl["Resources"][logical_id]["Properties"]["NodeProperties"]["NodeRangeProperties"]:
        node_range["Container"].pop("Ulimits", None)


def _break_imds_locked(tpl: dict[str, Any]) -> None:
    (logical_id,) = _logical_ids(tpl, "AWS::EC2::LaunchTemplate", "SpotLaunchTemplate")
    tpl["Resources"][logical_id]["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpPutResponseHopLimit"] = 2


def _break_launch_template_version(tpl: dict[str, Any]) -> None:
    _env(tpl, "Gpu")["ComputeResources"]["LaunchTemplate"]["Version"] = "$Latest"


def _break_fargate_no_update(tpl: dict[str, Any]) -> None:
    _env(tpl, "FargateSpot")["UpdatePolicy"] = {"JobExecutionTimeoutMinutes": 30}


def _break_time_limits(tpl: dict[str, Any]) -> None:
    _env(tpl, "Ec2User")["UpdatePolicy"]["JobExecutionTimeoutMinutes"] = 7201


def _break_retry_patterns(tpl: dict[str, Any]) -> None:
    (logical_id,) = _logical_ids(tpl, "AWS::Batch::JobDefinition", "Ec2Job")
    conditions = tpl["Resources"][logical_id]["Properties"]["RetryStrategy"]["EvaluateOnExit"]
    conditions[0]["OnStatusReason"] = "Host EC2 (instance .*) terminated"


BREAKERS = {
    "sg-or-interfaces": _break_sg_or_interfaces,
    "efa-security-group": _break_efa_security_group,
    "efa-driver": _break_efa_driver,
    "efa-memlock": _break_efa_memlock,
    "imds-locked": _break_imds_locked,
    "launch-template-version": _break_launch_template_version,
    "fargate-no-update": _break_fargate_no_update,
    "time-limits": _break_time_limits,
    "retry-patterns": _break_retry_patterns,
}


def test_every_rule_has_a_breaking_template() -> None:
    assert sorted(BREAKERS) == sorted(RULE_IDS)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_each_rule_fails_a_template_that_breaks_it(rule_id: str) -> None:
    # GIVEN the fixture stack's template, broken in the one way the rule is about
    tpl = _fixture()
    BREAKERS[rule_id](tpl)
    # THEN that rule, and only that rule, reports it
    assert _rule_ids(contract.check_template(tpl)) == {rule_id}


def test_efa_driver_accepts_a_custom_ami_instead_of_user_data() -> None:
    tpl = _fixture()
    _break_efa_driver(tpl)
    _env(tpl, "Efa")["ComputeResources"]["Ec2Configuration"][0]["ImageIdOverride"] = "ami-0123456789abcdef0"
    assert contract.check_template(tpl) == []


def test_efa_security_group_needs_inbound_too() -> None:
    tpl = _fixture()
    for logical_id in _logical_ids(tpl, "AWS::EC2::SecurityGroupIngress", "EfaEfaSecurityGroup"):
        del tpl["Resources"][logical_id]
    problems = contract.check_template(tpl)
    assert len(problems) == 1 and "inbound from" in problems[0]


def test_imds_locked_requires_a_launch_template_on_ec2_environments() -> None:
    tpl = _fixture()
    del _env(tpl, "Spot")["ComputeResources"]["LaunchTemplate"]
    assert _rule_ids(contract.check_template(tpl)) == {"imds-locked"}


def test_time_limits_cover_queues_and_job_timeouts() -> None:
    tpl = _fixture()
    (queue_id,) = _logical_ids(tpl, "AWS::Batch::JobQueue", "Ec2Queue")
    tpl["Resources"][queue_id]["Properties"]["JobStateTimeLimitActions"][0]["MaxTimeSeconds"] = 300
    (job_id,) = _logical_ids(tpl, "AWS::Batch::JobDefinition", "Ec2Job")
    tpl["Resources"][job_id]["Properties"]["Timeout"]["AttemptDurationSeconds"] = 30
    problems = contract.check_template(tpl)
    assert len(problems) == 2 and all(p.startswith("[time-limits]") for p in problems)


def test_values_known_only_at_deploy_are_not_reported() -> None:
    tpl = _fixture()
    _env(tpl, "Ec2User")["UpdatePolicy"]["JobExecutionTimeoutMinutes"] = {"Ref": "Minutes"}
    assert contract.check_template(tpl) == []


# ---------------------------------------------------------------------------------------------- documentation


def test_every_rule_is_documented_with_its_source() -> None:
    doc = (ROOT / "docs" / "deploy-contract.md").read_text()
    for rule in contract.CONTRACT_RULES:
        assert f"`{rule.id}`" in doc, rule.id
    documented = set(re.findall(r"^\| `([a-z-]+)` \|", doc, flags=re.MULTILINE))
    assert documented == set(RULE_IDS)
