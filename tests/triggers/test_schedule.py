"""ScheduledJob: the rule, its Batch or Step Functions target, dead-letter queue, retry policy, role and validation.

One stack holds every variant and is synthesized once with the five cdk-nag packs registered (a finding fails the
fixture).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_sqs as sqs

from batch_constructs import BatchConfigurationError, BatchJobStateMachine, BatchQueue, ContainerJob, ScheduledJob
from batch_constructs._internal.compliance import acknowledge
from batch_constructs._internal.dlq import new_dead_letter_queue
from batch_constructs._internal.logs import default_key
from batch_constructs.triggers.schedule import MAX_EVENT_AGE, RETRY_ATTEMPTS

from ..helpers import new_app
from ..unit_stacks import Synthesized, fargate_queue, imported_vpc, nag_stack
from .test_stepfunctions import container_job


@dataclass
class Built(Synthesized):
    queue: BatchQueue
    other_queue: BatchQueue
    job: ContainerJob
    nightly: ScheduledJob
    options: ScheduledJob
    shared_dlq: sqs.Queue
    machine: BatchJobStateMachine
    via_machine: ScheduledJob
    local_time: ScheduledJob

    def target(self, scheduled: ScheduledJob) -> dict[str, Any]:
        targets = self.resource(scheduled.rule)["Properties"]["Targets"]
        assert len(targets) == 1
        return targets[0]  # type: ignore[no-any-return]

    def queue_policy_statements(self, queue: sqs.IQueue) -> list[dict[str, Any]]:
        queue_ref = {"Ref": self.logical_id(queue)}
        policies = [
            r
            for r in self.template["Resources"].values()
            if r["Type"] == "AWS::SQS::QueuePolicy" and queue_ref in r["Properties"]["Queues"]
        ]
        return [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    stack = nag_stack(tmp_path_factory, "ScheduleTest")
    vpc = imported_vpc(stack)
    queue = fargate_queue(stack, vpc)
    other_queue = fargate_queue(stack, vpc, "OtherQueue")
    job = container_job(stack, "Report", queue)
    nightly = ScheduledJob(stack, "Nightly", job=job, schedule=events.Schedule.cron(minute="0", hour="3"))
    shared_dlq = new_dead_letter_queue(stack, "SharedDeadLetters")
    acknowledge(shared_dlq, "Serverless::Serverless-SQSRedrivePolicy", "test: this queue is a dead-letter queue")
    options = ScheduledJob(
        stack,
        "Options",
        job=job,
        schedule=events.Schedule.rate(Duration.hours(6)),
        queue=other_queue,
        parameters={"input": "s3://bucket/daily/"},
        array_size=4,
        dead_letter_queue=shared_dlq,
        retry_attempts=2,
        max_event_age=Duration.minutes(10),
        enabled=False,
        description="Six-hourly report",
    )
    machine = BatchJobStateMachine(stack, "Machine", job=job)
    via_machine = ScheduledJob(
        stack,
        "ViaMachine",
        state_machine=machine,
        schedule=events.Schedule.rate(Duration.days(1)),
        parameters={"input": "s3://bucket/all/"},
    )
    local_time = ScheduledJob(
        stack,
        "LocalTime",
        job=job,
        schedule=events.Schedule.cron(minute="30", hour="6"),
        parameters={"input": "s3://bucket/morning/"},
        time_zone="Europe/Paris",
        flexible_window=Duration.minutes(15),
    )
    return Built.synthesize(  # raises on any cdk-nag finding
        stack,
        queue=queue,
        other_queue=other_queue,
        job=job,
        nightly=nightly,
        options=options,
        shared_dlq=shared_dlq,
        machine=machine,
        via_machine=via_machine,
        local_time=local_time,
    )


# ---------------------------------------------------------------------------------------------- direct submission


def test_rule_runs_on_the_schedule(built: Built) -> None:
    assert built.nightly.rule.node.id == "Rule"
    rule = built.resource(built.nightly.rule)["Properties"]
    assert rule["ScheduleExpression"] == "cron(0 3 * * ? *)"
    assert rule["State"] == "ENABLED"
    assert rule["Description"] == "batch-constructs: runs ScheduleTest/Report on a schedule"


def test_target_submits_the_job_to_its_queue(built: Built) -> None:
    target = built.target(built.nightly)
    assert target["Arn"] == {"Fn::GetAtt": [built.logical_id(built.queue.job_queue), "JobQueueArn"]}
    assert target["BatchParameters"] == {
        "JobDefinition": {"Ref": built.logical_id(built.job.job_definition)},
        "JobName": "Nightly",
    }
    assert "Input" not in target  # the job definition's default parameters
    assert target["RoleArn"] == {"Fn::GetAtt": [built.logical_id(built.nightly.role), "Arn"]}


def test_default_dead_letter_queue_and_retry_policy(built: Built) -> None:
    target = built.target(built.nightly)
    dlq = built.nightly.dead_letter_queue
    assert dlq.node.id == "DeadLetterQueue"
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [built.logical_id(dlq), "Arn"]}}
    assert target["RetryPolicy"] == {
        "MaximumRetryAttempts": RETRY_ATTEMPTS,
        "MaximumEventAgeInSeconds": int(MAX_EVENT_AGE.to_seconds()),
    }
    assert (RETRY_ATTEMPTS, MAX_EVENT_AGE.to_seconds()) == (8, 3600)
    queue = built.resource(dlq)["Properties"]
    assert queue["KmsMasterKeyId"] == {"Fn::GetAtt": [built.logical_id(default_key(built.stack)), "Arn"]}
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_only_this_rule_may_send_to_the_dead_letter_queue(built: Built) -> None:
    sends = [s for s in built.queue_policy_statements(built.nightly.dead_letter_queue) if s["Effect"] == "Allow"]
    assert len(sends) == 1
    assert sends[0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert sends[0]["Action"] == "sqs:SendMessage"
    assert sends[0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [built.logical_id(built.nightly.rule), "Arn"]}}
    }


def test_role_trusts_eventbridge_of_this_account_and_may_submit_only_this_job(built: Built) -> None:
    role = built.resource(built.nightly.role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
        }
    ]
    statements = built.statements(built.nightly.role)
    assert len(statements) == 1
    assert statements[0]["Action"] == "batch:SubmitJob"
    queue_arn, pattern = statements[0]["Resource"]
    assert queue_arn == {"Fn::GetAtt": [built.logical_id(built.queue.job_queue), "JobQueueArn"]}
    parts = pattern["Fn::Join"][1]
    assert (parts[-3], parts[-1]) == (":job-definition/", ":*")
    assert json.dumps({"Ref": built.logical_id(built.job.job_definition)}) in json.dumps(parts[-2])


def test_no_inline_policies_and_never_star_for_submit_job(built: Built) -> None:
    resources = built.template["Resources"].values()
    assert [r for r in resources if r["Type"] == "AWS::IAM::Policy"] == []
    for r in resources:
        if r["Type"] != "AWS::IAM::ManagedPolicy":
            continue
        for statement in r["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "batch:SubmitJob" in actions:
                rendered = json.dumps(statement["Resource"])
                assert rendered != '"*"' and 'job-definition/*"' not in rendered, rendered


def test_options_parameters_array_queue_dlq_retries_and_disabled(built: Built) -> None:
    rule = built.resource(built.options.rule)["Properties"]
    assert rule["ScheduleExpression"] == "rate(6 hours)"
    assert rule["State"] == "DISABLED"
    assert rule["Description"] == "Six-hourly report"
    target = rule["Targets"][0]
    assert target["Arn"] == {"Fn::GetAtt": [built.logical_id(built.other_queue.job_queue), "JobQueueArn"]}
    assert json.loads(target["Input"]) == {"Parameters": {"input": "s3://bucket/daily/"}}
    assert target["BatchParameters"]["ArrayProperties"] == {"Size": 4}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600}
    assert built.options.dead_letter_queue is built.shared_dlq
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [built.logical_id(built.shared_dlq), "Arn"]}}
    assert built.options.node.try_find_child("DeadLetterQueue") is None
    submit = built.statements(built.options.role)[0]
    assert submit["Resource"][0] == {"Fn::GetAtt": [built.logical_id(built.other_queue.job_queue), "JobQueueArn"]}


# ---------------------------------------------------------------------------------------------- via state machine


def test_state_machine_target_starts_the_machine_with_parameters_as_input(built: Built) -> None:
    assert built.via_machine.state_machine is built.machine
    assert built.via_machine.job is built.job
    target = built.target(built.via_machine)
    assert target["Arn"] == {"Ref": built.logical_id(built.machine.state_machine)}
    assert json.loads(target["Input"]) == {"parameters": {"input": "s3://bucket/all/"}}
    assert "BatchParameters" not in target
    assert target["RoleArn"] == {"Fn::GetAtt": [built.logical_id(built.via_machine.role), "Arn"]}
    assert target["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [built.logical_id(built.via_machine.dead_letter_queue), "Arn"]}
    }
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}
    rule = built.resource(built.via_machine.rule)["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 day)"


def test_state_machine_role_may_only_start_that_machine(built: Built) -> None:
    assert built.statements(built.via_machine.role) == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            "Resource": {"Ref": built.logical_id(built.machine.state_machine)},
        }
    ]
    sends = [s for s in built.queue_policy_statements(built.via_machine.dead_letter_queue) if s["Effect"] == "Allow"]
    assert [s["Condition"]["ArnEquals"]["aws:SourceArn"] for s in sends] == [
        {"Fn::GetAtt": [built.logical_id(built.via_machine.rule), "Arn"]}
    ]


# -------------------------------------------------------------------------------------------- compliance, lint


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert built.nag_violations() == []


def test_cfn_lint_clean(built: Built) -> None:
    assert built.template_file.name == "ScheduleTest.template.json"
    assert built.cfn_lint() == []


# -------------------------------------------------------------------------------------------------- validation


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, ContainerJob, BatchJobStateMachine]:
    """A stack that is never synthesized: constructs that raise stay half-built in it."""
    stack = cdk.Stack(new_app(), "Scratch")
    queue = fargate_queue(stack, imported_vpc(stack))
    job = container_job(stack, "Job", queue)
    return stack, job, BatchJobStateMachine(stack, "Machine", job=job)


DAILY = events.Schedule.rate(Duration.days(1))


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"retry_attempts": 186}, r"\[target-retry\] retry_attempts=186; allowed 0-185"),
        ({"retry_attempts": -1}, r"\[target-retry\] retry_attempts=-1; allowed 0-185"),
        ({"max_event_age": Duration.seconds(30)}, r"\[target-retry\] max_event_age \(s\)=30; allowed 60-86400"),
        ({"max_event_age": Duration.hours(25)}, r"\[target-retry\] max_event_age \(s\)=90000; allowed 60-86400"),
        ({"array_size": 1}, r"\[array-size\] array_size=1; allowed 2-10000"),
    ],
)
def test_direct_submission_validation(
    scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine], kwargs: dict[str, Any], pattern: str
) -> None:
    stack, job, _ = scratch
    construct_id = f"Bad{abs(hash(pattern))}"
    with pytest.raises(BatchConfigurationError, match=pattern) as err:
        ScheduledJob(stack, construct_id, job=job, schedule=DAILY, **kwargs)
    assert str(err.value).startswith(f"Scratch/{construct_id}: 1 configuration problem")
    assert "Fix: " in str(err.value)


def test_time_zone_and_flexible_window_use_eventbridge_scheduler(built: Built) -> None:
    scheduled = built.local_time
    assert scheduled.rule is None and scheduled.schedule is not None
    props = built.resource(scheduled.schedule)["Properties"]
    assert props["ScheduleExpression"] == "cron(30 6 * * ? *)"
    assert props["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert props["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    request = json.loads(props["Target"]["Input"]) if isinstance(props["Target"]["Input"], str) else None
    rendered = json.dumps(props["Target"]["Input"])
    assert "ShareIdentifier" not in rendered  # a plain queue: no share identifier
    assert "s3://bucket/morning/" in rendered
    assert request is None or "Parameters" in request
    assert json.dumps(props["Target"]["Arn"]).endswith(':scheduler:::aws-sdk:batch:submitJob"]]}')


def test_rule_schedules_have_no_time_zone(built: Built) -> None:
    assert built.nightly.schedule is None and built.nightly.rule is not None


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (
            {"time_zone": "Paris"},
            r"\[schedule-time-zone\] time_zone='Paris' is not an IANA.*did you mean 'Europe/Paris'",
        ),
        ({"time_zone": "CET+1"}, r"\[schedule-time-zone\] time_zone='CET\+1'"),
        ({"flexible_window": Duration.seconds(30)}, r"\[schedule-flexible-window\] flexible_window \(minutes\)=0.5"),
        ({"flexible_window": Duration.hours(25)}, r"\[schedule-flexible-window\] flexible_window \(minutes\)=1500"),
    ],
)
def test_time_zone_and_window_validation(
    scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine], kwargs: dict[str, Any], pattern: str
) -> None:
    stack, job, _ = scratch
    construct_id = f"Zone{abs(hash(pattern))}"
    with pytest.raises(BatchConfigurationError, match=pattern):
        ScheduledJob(stack, construct_id, job=job, schedule=DAILY, **kwargs)


def test_time_zone_and_window_are_refused_when_starting_a_state_machine(
    scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine],
) -> None:
    stack, _, machine = scratch
    with pytest.raises(BatchConfigurationError) as err:
        ScheduledJob(
            stack,
            "ZonedMachine",
            state_machine=machine,
            schedule=DAILY,
            time_zone="Europe/Paris",
            flexible_window=Duration.minutes(5),
        )
    message = str(err.value)
    assert "[schedule-time-zone] time_zone='Europe/Paris' with state_machine" in message
    assert "write the cron expression in UTC" in message
    assert "[schedule-flexible-window] flexible_window with state_machine" in message


def test_job_without_queue(scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine]) -> None:
    stack, _, _ = scratch
    loose = container_job(stack, "Loose", None)
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-queue\] ScheduledJob: job Scratch/Loose has no"):
        ScheduledJob(stack, "NoQueue", job=loose, schedule=DAILY)


def test_neither_job_nor_state_machine(scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine]) -> None:
    stack, _, _ = scratch
    with pytest.raises(BatchConfigurationError, match=r"neither job nor state_machine given"):
        ScheduledJob(stack, "Nothing", schedule=DAILY)


def test_state_machine_of_another_job(scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine]) -> None:
    stack, job, machine = scratch
    other = container_job(stack, "Other", job.queue)  # type: ignore[arg-type]
    with pytest.raises(BatchConfigurationError, match=r"job Scratch/Other is not the job of state_machine"):
        ScheduledJob(stack, "Mismatch", job=other, state_machine=machine, schedule=DAILY)


def test_state_machine_with_queue_or_array_size(scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine]) -> None:
    stack, job, machine = scratch
    with pytest.raises(BatchConfigurationError, match=r"queue/array_size given together with state_machine"):
        ScheduledJob(stack, "Both", state_machine=machine, array_size=5, schedule=DAILY)
    with pytest.raises(BatchConfigurationError, match=r"queue/array_size given together with state_machine"):
        ScheduledJob(stack, "Both2", state_machine=machine, queue=job.queue, schedule=DAILY)


def test_state_machine_with_its_own_job_is_fine(scratch: tuple[cdk.Stack, ContainerJob, BatchJobStateMachine]) -> None:
    stack, job, machine = scratch
    scheduled = ScheduledJob(stack, "Fine", job=job, state_machine=machine, schedule=DAILY)
    assert scheduled.job is job and scheduled.state_machine is machine
