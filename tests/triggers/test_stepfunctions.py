"""BatchJobStateMachine and BatchPipeline: the definition, logging, tracing, timeouts, IAM, alerts, validation.

One stack holds every variant and is synthesized once (with the five cdk-nag packs registered, so a finding fails the
fixture), then shared by the assertions below.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk.assertions import Template

from batch_constructs import (
    BatchConfigurationError,
    BatchJobStateMachine,
    BatchPipeline,
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    MultiNodeJob,
    PipelineStep,
    RetryPolicy,
)
from batch_constructs._internal.iam import ManagedPolicyRole
from batch_constructs._internal.logs import default_key
from batch_constructs.triggers.stepfunctions import job_state_timeout

from ..helpers import new_app
from ..unit_stacks import Synthesized, actions, fargate_queue, imported_vpc, nag_stack, statement_resources

IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"


def container_job(stack: cdk.Stack, construct_id: str, queue: BatchQueue | None, **kwargs: Any) -> ContainerJob:
    return ContainerJob(
        stack,
        construct_id,
        image=IMAGE,
        queue=queue,
        command=["python", "-m", "work", "Ref::input", "--mode", "Ref::mode"],
        parameters={"input": "none", "mode": "normal"},
        **kwargs,
    )


@dataclass
class Built(Synthesized):
    queue: BatchQueue
    other_queue: BatchQueue
    job: ContainerJob
    aggregate: ContainerJob
    default: BatchJobStateMachine
    custom: BatchJobStateMachine
    pipeline: BatchPipeline
    alerts: sns.Topic
    caller: iam.Role


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    stack = nag_stack(tmp_path_factory, "StepFunctionsTest")
    vpc = imported_vpc(stack)
    queue = fargate_queue(stack, vpc)
    other_queue = fargate_queue(stack, vpc, "OtherQueue")
    job = container_job(stack, "Transcode", queue)
    aggregate = container_job(stack, "Aggregate", queue, timeout=Duration.minutes(30), retry=RetryPolicy.none())
    default = BatchJobStateMachine(stack, "Default", job=job)
    alerts = sns.Topic(stack, "Alerts", master_key=default_key(stack), enforce_ssl=True)
    custom = BatchJobStateMachine(
        stack,
        "Custom",
        job=job,
        queue=other_queue,
        parameters={"input": sfn.JsonPath.string_at("$.input"), "mode": "fast"},
        array_size=50,
        depends_on=[sfn.JsonPath.string_at("$.after")],
        timeout=Duration.hours(3),
        failure_topic=alerts,
        log_retention=logs.RetentionDays.ONE_MONTH,
    )
    pipeline = BatchPipeline(
        stack,
        "Pipeline",
        steps=[PipelineStep(job, array_size=10), PipelineStep(aggregate, parameters={"input": "merge"})],
    )
    caller = ManagedPolicyRole(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    default.grant_start_execution(caller)
    return Built.synthesize(  # raises on any cdk-nag finding
        stack,
        queue=queue,
        other_queue=other_queue,
        job=job,
        aggregate=aggregate,
        default=default,
        custom=custom,
        pipeline=pipeline,
        alerts=alerts,
        caller=caller,
    )


# ------------------------------------------------------------------------------------------------- definition


def test_default_submits_the_job_with_submit_job_sync_and_waits(built: Built) -> None:
    states = built.definition(built.default)["States"]
    submit = states["SubmitJob"]
    assert submit["Type"] == "Task"
    assert submit["Resource"] == "arn:<Ref:AWS::Partition>:states:::batch:submitJob.sync"
    assert submit["Parameters"]["JobDefinition"] == f"<Ref:{built.logical_id(built.job.job_definition)}>"
    assert submit["Parameters"]["JobQueue"] == f"<GetAtt:{built.logical_id(built.queue.job_queue)}.JobQueueArn>"
    assert submit["Parameters"]["JobName"] == "Transcode"
    assert "ArrayProperties" not in submit["Parameters"]
    assert submit["End"] is True
    # the job definition's own attempt timeout is left alone (the L2 would override it with task_timeout)
    assert "Timeout" not in submit["Parameters"]


def test_default_takes_parameters_from_the_execution_input_or_falls_back_to_none(built: Built) -> None:
    definition = built.definition(built.default)
    states = definition["States"]
    assert definition["StartAt"] == "HasParameters"
    assert states["HasParameters"]["Choices"] == [{"Variable": "$.parameters", "IsPresent": True, "Next": "SubmitJob"}]
    assert states["HasParameters"]["Default"] == "NoParameters"
    assert states["NoParameters"] == {
        "Type": "Pass",
        "Comment": states["NoParameters"]["Comment"],
        "Result": {},
        "ResultPath": "$.parameters",
        "Next": "SubmitJob",
    }
    assert states["SubmitJob"]["Parameters"]["Parameters.$"] == "$.parameters"
    assert states["SubmitJob"]["ResultPath"] == "$.job"


def test_default_state_timeout_is_attempts_times_job_timeout_plus_queue_wait(built: Built) -> None:
    definition = built.definition(built.default)
    # ContainerJob defaults: 1 hour timeout, 5 attempts; plus 4 hours in the queue
    assert definition["States"]["SubmitJob"]["TimeoutSeconds"] == 5 * 3600 + 4 * 3600
    assert definition["TimeoutSeconds"] == 9 * 3600 + 300


def test_submission_is_retried_on_batch_throttling_with_backoff(built: Built) -> None:
    retry = built.definition(built.default)["States"]["SubmitJob"]["Retry"]
    assert retry == [
        {
            "ErrorEquals": ["Batch.AWSBatchException", "Batch.TooManyRequestsException", "Batch.ServerException"],
            "IntervalSeconds": 5,
            "MaxAttempts": 6,
            "BackoffRate": 2,
            "MaxDelaySeconds": 120,
            "JitterStrategy": "FULL",
        }
    ]


def test_failure_is_caught_published_to_the_topic_then_fails_with_the_original_error(built: Built) -> None:
    states = built.definition(built.default)["States"]
    assert states["SubmitJob"]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}
    ]
    notify = states["NotifyFailure"]
    assert notify["Resource"] == "arn:<Ref:AWS::Partition>:states:::sns:publish"
    topic_id = built.logical_id(built.default.failure_topic)
    assert notify["Parameters"]["TopicArn"] == f"<Ref:{topic_id}>"
    assert notify["Parameters"]["Message"]["error.$"] == "$.error.Error"
    assert notify["Parameters"]["Message"]["cause.$"] == "$.error.Cause"
    assert notify["Next"] == "Failed"
    assert states["Failed"] == {"Type": "Fail", "ErrorPath": "$.error.Error", "CausePath": "$.error.Cause"}


def test_default_failure_topic_is_kms_encrypted_and_tls_only(built: Built) -> None:
    assert built.default.failure_topic.node.id == "FailureTopic"
    topic = built.resource(built.default.failure_topic)
    assert topic["Properties"]["KmsMasterKeyId"] == {"Fn::GetAtt": [built.logical_id(default_key(built.stack)), "Arn"]}
    topic_id = built.logical_id(built.default.failure_topic)
    policies = [
        r
        for r in built.template["Resources"].values()
        if r["Type"] == "AWS::SNS::TopicPolicy" and {"Ref": topic_id} in r["Properties"]["Topics"]
    ]
    assert len(policies) == 1
    denies = [s for s in policies[0]["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert denies and denies[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_state_machine_logs_all_to_an_encrypted_log_group_with_retention_and_traces(built: Built) -> None:
    props = built.resource(built.default.state_machine)["Properties"]
    log_group_id = built.logical_id(built.default.log_group)
    assert props["LoggingConfiguration"] == {
        "Destinations": [{"CloudWatchLogsLogGroup": {"LogGroupArn": {"Fn::GetAtt": [log_group_id, "Arn"]}}}],
        "IncludeExecutionData": True,
        "Level": "ALL",
    }
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["StateMachineType"] == "STANDARD"
    log_group = built.template["Resources"][log_group_id]["Properties"]
    assert log_group["RetentionInDays"] == 365
    assert "KmsKeyId" in log_group
    assert built.resource(built.custom.log_group)["Properties"]["RetentionInDays"] == 30


def test_options_parameters_array_dependencies_timeout_and_queue(built: Built) -> None:
    definition = built.definition(built.custom)
    assert definition["StartAt"] == "SubmitJob"  # explicit parameters: no input check
    submit = definition["States"]["SubmitJob"]["Parameters"]
    assert submit["Parameters"] == {"input.$": "$.input", "mode": "fast"}
    assert submit["ArrayProperties"] == {"Size": 50}
    assert submit["DependsOn"] == [{"JobId.$": "$.after"}]
    assert submit["JobQueue"] == f"<GetAtt:{built.logical_id(built.other_queue.job_queue)}.JobQueueArn>"
    assert definition["States"]["SubmitJob"]["TimeoutSeconds"] == 3 * 3600
    assert definition["TimeoutSeconds"] == 3 * 3600 + 300


def test_a_given_failure_topic_is_used_and_no_topic_is_created(built: Built) -> None:
    assert built.custom.failure_topic is built.alerts
    assert built.custom.node.try_find_child("FailureTopic") is None
    notify = built.definition(built.custom)["States"]["NotifyFailure"]
    assert notify["Parameters"]["TopicArn"] == f"<Ref:{built.logical_id(built.alerts)}>"
    topics = [r for r in built.template["Resources"].values() if r["Type"] == "AWS::SNS::Topic"]
    assert len(topics) == 3  # Default's, Pipeline's and the given one


# ---------------------------------------------------------------------------------------------------------- IAM


def test_role_is_assumed_by_step_functions_of_this_account_and_used_by_the_machine(built: Built) -> None:
    role = built.resource(built.default.role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "states.amazonaws.com"},
        }
    ]
    machine = built.resource(built.default.state_machine)
    assert machine["Properties"]["RoleArn"] == {"Fn::GetAtt": [built.logical_id(built.default.role), "Arn"]}
    # depends on the policy (creation checks logging permissions), not redundantly on the role (cfn-lint W3005)
    assert machine["DependsOn"] == [built.logical_id(built.default.role.managed_policy)]


def test_no_inline_policies_anywhere(built: Built) -> None:
    assert [k for k, r in built.template["Resources"].items() if r["Type"] == "AWS::IAM::Policy"] == []


def test_submit_job_is_scoped_to_the_queue_and_the_job_definitions_revisions(built: Built) -> None:
    submits = [s for s in built.statements(built.default.role) if "batch:SubmitJob" in actions(s)]
    assert len(submits) == 1
    queue_arn, pattern = statement_resources(submits[0])
    assert queue_arn == {"Fn::GetAtt": [built.logical_id(built.queue.job_queue), "JobQueueArn"]}
    parts = pattern["Fn::Join"][1]
    assert parts[-2]["Fn::Select"][1]["Fn::Split"][1]["Fn::Select"][1]["Fn::Split"][1] == {
        "Ref": built.logical_id(built.job.job_definition)
    }
    assert parts[-3] == ":job-definition/" and parts[-1] == ":*"


@pytest.mark.parametrize("machine", ["default", "custom", "pipeline"])
def test_submit_job_is_never_granted_on_every_job_definition_or_on_star(built: Built, machine: str) -> None:
    role = getattr(built, machine).role
    for statement in built.statements(role):
        if "batch:SubmitJob" not in actions(statement):
            continue
        for resource in statement_resources(statement):
            assert resource != "*"
            rendered = json.dumps(resource)
            assert 'job-definition/*"' not in rendered, rendered


def test_sync_integration_permissions(built: Built) -> None:
    statements = built.statements(built.default.role)
    by_action = {a: s for s in statements for a in actions(s)}
    assert by_action["batch:DescribeJobs"]["Resource"] == "*"  # no resource-level permissions
    terminate = json.dumps(by_action["batch:TerminateJob"]["Resource"])
    assert terminate.endswith(':job/*"]]}'), terminate
    rule = json.dumps(by_action["events:PutRule"]["Resource"])
    assert "rule/StepFunctionsGetEventsForBatchJobsRule" in rule
    assert {"events:PutTargets", "events:DescribeRule"} <= set(by_action)
    assert by_action["sns:Publish"]["Resource"] == {"Ref": built.logical_id(built.default.failure_topic)}
    kms = by_action["kms:GenerateDataKey"]
    assert actions(kms) == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Resource"] == {"Fn::GetAtt": [built.logical_id(default_key(built.stack)), "Arn"]}
    assert kms["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["sns.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    }  # the topic's key only through SNS


def test_grant_start_execution_names_only_this_state_machine(built: Built) -> None:
    statements = built.statements(built.caller)
    assert statements == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            "Resource": {"Ref": built.logical_id(built.default.state_machine)},
        }
    ]


# ------------------------------------------------------------------------------------------------------ pipeline


def test_pipeline_runs_steps_in_sequence_fan_out_then_fan_in(built: Built) -> None:
    definition = built.definition(built.pipeline)
    states = definition["States"]
    assert definition["StartAt"] == "HasParameters"
    assert states["NoParameters"]["Next"] == "Start"
    assert states["Start"]["Next"] == "Transcode"
    fan_out, fan_in = states["Transcode"], states["Aggregate"]
    assert fan_out["Resource"] == fan_in["Resource"] == "arn:<Ref:AWS::Partition>:states:::batch:submitJob.sync"
    assert fan_out["Parameters"]["ArrayProperties"] == {"Size": 10}
    assert fan_out["Parameters"]["Parameters.$"] == "$.parameters"
    assert fan_out["Next"] == "Aggregate"  # starts only once .sync saw every child finish
    assert "ArrayProperties" not in fan_in["Parameters"]
    assert fan_in["Parameters"]["Parameters"] == {"input": "merge"}
    assert fan_in["End"] is True
    assert (fan_out["ResultPath"], fan_in["ResultPath"]) == ("$.steps.step0", "$.steps.step1")
    for state in (fan_out, fan_in):
        assert state["Catch"][0]["Next"] == "NotifyFailure"
        assert state["Retry"][0]["ErrorEquals"][0] == "Batch.AWSBatchException"


def test_pipeline_timeouts_per_step_and_overall(built: Built) -> None:
    definition = built.definition(built.pipeline)
    fan_out = definition["States"]["Transcode"]["TimeoutSeconds"]
    fan_in = definition["States"]["Aggregate"]["TimeoutSeconds"]
    assert fan_out == 24 * 3600  # an array job: at least a day (children may run in waves)
    assert fan_in == 30 * 60 + 4 * 3600  # 30 minutes x 1 attempt + queue wait
    assert definition["TimeoutSeconds"] == fan_out + fan_in + 300


def test_pipeline_grants_each_job_on_its_queue(built: Built) -> None:
    submits = [s for s in built.statements(built.pipeline.role) if "batch:SubmitJob" in actions(s)]
    rendered = json.dumps(submits)
    for job in (built.job, built.aggregate):
        assert json.dumps({"Ref": built.logical_id(job.job_definition)}) in rendered
    assert json.dumps({"Fn::GetAtt": [built.logical_id(built.queue.job_queue), "JobQueueArn"]}) in rendered


def test_attributes(built: Built) -> None:
    for machine in (built.default, built.pipeline):
        assert isinstance(machine.state_machine, sfn.StateMachine)
        assert machine.state_machine.node.id == "Resource"
        assert machine.role.node.id == "Role"
        assert machine.log_group.node.id == "LogGroup"
    assert built.default.job is built.job and built.default.queue is built.queue
    assert built.custom.queue is built.other_queue


# -------------------------------------------------------------------------------------------- compliance, lint


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert built.nag_violations() == []


def test_cfn_lint_clean(built: Built) -> None:
    assert built.template_file.name == "StepFunctionsTest.template.json"
    assert built.cfn_lint() == []


# -------------------------------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, BatchQueue, ContainerJob]:
    """A stack that is never synthesized: constructs that raise stay half-built in it."""
    stack = cdk.Stack(new_app(), "Scratch")
    queue = fargate_queue(stack, imported_vpc(stack))
    return stack, queue, container_job(stack, "Job", queue)


@pytest.mark.parametrize("size", [1, 0, 10001])
def test_array_size_out_of_range(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob], size: int) -> None:
    stack, _, job = scratch
    with pytest.raises(BatchConfigurationError, match=rf"\[array-size\] array_size={size}; allowed 2-10000") as err:
        BatchJobStateMachine(stack, f"Array{size}", job=job, array_size=size)
    assert f"Scratch/Array{size}" in str(err.value)


def test_too_many_dependencies(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, job = scratch
    pattern = r"\[dependencies\] 21 job dependencies; AWS Batch allows at most 20"
    with pytest.raises(BatchConfigurationError, match=pattern):
        BatchJobStateMachine(stack, "Deps", job=job, depends_on=[f"job-{i}" for i in range(21)])


def test_job_without_queue(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, _ = scratch
    loose = container_job(stack, "Loose", None)
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-queue\].*Scratch/Loose has no queue.*Fix: pass"):
        BatchJobStateMachine(stack, "NoQueue", job=loose)


def test_job_that_cannot_run_on_the_queue(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, job = scratch
    ec2_env = Ec2Environment(stack, "Ec2", vpc=imported_vpc_for(stack), instance_types=[ec2.InstanceType("c6i.large")])
    ec2_queue = BatchQueue(stack, "Ec2Queue", environments=[ec2_env])
    with pytest.raises(BatchConfigurationError, match=r"\[job-fits-queue\].*fits no compute environment of queue"):
        BatchJobStateMachine(stack, "Mismatch", job=job, queue=ec2_queue)


def imported_vpc_for(stack: cdk.Stack) -> ec2.IVpc:
    found = stack.node.try_find_child("Vpc")
    assert found is not None
    return found  # type: ignore[return-value]


@pytest.mark.parametrize("timeout", [Duration.seconds(30), Duration.days(400)])
def test_timeout_out_of_range(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob], timeout: Duration) -> None:
    stack, _, job = scratch
    seconds = int(timeout.to_seconds())
    with pytest.raises(BatchConfigurationError, match=rf"\[state-machine-timeout\] timeout={seconds} s; allowed 60 s"):
        BatchJobStateMachine(stack, f"Timeout{seconds}", job=job, timeout=timeout)


def test_all_problems_of_one_machine_are_reported_together(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, job = scratch
    with pytest.raises(BatchConfigurationError) as err:
        BatchJobStateMachine(stack, "Many", job=job, array_size=1, timeout=Duration.seconds(1))
    assert [p.split("]")[0] for p in err.value.problems] == ["[array-size", "[state-machine-timeout"]


def test_pipeline_validation(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, job = scratch
    with pytest.raises(BatchConfigurationError) as err:
        BatchPipeline(
            stack,
            "BadPipeline",
            steps=[
                PipelineStep(job),
                PipelineStep(job, array_size=20000),
                PipelineStep(job, name="Failed", timeout=Duration.seconds(5)),
            ],
        )
    problems = err.value.problems
    assert any(p.startswith("[array-size] steps[1].array_size=20000") for p in problems), problems
    assert any(p.startswith("[state-machine-timeout] steps[2].timeout=5 s") for p in problems), problems
    assert any(
        p.startswith("[state-name]") and "steps[1] is named 'Job', like steps[0]" in p and "pass name=" in p
        for p in problems
    ), problems
    assert any("steps[2] is named 'Failed', like a state of the pipeline itself" in p for p in problems), problems


def test_empty_pipeline(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, _ = scratch
    with pytest.raises(BatchConfigurationError, match=r"\[pipeline-steps\] a pipeline with no steps"):
        BatchPipeline(stack, "Empty", steps=[])


def test_same_job_twice_with_names_is_fine(scratch: tuple[cdk.Stack, BatchQueue, ContainerJob]) -> None:
    stack, _, job = scratch
    pipeline = BatchPipeline(stack, "Twice", steps=[PipelineStep(job, name="First"), PipelineStep(job, name="Second")])
    assert [s.state_name for s in pipeline.steps] == ["First", "Second"]


def test_job_state_timeout_defaults() -> None:
    stack = cdk.Stack(new_app(), "Timeouts")
    queue = fargate_queue(stack, imported_vpc(stack))
    unbounded = container_job(stack, "Unbounded", queue, timeout=None)
    assert job_state_timeout(unbounded).to_seconds() == 24 * 3600
    once = container_job(stack, "Once", queue, timeout=Duration.hours(2), retry=RetryPolicy.none())
    assert job_state_timeout(once).to_seconds() == 2 * 3600 + 4 * 3600
    assert job_state_timeout(once, array_size=100).to_seconds() == 24 * 3600
    long = container_job(stack, "Long", queue, timeout=Duration.hours(10))
    assert job_state_timeout(long, array_size=100).to_seconds() == 10 * 3600 * 5 + 4 * 3600


def test_multi_node_job_state_machine() -> None:
    stack = cdk.Stack(new_app(), "MultiNode")
    vpc = imported_vpc(stack)
    env = Ec2Environment(stack, "Ec2", vpc=vpc, instance_types=[ec2.InstanceType("c6i.2xlarge")])
    queue = BatchQueue(stack, "Ec2Queue", environments=[env])
    job = MultiNodeJob(stack, "Mpi", image=IMAGE, queue=queue, nodes=4, instance_type=ec2.InstanceType("c6i.2xlarge"))
    machine = BatchJobStateMachine(stack, "Train", job=job)
    assert machine.queue is queue
    submit = Template.from_stack(stack).find_resources("AWS::StepFunctions::StateMachine")
    assert len(submit) == 1
    fargate = fargate_queue(stack, vpc, "FargateQueue")
    with pytest.raises(BatchConfigurationError, match=r"\[job-fits-queue\]"):
        BatchJobStateMachine(stack, "OnFargate", job=job, queue=fargate)
