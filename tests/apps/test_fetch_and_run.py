"""The FetchAndRun stack: what the app must contain, from the session's one synthesis (five cdk-nag packs on)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from apps.fetch_and_run.stack import SCRIPTS_PREFIX

from ..conftest import SynthesizedApp
from ..helpers import one, resources

STACK = "FetchAndRun"
#: The three packs that share the bucket rules.
PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


@pytest.fixture(scope="module")
def app(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    return synth_app("fetch_and_run")


@pytest.fixture(scope="module")
def tpl(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(STACK)


def logical_id(tpl: dict[str, Any], resource_type: str, prefix: str) -> str:
    ids = [k for k in resources(tpl, resource_type) if k.startswith(prefix)]
    assert len(ids) == 1, ids
    return ids[0]


def definition(tpl: dict[str, Any]) -> str:
    """The state machine definition with CloudFormation references rendered as ``<LogicalId>``."""
    _, machine = one(tpl, "AWS::StepFunctions::StateMachine")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]

    def text(part: Any) -> str:
        if isinstance(part, str):
            return part
        if "Ref" in part:
            return f"<{part['Ref']}>"
        return f"<{'.'.join(part['Fn::GetAtt'])}>"

    return "".join(text(p) for p in parts)


def test_the_app_adds_fetch_and_run_and_its_no_nat_variant(app: SynthesizedApp) -> None:
    assert sorted(app.templates) == [STACK, f"{STACK}NoNat"]


def test_jobs_run_on_fargate_on_demand_only(tpl: dict[str, Any]) -> None:
    env_id, env = one(tpl, "AWS::Batch::ComputeEnvironment")
    assert env["Properties"]["ComputeResources"]["Type"] == "FARGATE"  # not FARGATE_SPOT: scripts may not rerun
    _, queue = one(tpl, "AWS::Batch::JobQueue")
    assert [o["ComputeEnvironment"] for o in queue["Properties"]["ComputeEnvironmentOrder"]] == [
        {"Fn::GetAtt": [env_id, "ComputeEnvironmentArn"]}
    ]


def test_the_job_takes_the_script_and_its_arguments_as_parameters(tpl: dict[str, Any]) -> None:
    _, job = one(tpl, "AWS::Batch::JobDefinition")
    props = job["Properties"]
    task = props["EcsProperties"]["TaskProperties"][0]
    container, _router = task["Containers"]
    assert props["PlatformCapabilities"] == ["FARGATE"]
    assert container["Command"] == ["python", "/app/runner.py", "--script", "Ref::script", "--args", "Ref::args"]
    assert "Parameters" not in props  # no default script; an unpassed args reaches the runner as 'Ref::args'
    assert props["RetryStrategy"] == {"Attempts": 1}  # a script is never run twice by Batch
    assert props["Timeout"] == {"AttemptDurationSeconds": 3600}
    environment = {e["Name"]: e["Value"] for e in container["Environment"]}
    scripts = logical_id(tpl, "AWS::S3::Bucket", "Scripts")
    assert environment == {
        "FETCH_AND_RUN_ALLOWED_PREFIX": {"Fn::Join": ["", ["s3://", {"Ref": scripts}, f"/{SCRIPTS_PREFIX}"]]},
        "FETCH_AND_RUN_MAX_BYTES": "1048576",
        "FETCH_AND_RUN_TIMEOUT_SECONDS": "3000",  # the runner stops the script before Batch stops the job
    }
    assert task["NetworkConfiguration"] == {"AssignPublicIp": "DISABLED"}
    assert props["ResourceRetentionPolicy"] == {"SkipDeregisterOnUpdate": True}  # queued runs survive a deploy


def test_a_firelens_router_ships_the_runners_output_to_the_jobs_log_group(tpl: dict[str, Any]) -> None:
    _, job = one(tpl, "AWS::Batch::JobDefinition")
    runner, router = job["Properties"]["EcsProperties"]["TaskProperties"][0]["Containers"]
    # 1 vCPU / 2 GiB in total, as before: the sum is the Fargate task size
    sizes = [{r["Type"]: r["Value"] for r in c["ResourceRequirements"]} for c in (runner, router)]
    assert sizes == [{"VCPU": "0.75", "MEMORY": "1536"}, {"VCPU": "0.25", "MEMORY": "512"}]
    assert (runner["Name"], runner["Essential"], router["Name"], router["Essential"]) == (
        "runner",
        True,
        "log_router",
        False,
    )
    assert runner["DependsOn"] == [{"ContainerName": "log_router", "Condition": "START"}]
    assert router["FirelensConfiguration"] == {"Type": "fluentbit"}
    log_group = logical_id(tpl, "AWS::Logs::LogGroup", "PlatformRunScriptLogGroup")
    assert runner["LogConfiguration"]["LogDriver"] == "awsfirelens"
    assert runner["LogConfiguration"]["Options"]["log_group_name"] == {"Ref": log_group}
    # the router writes with the job role, which may write to that one log group
    job_role = logical_id(tpl, "AWS::IAM::Role", "PlatformRunScriptJobRole")
    statements = [
        s
        for p in resources(tpl, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": job_role} in p["Properties"].get("Roles", [])
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    assert {
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Effect": "Allow",
        "Resource": {"Fn::GetAtt": [log_group, "Arn"]},
    } in statements


def test_a_state_machine_submits_the_job_with_the_executions_parameters_and_waits(tpl: dict[str, Any]) -> None:
    job_id, _ = one(tpl, "AWS::Batch::JobDefinition")
    queue_id, _ = one(tpl, "AWS::Batch::JobQueue")
    states = json.loads(definition(tpl))["States"]
    submit = states["SubmitJob"]
    assert submit["Resource"] == "arn:<AWS::Partition>:states:::batch:submitJob.sync"
    assert submit["Parameters"]["JobDefinition"] == f"<{job_id}>"
    assert submit["Parameters"]["JobQueue"] == f"<{queue_id}.JobQueueArn>"
    assert submit["Parameters"]["Parameters.$"] == "$.parameters"
    assert "NotifyFailure" in {c["Next"] for c in submit["Catch"]}
    _, machine = one(tpl, "AWS::StepFunctions::StateMachine")
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}


def _statements(tpl: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        statement
        for policy_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy")
        for policy in resources(tpl, policy_type).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_the_job_role_may_read_the_scripts_prefix_only(tpl: dict[str, Any]) -> None:
    scripts = logical_id(tpl, "AWS::S3::Bucket", "Scripts")
    key = logical_id(tpl, "AWS::KMS::Key", "BatchConstructsKey")
    policy = tpl["Resources"][logical_id(tpl, "AWS::IAM::ManagedPolicy", "PlatformRunScriptJobRolePolicy")]
    statements = {
        s["Action"]: s["Resource"]
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] != ["logs:CreateLogStream", "logs:PutLogEvents"]  # the FireLens router's, tested above
    }
    assert statements == {
        "s3:GetObject": {"Fn::Join": ["", [{"Fn::GetAtt": [scripts, "Arn"]}, f"/{SCRIPTS_PREFIX}*"]]},
        "s3:ListBucket": {"Fn::GetAtt": [scripts, "Arn"]},
        "kms:Decrypt": {"Fn::GetAtt": [key, "Arn"]},
    }
    # Nowhere in the stack: S3 on '*', wildcard S3 actions, or SubmitJob on every job definition.
    for statement in _statements(tpl):
        actions, targets = _listed(statement["Action"]), _listed(statement["Resource"])
        if any(a.startswith("s3:") for a in actions):
            assert "*" not in targets and not any(a.endswith("*") for a in actions), statement
        if "batch:SubmitJob" in actions:
            assert not any(isinstance(t, dict) and "job-definition/*" in json.dumps(t) for t in targets), statement


def test_buckets_are_retained_private_and_the_scripts_bucket_encrypted_with_the_stacks_key(
    tpl: dict[str, Any],
) -> None:
    buckets = resources(tpl, "AWS::S3::Bucket")
    assert len(buckets) == 2
    for logical, bucket in buckets.items():
        assert bucket.get("DeletionPolicy") == "Retain", logical
        assert bucket.get("UpdateReplacePolicy") == "Retain", logical
        assert all(bucket["Properties"]["PublicAccessBlockConfiguration"].values()), logical
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}, logical
    scripts = buckets[logical_id(tpl, "AWS::S3::Bucket", "Scripts")]["Properties"]
    key = logical_id(tpl, "AWS::KMS::Key", "BatchConstructsKey")
    encryption = scripts["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]}}
    assert scripts["LoggingConfiguration"]["DestinationBucketName"] == {
        "Ref": logical_id(tpl, "AWS::S3::Bucket", "AccessLogs")
    }
    for policy in resources(tpl, "AWS::S3::BucketPolicy").values():  # TLS only, on both buckets
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_the_app_acknowledges_only_the_inherent_findings_on_the_narrowest_constructs(app: SynthesizedApp) -> None:
    metadata = json.loads((app.outdir / f"{STACK}.metadata.json").read_text())
    acknowledged = {
        (path.removeprefix(f"/{STACK}/"), rule)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule in entry["data"]
    }
    placed_by_app = {(p, r) for p, r in acknowledged if p.startswith(("Scripts", "AccessLogs", "Platform/RunScript/"))}
    assert placed_by_app == {
        (
            "Platform/RunScript/JobRole/Policy",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<Scripts278D36FF.Arn>/scripts/*]",
        ),
        # placed by the library's ExecutionRole (ecr:GetAuthorizationToken has no resource-level permission)
        ("Platform/RunScript/ExecutionRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
        *{(f"{b}/Resource", f"{p}::{p}-S3BucketReplicationEnabled") for b in ("Scripts", "AccessLogs") for p in PACKS},
        *{("AccessLogs/Resource", f"{p}::{p}-S3DefaultEncryptionKMS") for p in PACKS},
    }
    # The library warning about parameters without defaults is acknowledged on the job, with the reason.
    assert not [e for entries in metadata.values() for e in entries if e["type"] == "aws:cdk:warning"], (
        "unacknowledged warnings"
    )
