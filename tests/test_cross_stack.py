"""The constructs across stacks: a VPC from a network stack, a queue from a platform stack, an imported queue, and
the constructs inside a user's stack with its own VPC."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2

from batch_constructs import BatchPlatform, BatchQueue, ContainerJob, JobRole, SpotEnvironment

from .core_stacks import IMAGE, Built, _build
from .helpers import new_app

SHARED_QUEUE_ARN = "arn:aws:batch:us-east-1:123456789012:job-queue/shared"


@pytest.fixture(scope="module")
def three_stacks() -> dict[str, Any]:
    """A network stack owning the VPC, a platform stack using it, and a workload stack using the platform's queue."""
    # GIVEN a VPC in one stack and a platform in another
    app = new_app()
    network = cdk.Stack(app, "Network")
    vpc = ec2.Vpc(network, "Vpc", max_azs=2, nat_gateways=1)
    platform_stack = cdk.Stack(app, "Platform")
    platform = BatchPlatform(platform_stack, "Batch", vpc=vpc)
    # WHEN a third stack defines jobs on the platform's queue and on a queue imported by ARN
    workload = cdk.Stack(app, "Workload")
    job = ContainerJob(workload, "Job", image=IMAGE, queue=platform.queue)
    submitter = JobRole(workload, "Submitter")
    job.grant_submit_job(submitter)
    shared = batch.JobQueue.from_job_queue_arn(workload, "SharedQueue", SHARED_QUEUE_ARN)
    imported_job = ContainerJob(workload, "ImportedQueueJob", image=IMAGE, queue=shared, platform="FARGATE")
    imported_submitter = JobRole(workload, "ImportedQueueSubmitter")
    imported_job.grant_submit_job(imported_submitter)
    assembly = app.synth()
    templates = {s.stack_name: s.template for s in assembly.stacks}
    return {
        "templates": templates,
        "platform": platform,
        "job": job,
        "imported_job": imported_job,
        "submitter": submitter,
        "imported_submitter": imported_submitter,
        "stacks": {"Network": network, "Platform": platform_stack, "Workload": workload},
    }


@pytest.fixture(scope="module")
def user_stack() -> Built:
    # GIVEN a user's stack with its own VPC WHEN the platform and a standalone environment and queue are added to it
    stack = cdk.Stack(new_app(), "UserStack")
    vpc = ec2.Vpc(stack, "AppVpc", max_azs=2)
    platform = BatchPlatform(stack, "Batch", vpc=vpc)
    spot = SpotEnvironment(stack, "Spot", network=platform.network)
    queue = BatchQueue(stack, "SpotQueue", environments=[spot])
    job = ContainerJob(stack, "Job", image=IMAGE, queue=queue)
    return _build(stack, vpc=vpc, platform=platform, spot=spot, queue=queue, job=job)


def _of_type(template: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == resource_type]


def _imports(value: Any) -> list[str]:
    """The outputs of other stacks a template fragment reads.

    Cross-stack references are ``Fn::GetStackOutput`` (with the project's feature flags) or ``Fn::ImportValue``.
    """
    found: list[str] = []
    if isinstance(value, dict):
        if "Fn::GetStackOutput" in value:
            reference = value["Fn::GetStackOutput"]
            found.append(f"{reference['StackName']}/{reference['OutputName']}")
        elif "Fn::ImportValue" in value:
            found.append(str(value["Fn::ImportValue"]))
        else:
            for item in value.values():
                found += _imports(item)
    elif isinstance(value, list):
        for item in value:
            found += _imports(item)
    return found


def _exports(templates: dict[str, dict[str, Any]], stack_name: str) -> set[str]:
    """What a stack publishes for other stacks: ``Stack/OutputName`` and export names."""
    outputs = templates[stack_name].get("Outputs", {})
    published = {f"{stack_name}/{name}" for name in outputs}
    return published | {o["Export"]["Name"] for o in outputs.values() if "Export" in o}


def _is_reference(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(_imports(value)) == 1
        and set(value) <= {"Fn::GetStackOutput", "Fn::ImportValue"}
    )


# --- VPC in another stack -------------------------------------------------------------------------------------------


def test_the_platform_stack_creates_no_vpc_and_imports_the_subnets(three_stacks: dict[str, Any]) -> None:
    templates = three_stacks["templates"]
    platform_template = templates["Platform"]
    assert _of_type(platform_template, "AWS::EC2::VPC") == []
    assert len(_of_type(templates["Network"], "AWS::EC2::VPC")) == 1
    environments = _of_type(platform_template, "AWS::Batch::ComputeEnvironment")
    assert len(environments) == 2
    for environment in environments:
        subnets = environment["Properties"]["ComputeResources"]["Subnets"]
        assert len(subnets) == 2
        assert all(_is_reference(s) for s in subnets)
    assert set(_imports(platform_template)) <= _exports(templates, "Network")


