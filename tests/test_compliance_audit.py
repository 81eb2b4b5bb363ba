"""Compliance that holds however the stacks are synthesized and however they are audited.

* Pinned: every example app synthesized in a stack pinned to an account and region (literal ARNs where an agnostic
  stack has pseudo-parameters) has zero cdk-nag findings, warnings included (``pinned_app`` asserts it).
* Template only: every synthesized template, re-read through ``cloudformation_include`` in a fresh app with the five
  packs, has zero unacknowledged findings: the acknowledgements travel in each resource's ``Metadata``.
"""

from __future__ import annotations

import contextlib
import functools
import json
import pathlib
from collections.abc import Callable
from dataclasses import dataclass

import aws_cdk as cdk
import pytest
from aws_cdk import cloudformation_include as cfn_inc

from apps import APP_MODULES
from batch_constructs.compliance import (
    acknowledge_from_template_metadata,
    add_compliance_packs,
    unacknowledged_findings,
)

from .conftest import PINNED_ACCOUNT, PINNED_AZS, PINNED_REGION, SynthesizedApp, synthesized_once
from .helpers import resources


@pytest.mark.parametrize("module", APP_MODULES)
def test_pinned_app_has_no_findings(pinned_app: Callable[[str], SynthesizedApp], module: str) -> None:
    # GIVEN the app's stacks pinned to an account and region (the fixture asserts zero findings, warnings included)
    synthesized = pinned_app(module)
    # THEN the stacks really are pinned: literal account and region in the template, real AZ names from context
    text = json.dumps(synthesized.templates)
    assert f"{PINNED_REGION}:{PINNED_ACCOUNT}" in text
    assert "dummy" not in text
    for tpl in synthesized.templates.values():
        for subnet in resources(tpl, "AWS::EC2::Subnet").values():
            assert subnet["Properties"]["AvailabilityZone"] in PINNED_AZS


@dataclass(frozen=True)
class Reaudit:
    findings: list[str]
    reapplied: dict[str, int]  # stack name -> acknowledgements read back from its template


@pytest.fixture(scope="session")
def reaudit(all_apps: list[SynthesizedApp]) -> Reaudit:
    """Every example template re-read in ONE fresh app (one synthesis for all), as an auditor with only cdk.out."""
    outdir = synthesized_once("cdk.out.reaudit", functools.partial(_reaudit, all_apps), reads=(pathlib.Path(__file__),))
    reapplied = json.loads((outdir / REAPPLIED).read_text())
    return Reaudit(unacknowledged_findings(outdir), reapplied)


#: The re-audit's record of how many acknowledgements each stack's template carried back.
REAPPLIED = "reapplied.json"


def _reaudit(all_apps: list[SynthesizedApp], outdir: pathlib.Path) -> None:
    app = cdk.App(outdir=str(outdir))
    reapplied: dict[str, int] = {}
    for synthesized in all_apps:
        for stack_name in synthesized.templates:
            template_file = synthesized.outdir / f"{stack_name}.template.json"
            stack = cdk.Stack(
                app, stack_name, synthesizer=cdk.DefaultStackSynthesizer(generate_bootstrap_version_rule=False)
            )
            include = cfn_inc.CfnInclude(stack, "Template", template_file=str(template_file))
            reapplied[stack_name] = acknowledge_from_template_metadata(include)
    add_compliance_packs(app)
    # A finding fails the synthesis (jsii raises RuntimeError); the report it leaves is what the tests assert on.
    with contextlib.suppress(RuntimeError):
        app.synth()
    (outdir / REAPPLIED).write_text(json.dumps(reapplied))


def test_every_template_re_read_alone_has_no_unacknowledged_findings(reaudit: Reaudit) -> None:
    assert reaudit.findings == []


def test_the_acknowledgements_travel_in_every_template(reaudit: Reaudit) -> None:
    assert reaudit.reapplied and all(count > 0 for count in reaudit.reapplied.values()), reaudit.reapplied


def test_the_no_nat_example_reaches_aws_through_endpoints_open_to_the_vpc_cidr_only(
    synth_app: Callable[[str], SynthesizedApp],
) -> None:
    # GIVEN the fetch-and-run app's no-NAT variant (nag-clean: synth_app asserts it)
    tpl = synth_app("fetch_and_run").template("FetchAndRunNoNat")
    # THEN it has no NAT gateway, and interface endpoints for ECR, ECS and logs
    assert resources(tpl, "AWS::EC2::NatGateway") == {}
    services = json.dumps([e["Properties"]["ServiceName"] for e in resources(tpl, "AWS::EC2::VPCEndpoint").values()])
    for service in ("ecr.api", "ecr.dkr", "logs", "ecs-agent", "s3"):
        assert service in services
    # AND each endpoint's security group admits HTTPS from the VPC's literal CIDR (cdk-nag can judge a literal;
    # on aws-cdk's default Fn::GetAtt every pack's rule threw an error)
    ingress = [
        rule
        for group in resources(tpl, "AWS::EC2::SecurityGroup").values()
        for rule in group["Properties"].get("SecurityGroupIngress", [])
    ]
    assert ingress and all(r["CidrIp"] == "10.0.0.0/16" and r["FromPort"] == 443 for r in ingress), ingress


def test_flow_logs_role_trusts_only_this_accounts_flow_logs(synth_app: Callable[[str], SynthesizedApp]) -> None:
    tpl = synth_app("fetch_and_run").template("FetchAndRun")
    roles = [
        r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        for r in resources(tpl, "AWS::IAM::Role").values()
        if "vpc-flow-logs" in json.dumps(r["Properties"]["AssumeRolePolicyDocument"])
    ]
    assert len(roles) == 1
    condition = roles[0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert ":vpc-flow-log/*" in json.dumps(condition["ArnLike"]["aws:SourceArn"])
