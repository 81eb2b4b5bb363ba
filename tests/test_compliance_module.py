"""batch_constructs.compliance: the five packs registered as validation plugins, the clear error without cdk-nag,
and the acknowledgement functions it re-exports."""

from __future__ import annotations

import json
import pathlib
import sys

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns

from batch_constructs import compliance, stack_encryption_key
from batch_constructs._internal import compliance as _compliance

from .helpers import NAG_PACKS, new_app


def test_add_compliance_packs_registers_the_five_packs_and_a_finding_fails_the_synth(tmp_path: pathlib.Path) -> None:
    # GIVEN a stack with an unencrypted topic that does not refuse plain HTTP, and a Lambda function without tracing
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Findings")
    sns.Topic(stack, "Plain")
    lambda_.Function(
        stack,
        "Function",
        runtime=lambda_.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context):\n    return event\n"),
    )
    # WHEN the packs are registered and the app synthesized
    compliance.add_compliance_packs(app)
    with pytest.raises(RuntimeError, match="ValidationFailed"):
        app.synth()
    # THEN each of the five packs reported findings
    reports = json.loads((tmp_path / "validation-report.json").read_text())["pluginReports"]
    assert sorted(r["pluginName"] for r in reports) == sorted(NAG_PACKS)
    rules = {v["ruleName"] for r in reports for v in r["violations"]}
    assert "AwsSolutions-SNS3" in rules  # TLS not enforced
    assert "NIST.800.53.R5-SNSEncryptedKMS" in rules
    assert "Serverless-LambdaTracing" in rules


def test_an_acknowledged_finding_passes(tmp_path: pathlib.Path) -> None:
    app = new_app(outdir=str(tmp_path))
    stack = cdk.Stack(app, "Acknowledged")
    topic = sns.Topic(stack, "Topic", enforce_ssl=True, master_key=stack_encryption_key(stack))
    compliance.acknowledge_in_packs(
        topic.node.find_child("Resource"),
        "SNSEncryptedKMS",
        "test: acknowledged in the three control packs although the topic is encrypted",
    )
    compliance.add_compliance_packs(app)
    app.synth()  # raises on any finding
    metadata = json.loads((tmp_path / "Acknowledged.metadata.json").read_text())
    acknowledged = {
        finding
        for entry in metadata["/Acknowledged/Topic/Resource"]
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for finding in entry["data"]
    }
    assert acknowledged == {f"{p}::{p}-SNSEncryptedKMS" for p in compliance.CONTROL_PACKS}


def test_without_cdk_nag_the_error_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cdk_nag", None)  # `import cdk_nag` now raises ImportError
    with pytest.raises(ImportError, match=r"pip install 'batch-constructs\[nag\]'"):
        compliance.add_compliance_packs(new_app())


def test_acknowledgement_functions_are_the_librarys_own() -> None:
    assert compliance.acknowledge is _compliance.acknowledge
    assert compliance.acknowledge_in_packs is _compliance.acknowledge_in_packs
    assert compliance.CONTROL_PACKS == ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    assert set(compliance.__all__) == {
        "CONTROL_PACKS",
        "acknowledge",
        "acknowledge_from_template_metadata",
        "acknowledge_in_packs",
        "add_compliance_packs",
        "unacknowledged_findings",
    }


def test_warning_level_findings_are_reported_even_though_synth_succeeds(tmp_path: pathlib.Path) -> None:
    # GIVEN a VPC without the restrictDefaultSecurityGroup feature flag: NIST/HIPAA/PCI *warn* (not error) about it
    import aws_cdk as cdk

    from batch_constructs import BatchNetwork
    from batch_constructs.compliance import add_compliance_packs, unacknowledged_findings

    # no cdk.json context: the flag is off; no built-in validation either (its engine's start-up costs ~3 s and this
    # test is about cdk-nag's report, see tests.helpers.new_app)
    app = cdk.App(outdir=str(tmp_path), builtin_cloud_formation_validation=False)
    BatchNetwork(cdk.Stack(app, "Warned"), "Network")
    add_compliance_packs(app)
    # WHEN it synthesizes (cdk-nag 3 raises on errors only, so this succeeds)
    assembly = app.synth()
    # THEN the warnings are still found, so `python -m apps` (make synth) can fail on them
    findings = unacknowledged_findings(assembly.directory)
    assert any("VPCDefaultSecurityGroupClosed" in f for f in findings), findings


def test_no_report_means_no_findings(tmp_path: pathlib.Path) -> None:
    from batch_constructs.compliance import unacknowledged_findings

    assert unacknowledged_findings(tmp_path) == []
