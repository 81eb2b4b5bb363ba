"""SharedPlatform and SharedWorkload: a platform team's queue, used by a workload team's stack through exports."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template

from apps.shared_platform import (
    CONTEXT_FILE,
    CONTRACT_PARAMETER,
    CONTRACT_QUEUE,
    QUEUE_ARN_EXPORT,
    SharedPlatformStack,
    SharedWorkloadStack,
)
from batch_constructs import BatchConfigurationError, ContainerJob, ImportedQueue
from batch_constructs.model.contract import PlatformContract

from ..conftest import SynthesizedApp
from ..helpers import new_app, resources

PLATFORM = "SharedPlatform"
WORKLOAD = "SharedWorkload"


@pytest.fixture(scope="module")
def app(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    # Synthesized with AwsSolutions, NIST 800-53 R5, HIPAA, PCI DSS and Serverless: any finding fails this fixture.
    return synth_app("shared_platform")


@pytest.fixture(scope="module")
def platform(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(PLATFORM)


@pytest.fixture(scope="module")
def workload(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(WORKLOAD)


def only(tpl: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((key, value),) = resources(tpl, resource_type).items()
    return key, value


def exported_queue(platform: dict[str, Any]) -> dict[str, str]:
    """Export name -> the platform output it exports, for the outputs whose value is the queue's ARN."""
    queue_id, _ = only(platform, "AWS::Batch::JobQueue")
    return {
        o["Export"]["Name"]: name
        for name, o in platform["Outputs"].items()
        if o["Value"] == {"Fn::GetAtt": [queue_id, "JobQueueArn"]} and "Export" in o
    }


def submit_statement(workload: dict[str, Any]) -> dict[str, Any]:
    (statement,) = [
        s
        for p in resources(workload, "AWS::IAM::ManagedPolicy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "batch:SubmitJob"
    ]
    return statement


def test_the_app_is_a_platform_stack_and_a_workload_stack(app: SynthesizedApp) -> None:
    assert sorted(app.templates) == [PLATFORM, WORKLOAD]


def test_the_platform_owns_network_environments_and_queue_and_no_jobs(platform: dict[str, Any]) -> None:
    _, queue = only(platform, "AWS::Batch::JobQueue")
    order = sorted(queue["Properties"]["ComputeEnvironmentOrder"], key=lambda o: o["Order"])
    kinds = [platform["Resources"][o["ComputeEnvironment"]["Fn::GetAtt"][0]] for o in order]
    assert [k["Properties"]["ComputeResources"]["Type"] for k in kinds] == ["FARGATE_SPOT", "FARGATE"]
    assert len(resources(platform, "AWS::EC2::VPC")) == 1
    assert resources(platform, "AWS::Batch::JobDefinition") == {}


def test_the_workload_owns_jobs_and_triggers_and_no_platform(workload: dict[str, Any]) -> None:
    for resource_type in ("AWS::Batch::JobQueue", "AWS::Batch::ComputeEnvironment", "AWS::EC2::VPC"):
        assert resources(workload, resource_type) == {}, resource_type
    assert len(resources(workload, "AWS::Batch::JobDefinition")) == 1


def test_the_platform_exports_the_queue_under_a_stable_name(platform: dict[str, Any]) -> None:
    exports = exported_queue(platform)
    assert exports[QUEUE_ARN_EXPORT] == "JobQueueArn"  # the contract for workloads in other apps
    assert QUEUE_ARN_EXPORT == "SharedPlatform-JobQueueArn"


def test_the_workload_references_the_platform_queue_through_an_import(
    platform: dict[str, Any], workload: dict[str, Any]
) -> None:
    # GIVEN the export names the platform declares for its queue's ARN
    exports = exported_queue(platform)
    # THEN the schedule submits to an import of one of them (never to a copy of the ARN)
    (rule,) = resources(workload, "AWS::Events::Rule").values()
    (target,) = rule["Properties"]["Targets"]
    imported = target["Arn"]["Fn::ImportValue"]
    assert imported in exports
    job_id, _ = only(workload, "AWS::Batch::JobDefinition")
    assert target["BatchParameters"]["JobDefinition"] == {"Ref": job_id}
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 2 * * ? *)"
    assert "DeadLetterConfig" in target
    # AND no weak Fn::GetStackOutput reference appears (cdk.json's default): the import protects the queue
    assert "Fn::GetStackOutput" not in json.dumps(workload)


