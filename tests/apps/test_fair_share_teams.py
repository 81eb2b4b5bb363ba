"""The FairShareTeams stack: one fair-share queue for two teams, and every submitter carrying its team's share.

Synthesized once per session with the five cdk-nag packs (any finding, warnings included, fails the fixture).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from apps.fair_share_teams import STACK_NAME, stack
from apps.fair_share_teams.job import jobs

from ..conftest import SynthesizedApp
from ..helpers import resources


@pytest.fixture(scope="module")
def app(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    return synth_app("fair_share_teams")


@pytest.fixture(scope="module")
def tpl(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(STACK_NAME)


def only(tpl: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((key, value),) = resources(tpl, resource_type).items()
    return key, value


def by_prefix(tpl: dict[str, Any], resource_type: str, prefix: str) -> tuple[str, dict[str, Any]]:
    ((key, value),) = [(k, v) for k, v in resources(tpl, resource_type).items() if k.startswith(prefix)]
    return key, value


def job_definitions(tpl: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Construct id (IngestJob, SweepJob, AggregateJob, ReportJob) -> job definition properties."""
    found = {}
    for key, value in resources(tpl, "AWS::Batch::JobDefinition").items():
        name = next(n for n in ("IngestJob", "SweepJob", "AggregateJob", "ReportJob") if key.startswith(n))
        found[name] = value["Properties"]
    return found