def test_the_jobs_security_group_lives_in_the_platform_stack_in_the_imported_vpc(three_stacks: dict[str, Any]) -> None:
    templates = three_stacks["templates"]
    (group,) = _of_type(templates["Platform"], "AWS::EC2::SecurityGroup")
    (vpc_import,) = _imports(group["Properties"]["VpcId"])
    assert vpc_import in _exports(templates, "Network")
    # an existing VPC gets no flow logs or endpoints from the platform (they belong to the VPC's owner)
    assert _of_type(templates["Platform"], "AWS::EC2::FlowLog") == []
    assert _of_type(templates["Platform"], "AWS::EC2::VPCEndpoint") == []


# --- queue in another stack -----------------------------------------------------------------------------------------


def _submit_statement(three_stacks: dict[str, Any], role_key: str) -> dict[str, Any]:
    """The one statement of the managed policy of a submitter role of the workload stack."""
    stack: cdk.Stack = three_stacks["stacks"]["Workload"]
    role: JobRole = three_stacks[role_key]
    assert role.managed_policy is not None
    cfn = role.managed_policy.node.default_child
    assert isinstance(cfn, cdk.CfnElement)
    policy = three_stacks["templates"]["Workload"]["Resources"][stack.resolve(cfn.logical_id)]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "batch:SubmitJob"
    return statement  # type: ignore[no-any-return]


def test_a_job_in_another_stack_grants_submit_on_the_imported_queue_arn(three_stacks: dict[str, Any]) -> None:
    statement = _submit_statement(three_stacks, "submitter")
    queue_arn, revisions = statement["Resource"]
    (export,) = _imports(queue_arn)
    assert export in _exports(three_stacks["templates"], "Platform")
    assert "FargateQueue" in export
    assert "JobQueueArn" in export
    assert revisions["Fn::Join"][1][-1] == ":*"
    assert _imports(revisions) == []  # the job definition lives in the workload stack


def test_the_job_knows_the_platform_queue_across_stacks(three_stacks: dict[str, Any]) -> None:
    job: ContainerJob = three_stacks["job"]
    platform: BatchPlatform = three_stacks["platform"]
    assert job.queue is platform.fargate_queue
    assert job.platform == "FARGATE"
    assert _of_type(three_stacks["templates"]["Workload"], "AWS::Batch::JobQueue") == []


def test_a_queue_imported_by_arn_is_granted_by_its_literal_arn(three_stacks: dict[str, Any]) -> None:
    imported_job: ContainerJob = three_stacks["imported_job"]
    assert imported_job.platform == "FARGATE"
    statement = _submit_statement(three_stacks, "imported_submitter")
    assert SHARED_QUEUE_ARN in statement["Resource"]
    assert len(statement["Resource"]) == 2
    assert _imports(statement) == []


# --- a user's stack with its own VPC --------------------------------------------------------------------------------


def test_in_a_user_stack_only_the_user_vpc_exists(user_stack: Built) -> None:
    assert list(user_stack.of_type("AWS::EC2::VPC")) == [user_stack.logical_id(user_stack.parts["vpc"])]
    assert user_stack.of_type("AWS::EC2::FlowLog") == {}
    platform: BatchPlatform = user_stack.parts["platform"]
    assert platform.vpc is user_stack.parts["vpc"]


def test_in_a_user_stack_environments_use_the_user_vpc_private_subnets(user_stack: Built) -> None:
    vpc: ec2.Vpc = user_stack.parts["vpc"]
    private = user_stack.stack.resolve([s.subnet_id for s in vpc.private_subnets])
    platform: BatchPlatform = user_stack.parts["platform"]
    for environment in [*platform.environments.values(), user_stack.parts["spot"]]:
        resources = user_stack.resource(environment.compute_environment)["Properties"]["ComputeResources"]
        assert resources["Subnets"] == private
    group = user_stack.resource(platform.network.security_group)["Properties"]
    assert group["VpcId"] == {"Ref": user_stack.logical_id(vpc)}


def test_in_a_user_stack_a_standalone_queue_sits_beside_the_platform(user_stack: Built) -> None:
    queue: BatchQueue = user_stack.parts["queue"]
    assert len(user_stack.of_type("AWS::Batch::JobQueue")) == 2
    entries = user_stack.resource(queue.job_queue)["Properties"]["ComputeEnvironmentOrder"]
    spot_id = user_stack.logical_id(user_stack.parts["spot"].compute_environment)
    assert entries == [{"ComputeEnvironment": {"Fn::GetAtt": [spot_id, "ComputeEnvironmentArn"]}, "Order": 1}]
    assert user_stack.parts["job"].platform == "EC2"