def test_submit_is_granted_on_the_imported_queue_and_the_job_definitions_revisions_only(
    platform: dict[str, Any], workload: dict[str, Any]
) -> None:
    statement = submit_statement(workload)
    queue, revisions = statement["Resource"]
    assert queue["Fn::ImportValue"] in exported_queue(platform)
    job_id, _ = only(workload, "AWS::Batch::JobDefinition")
    parts = revisions["Fn::Join"][1]
    assert parts[0].endswith(":job-definition/") and parts[-1] == ":*"  # job-definition/NAME:*, never /*
    assert json.dumps({"Ref": job_id}) in json.dumps(parts[-2])  # NAME is this job definition's name


def test_the_nightly_report_lists_the_teams_bucket_on_fargate(workload: dict[str, Any]) -> None:
    _, job = only(workload, "AWS::Batch::JobDefinition")
    props = job["Properties"]
    assert props["PlatformCapabilities"] == ["FARGATE"]
    container = props["ContainerProperties"]
    assert container["Image"].startswith("public.ecr.aws/aws-cli/aws-cli:2.")
    assert container["Command"][:2] == ["s3", "ls"] and "--summarize" in container["Command"]
    data_id = next(k for k in resources(workload, "AWS::S3::Bucket") if k.startswith("Data"))
    role_id = container["JobRoleArn"]["Fn::GetAtt"][0]
    (policy,) = [
        p
        for p in resources(workload, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": "s3:ListBucket", "Effect": "Allow", "Resource": {"Fn::GetAtt": [data_id, "Arn"]}}
    ]


def test_the_teams_buckets_are_retained(workload: dict[str, Any]) -> None:
    buckets = resources(workload, "AWS::S3::Bucket")
    assert len(buckets) == 2
    assert all(b["DeletionPolicy"] == "Retain" for b in buckets.values())


def test_a_workload_in_another_app_imports_the_queue_by_its_export_name() -> None:
    # GIVEN a workload stack in an app without the platform stack (another team's repository)
    stack = SharedWorkloadStack(new_app(), "TeamB")
    tpl = Template.from_stack(stack).to_json()
    # THEN the schedule and the grant use Fn::ImportValue of the platform's stable export
    (rule,) = resources(tpl, "AWS::Events::Rule").values()
    assert rule["Properties"]["Targets"][0]["Arn"] == {"Fn::ImportValue": QUEUE_ARN_EXPORT}
    assert submit_statement(tpl)["Resource"][0] == {"Fn::ImportValue": QUEUE_ARN_EXPORT}


# --- the queue contract across the two apps --------------------------------------------------------------------------


def test_the_platform_publishes_its_queue_contract_as_an_ssm_parameter(platform: dict[str, Any]) -> None:
    _, parameter = only(platform, "AWS::SSM::Parameter")
    props = parameter["Properties"]
    assert props["Name"] == CONTRACT_PARAMETER and props["Type"] == "String" and props["Tier"] == "Standard"
    queue_id, _ = only(platform, "AWS::Batch::JobQueue")
    assert {"Fn::GetAtt": [queue_id, "JobQueueArn"]} in props["Value"]["Fn::Join"][1]


def test_the_committed_context_file_is_the_platform_contract() -> None:
    # GIVEN the contract the platform stack publishes, and the one the workload reads from the committed file
    published = SharedPlatformStack(new_app(), "SharedPlatform").queue.contract()
    (value,) = json.loads(CONTEXT_FILE.read_text()).values()
    committed = PlatformContract.from_json(value).queue(CONTRACT_QUEUE)
    # THEN they agree on everything but the ARN (a deployed value there, a token here): regenerate the file when the
    # platform's queue changes
    assert committed.job_queue_arn.startswith("arn:aws:batch:")
    assert committed.environments == published.environments
    assert (committed.platform, committed.fair_share, committed.share_identifiers) == (
        published.platform,
        published.fair_share,
        published.share_identifiers,
    )


def test_the_workload_checks_its_jobs_against_the_contract_only() -> None:
    # GIVEN the workload stack in an app without the platform (its queue from the committed contract)
    stack = SharedWorkloadStack(new_app(), "TeamC")
    assert isinstance(stack.queue, ImportedQueue) and stack.queue.platform == "FARGATE"
    assert stack.report.platform == "FARGATE"  # from the contract, no platform= in the stack
    # THEN a job the platform's Fargate environments cannot run is rejected at synth
    with pytest.raises(BatchConfigurationError, match=r"\[fargate-gpu\]"):
        ContainerJob(stack, "Gpu", image="public.ecr.aws/x/y:1", queue=stack.queue, gpus=1)