def state_machine_definition(tpl: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's definition, with each CloudFormation reference replaced by ``<LogicalId>``."""
    _, machine = only(tpl, "AWS::StepFunctions::StateMachine")
    parts = machine["Properties"]["DefinitionString"]["Fn::Join"][1]
    text = "".join(p if isinstance(p, str) else f"<{(p.get('Ref') or p['Fn::GetAtt'][0])}>" for p in parts)
    definition: dict[str, Any] = json.loads(text)
    return definition


def test_the_app_is_one_stack_with_a_unique_name(app: SynthesizedApp) -> None:
    assert sorted(app.templates) == ["FairShareTeams"]
    taken = {"MoviesImporter", "ImageProcessor", "FileScanner", "GpuTraining", "FetchAndRun", "FetchAndRunNoNat"}
    assert STACK_NAME not in taken | {"SharedPlatform", "SharedWorkload"}


def test_one_queue_with_a_fair_share_policy_naming_both_teams(tpl: dict[str, Any]) -> None:
    policy_id, policy = only(tpl, "AWS::Batch::SchedulingPolicy")
    assert policy["Properties"]["FairsharePolicy"] == {
        "ShareDistribution": [
            {"ShareIdentifier": "ingest", "WeightFactor": 0.5},  # a lower weight is a larger share
            {"ShareIdentifier": "analytics", "WeightFactor": 1},
        ],
        "ShareDecaySeconds": 3600,
        "ComputeReservation": 25,
    }
    _, queue = only(tpl, "AWS::Batch::JobQueue")
    assert queue["Properties"]["SchedulingPolicyArn"] == {"Fn::GetAtt": [policy_id, "Arn"]}
    # Fargate Spot first, Fargate On-Demand second; both scale to zero (nothing runs while idle)
    order = sorted(queue["Properties"]["ComputeEnvironmentOrder"], key=lambda o: o["Order"])
    environments = [tpl["Resources"][o["ComputeEnvironment"]["Fn::GetAtt"][0]]["Properties"] for o in order]
    assert [e["ComputeResources"]["Type"] for e in environments] == ["FARGATE_SPOT", "FARGATE"]
    assert all(e["ComputeResources"]["MaxvCpus"] == stack.MAX_VCPUS for e in environments)


def test_every_job_has_a_scheduling_priority_and_its_command(tpl: dict[str, Any]) -> None:
    definitions = job_definitions(tpl)
    assert sorted(definitions) == ["AggregateJob", "IngestJob", "ReportJob", "SweepJob"]
    assert {n: d["SchedulingPriority"] for n, d in definitions.items()} == {
        "IngestJob": 50,
        "SweepJob": 10,
        "AggregateJob": 50,
        "ReportJob": 50,
    }
    commands = {n: d["ContainerProperties"]["Command"][:3] for n, d in definitions.items()}
    assert commands == {
        "IngestJob": ["python", "/app/jobs.py", "ingest"],
        "SweepJob": ["python", "/app/jobs.py", "sweep"],
        "AggregateJob": ["python", "/app/jobs.py", "aggregate"],
        "ReportJob": ["python", "/app/jobs.py", "report"],
    }
    assert definitions["AggregateJob"]["Parameters"]["shards"] == str(stack.SHARDS)
    assert all(d["PlatformCapabilities"] == ["FARGATE"] for d in definitions.values())


def test_uploads_reach_the_lambda_submitter_with_share_ingest(tpl: dict[str, Any]) -> None:
    function_id, function = by_prefix(tpl, "AWS::Lambda::Function", "UploadSubmitter")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["SHARE_IDENTIFIER"] == "ingest"
    assert variables["JOB_DEFINITION"] == {"Ref": next(k for k in resources(tpl, "AWS::Batch::JobDefinition")
                                                       if k.startswith("IngestJob"))}  # fmt: skip
    assert variables["DEDUPLICATE"] == "true"  # an upload delivered twice is submitted once
    _, rule = by_prefix(tpl, "AWS::Events::Rule", "OnUpload")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": f"{jobs.INCOMING_PREFIX}*{jobs.UPLOAD_SUFFIX}"}]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [function_id, "Arn"]}
    dead_letter_id = target["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
    assert dead_letter_id.startswith("UploadSubmitterDeadLetterQueue")  # one queue for every lost upload
    # The bucket sends its events to EventBridge (without a custom resource)
    _, bucket = by_prefix(tpl, "AWS::S3::Bucket", "Data")
    assert bucket["Properties"]["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True
    # No EventBridge rule submits to the queue directly: its Batch target could not carry the share identifier
    for _, any_rule in resources(tpl, "AWS::Events::Rule").items():
        assert all("BatchParameters" not in t for t in any_rule["Properties"]["Targets"])


def test_the_nightly_sweep_goes_through_eventbridge_scheduler_with_share_ingest(tpl: dict[str, Any]) -> None:
    _, schedule = only(tpl, "AWS::Scheduler::Schedule")
    props = schedule["Properties"]
    assert props["ScheduleExpression"] == "cron(0 1 * * ? *)"
    assert ":scheduler:::aws-sdk:batch:submitJob" in json.dumps(props["Target"]["Arn"])
    request = json.dumps(props["Target"]["Input"])
    assert '\\"ShareIdentifier\\":\\"ingest\\"' in request
    sweep_id = next(k for k in resources(tpl, "AWS::Batch::JobDefinition") if k.startswith("SweepJob"))
    assert sweep_id in request


def test_the_pipeline_runs_fan_out_then_fan_in_with_share_analytics(tpl: dict[str, Any]) -> None:
    states = state_machine_definition(tpl)["States"]
    aggregate, report = states["AggregateJob"], states["ReportJob"]
    assert aggregate["Next"] == "ReportJob" and aggregate["Resource"].endswith(":states:::batch:submitJob.sync")
    assert aggregate["Parameters"]["ArrayProperties"] == {"Size": stack.SHARDS}
    assert aggregate["Parameters"]["ShareIdentifier"] == "analytics"
    assert report["Parameters"]["ShareIdentifier"] == "analytics"
    # The report reads the parts of the array job the first step ran
    assert report["Parameters"]["Parameters"] == {"run.$": "$.steps.step0.JobId"}
    # The schedule starts it at 02:00 UTC, after the sweep
    _, rule = by_prefix(tpl, "AWS::Events::Rule", "NightlyRun")
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    machine_id, _ = only(tpl, "AWS::StepFunctions::StateMachine")
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Ref": machine_id}


def test_every_submission_carries_its_teams_share_identifier(tpl: dict[str, Any]) -> None:
    """Ingest's share on both of its submitters, analytics' on both pipeline steps."""
    text = json.dumps(tpl)
    _, function = by_prefix(tpl, "AWS::Lambda::Function", "UploadSubmitter")
    schedule_input = only(tpl, "AWS::Scheduler::Schedule")[1]["Properties"]["Target"]["Input"]["Fn::Join"][1]
    shares = {
        "uploads": function["Properties"]["Environment"]["Variables"]["SHARE_IDENTIFIER"],
        "sweep": json.loads("".join(p if isinstance(p, str) else "X" for p in schedule_input))["ShareIdentifier"],
        **{
            name: state["Parameters"]["ShareIdentifier"]
            for name, state in state_machine_definition(tpl)["States"].items()
            if state.get("Resource", "").endswith("submitJob.sync")
        },
    }
    assert shares == {"uploads": "ingest", "sweep": "ingest", "AggregateJob": "analytics", "ReportJob": "analytics"}
    assert text.count("ShareIdentifier") >= len(shares)


def submit_resources(tpl: dict[str, Any], role_prefix: str) -> list[Any]:
    """The resources of every batch:SubmitJob statement in the managed policies of roles starting with the prefix."""
    found = []
    for key, policy in resources(tpl, "AWS::IAM::ManagedPolicy").items():
        if not key.startswith(role_prefix):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "batch:SubmitJob" in actions:
                found += statement["Resource"]
    return found


@pytest.mark.parametrize(
    ("role_prefix", "job"), [("UploadSubmitter", "IngestJob"), ("NightlySweep", "SweepJob"), ("NightlyReport", "")]
)
def test_submitters_may_submit_only_their_jobs_to_the_queue(tpl: dict[str, Any], role_prefix: str, job: str) -> None:
    submit = submit_resources(tpl, role_prefix)
    text = json.dumps(submit)
    assert submit and "Queue956AD878" in text
    assert '"*"' not in text and "job-definition/*" not in text
    for other in ("IngestJob", "SweepJob", "AggregateJob", "ReportJob"):
        if job and other != job:
            assert other not in text, (role_prefix, other)


def grants(tpl: dict[str, Any], role_prefix: str) -> dict[str, set[str]]:
    """S3 action -> the object-ARN suffixes a job role's managed policy grants it on."""
    found: dict[str, set[str]] = {}
    for key, policy in resources(tpl, "AWS::IAM::ManagedPolicy").items():
        if not key.startswith(role_prefix):
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for action in actions:
                if action.startswith("s3:") and action != "s3:ListBucket":
                    for target in targets:
                        suffix = target["Fn::Join"][1][-1] if isinstance(target, dict) and "Fn::Join" in target else ""
                        found.setdefault(action, set()).add(suffix)
    return found


def test_each_teams_jobs_touch_only_their_prefixes(tpl: dict[str, Any]) -> None:
    assert grants(tpl, "IngestJob") == {"s3:GetObject": {"/incoming/*"}, "s3:PutObject": {"/curated/*", "/rejects/*"}}
    assert grants(tpl, "SweepJob") == {
        "s3:GetObject": {"/incoming/*", "/curated/*"},
        "s3:PutObject": {"/curated/*", "/rejects/*"},
    }
    assert grants(tpl, "AggregateJob") == {"s3:GetObject": {"/curated/*"}, "s3:PutObject": {"/aggregates/*"}}
    assert grants(tpl, "ReportJob") == {"s3:GetObject": {"/aggregates/*"}, "s3:PutObject": {"/reports/*"}}


def test_stateful_resources_are_retained_and_nothing_has_a_physical_name(tpl: dict[str, Any]) -> None:
    for resource_type in ("AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup"):
        for key, resource in resources(tpl, resource_type).items():
            assert resource.get("DeletionPolicy") == "Retain", key
            assert resource.get("UpdateReplacePolicy") == "Retain", key
    for key, resource in tpl["Resources"].items():
        props = resource.get("Properties", {})
        # A literal string is a physical name; a Ref/GetAtt (a flow log naming its log group) is not.
        named = [p for p in ("BucketName", "JobQueueName", "JobDefinitionName", "StateMachineName", "FunctionName",
                             "QueueName", "TopicName", "RoleName", "LogGroupName", "ComputeEnvironmentName", "Name")
                 if isinstance(props.get(p), str)]  # fmt: skip
        assert named == [], (key, named)
