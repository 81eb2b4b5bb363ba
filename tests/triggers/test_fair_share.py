"""Every submitter on fair-share and plain queues, scheduled pipelines, overrides, imported jobs, parameter rules.

One stack holds every valid variant and is synthesized once with the five cdk-nag packs registered (a finding fails
the fixture); the error cases build on one scratch stack.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn

from batch_constructs import (
    BatchConfigurationError,
    BatchJobStateMachine,
    BatchPipeline,
    BatchQueue,
    ContainerJob,
    FargateEnvironment,
    ImportedJob,
    JobOverrides,
    LambdaSubmitter,
    PipelineStep,
    S3UploadTrigger,
    ScheduledJob,
)

from ..helpers import new_app
from ..unit_stacks import Synthesized, fargate_queue, imported_vpc, nag_stack
from .test_stepfunctions import IMAGE

LEGACY_ARN = "arn:aws:batch:us-east-1:123456789012:job-definition/legacy-etl:7"


def shared_queue(stack: cdk.Stack, vpc: Any, construct_id: str = "Shared") -> BatchQueue:
    env = FargateEnvironment(stack, f"{construct_id}Fargate", vpc=vpc)
    return BatchQueue(stack, construct_id, environments=[env], fair_share={"teamA": 1, "teamB": 2})


def shared_job(stack: cdk.Stack, construct_id: str, queue: BatchQueue | None) -> ContainerJob:
    return ContainerJob(
        stack,
        construct_id,
        image=IMAGE,
        queue=queue,
        command=["python", "-m", "work", "Ref::input"],
        parameters={"input": "none"},
        scheduling_priority=10,
    )


@dataclass
class Built(Synthesized):
    queue: BatchQueue
    job: ContainerJob
    machine: BatchJobStateMachine
    pipeline: BatchPipeline
    overridden: BatchJobStateMachine
    scheduled_pipeline: ScheduledJob
    scheduled_any: ScheduledJob
    scheduled_direct: ScheduledJob
    legacy: ImportedJob
    legacy_schedule: ScheduledJob
    legacy_machine: BatchJobStateMachine

    def states(self, machine: BatchJobStateMachine | BatchPipeline) -> dict[str, Any]:
        body = self.resource(machine.state_machine)["Properties"]["DefinitionString"]
        text = "".join(p if isinstance(p, str) else "X" for p in body["Fn::Join"][1])
        return json.loads(text)["States"]  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    stack = nag_stack(tmp_path_factory, "FairShareTest")
    vpc = imported_vpc(stack)
    queue = shared_queue(stack, vpc)
    job = shared_job(stack, "Report", queue)
    machine = BatchJobStateMachine(stack, "Machine", job=job, share_identifier="teamA", scheduling_priority_override=50)
    pipeline = BatchPipeline(
        stack,
        "Nightly",
        steps=[
            PipelineStep(job, share_identifier=sfn.JsonPath.string_at("$.team"), name="First"),
            PipelineStep(job, share_identifier="teamB", name="Second", parameters={"input": "s3://b/k"}),
        ],
    )
    overridden = BatchJobStateMachine(
        stack,
        "Overridden",
        job=job,
        share_identifier="teamB",
        overrides=JobOverrides(
            command=sfn.JsonPath.list_at("$.command"),
            environment={"MODE": "fast", "RUN": sfn.JsonPath.string_at("$.run")},
            vcpus=2,
            memory_mib=4096,
            attempts=3,
            timeout=Duration.minutes(30),
            tags={"team": "b"},
            job_name=sfn.JsonPath.string_at("$.name"),
        ),
    )
    scheduled_pipeline = ScheduledJob(
        stack, "NightlyPipeline", state_machine=pipeline, schedule=events.Schedule.cron(minute="0", hour="2")
    )
    scheduled_any = ScheduledJob(
        stack, "AnyMachine", state_machine=machine.state_machine, schedule=events.Schedule.rate(Duration.hours(1))
    )
    scheduled_direct = ScheduledJob(
        stack,
        "Direct",
        job=job,
        schedule=events.Schedule.cron(minute="30", hour="4"),
        share_identifier="teamA",
        scheduling_priority_override=7,
        parameters={"input": "s3://b/daily/"},
    )
    plain = fargate_queue(stack, vpc, "Plain")
    legacy = ImportedJob(stack, "Legacy", job_definition=LEGACY_ARN, queue=plain)
    legacy_schedule = ScheduledJob(stack, "LegacySchedule", job=legacy, schedule=events.Schedule.rate(Duration.days(1)))
    legacy_machine = BatchJobStateMachine(stack, "LegacyMachine", job=legacy)
    return Built.synthesize(  # raises on any cdk-nag finding
        stack,
        queue=queue,
        job=job,
        machine=machine,
        pipeline=pipeline,
        overridden=overridden,
        scheduled_pipeline=scheduled_pipeline,
        scheduled_any=scheduled_any,
        scheduled_direct=scheduled_direct,
        legacy=legacy,
        legacy_schedule=legacy_schedule,
        legacy_machine=legacy_machine,
    )


# ------------------------------------------------------------------------------------------------ Step Functions


def test_state_machine_passes_share_identifier_and_priority_override(built: Built) -> None:
    parameters = built.states(built.machine)["SubmitJob"]["Parameters"]
    assert parameters["ShareIdentifier"] == "teamA"
    assert parameters["SchedulingPriorityOverride"] == 50


def test_pipeline_steps_take_share_identifier_literal_or_from_the_input(built: Built) -> None:
    states = built.states(built.pipeline)
    assert states["First"]["Parameters"]["ShareIdentifier.$"] == "$.team"
    assert "ShareIdentifier" not in states["First"]["Parameters"]
    assert states["Second"]["Parameters"]["ShareIdentifier"] == "teamB"
    assert "SchedulingPriorityOverride" not in states["Second"]["Parameters"]


def test_overrides_reach_the_submission(built: Built) -> None:
    parameters = built.states(built.overridden)["SubmitJob"]["Parameters"]
    overrides = parameters["ContainerOverrides"]
    assert overrides["Command.$"] == "$.command"
    assert {"Name": "MODE", "Value": "fast"} in overrides["Environment"]
    assert {"Name": "RUN", "Value.$": "$.run"} in overrides["Environment"]
    assert {"Type": "VCPU", "Value": "2"} in overrides["ResourceRequirements"]
    assert {"Type": "MEMORY", "Value": "4096"} in overrides["ResourceRequirements"]
    assert parameters["RetryStrategy"] == {"Attempts": 3}
    assert parameters["Timeout"] == {"AttemptDurationSeconds": 1800}
    assert parameters["Tags"] == {"team": "b"}
    assert parameters["JobName.$"] == "$.name"
    assert parameters["ShareIdentifier"] == "teamB"


# ------------------------------------------------------------------------------------------------------ schedules


def _rule_target(built: Built, scheduled: ScheduledJob) -> dict[str, Any]:
    assert scheduled.rule is not None and scheduled.schedule is None
    targets = built.resource(scheduled.rule)["Properties"]["Targets"]
    assert len(targets) == 1
    return targets[0]  # type: ignore[no-any-return]


def test_a_schedule_starts_a_pipeline(built: Built) -> None:
    target = _rule_target(built, built.scheduled_pipeline)
    assert target["Arn"] == {"Ref": built.logical_id(built.pipeline.state_machine)}
    assert "DeadLetterConfig" in target and target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert built.scheduled_pipeline.job is None
    assert built.scheduled_pipeline.state_machine is built.pipeline
    actions = [s["Action"] for s in built.statements(built.scheduled_pipeline.role)]
    assert "states:StartExecution" in actions


def test_a_schedule_starts_any_state_machine(built: Built) -> None:
    target = _rule_target(built, built.scheduled_any)
    assert target["Arn"] == {"Ref": built.logical_id(built.machine.state_machine)}


def test_direct_fair_share_submission_uses_eventbridge_scheduler_with_the_share_identifier(built: Built) -> None:
    scheduled = built.scheduled_direct
    assert scheduled.rule is None and scheduled.schedule is not None
    assert scheduled.schedule.node.id == "Schedule"
    props = built.resource(scheduled.schedule)["Properties"]
    assert props["ScheduleExpression"] == "cron(30 4 * * ? *)"
    target = props["Target"]
    assert target["Arn"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":scheduler:::aws-sdk:batch:submitJob"]]
    }
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 8
    assert "Arn" in target["DeadLetterConfig"]
    request = json.loads("".join(p if isinstance(p, str) else "X" for p in target["Input"]["Fn::Join"][1]))
    assert request["ShareIdentifier"] == "teamA"
    assert request["SchedulingPriorityOverride"] == 7
    assert request["Parameters"] == {"input": "s3://b/daily/"}
    assert request["JobName"] == "Direct"


def test_scheduler_role_is_trusted_by_scheduler_and_scoped(built: Built) -> None:
    role = built.resource(built.scheduled_direct.role)["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    # confused-deputy protection: this account's schedules in the default group only
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":scheduler:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":schedule-group/default",
                    ],
                ]
            }
        },
    }
    statements = built.statements(built.scheduled_direct.role)
    submit = [s for s in statements if s["Action"] == "batch:SubmitJob"]
    assert submit, statements
    for statement in submit:
        assert "*" not in statement["Resource"]
        assert statement["Resource"][0] == {"Fn::GetAtt": [built.logical_id(built.queue.job_queue), "JobQueueArn"]}
    # the dead-letter queue's key (Scheduler sends to it as the role): exact actions, only through SQS
    (key,) = [s for s in statements if "kms:Decrypt" in s["Action"]]
    assert key["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert key["Condition"] == {
        "StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["sqs.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}
    }


# -------------------------------------------------------------------------------------------------- imported jobs


def _submit_resources(built: Built, role: Any) -> list[Any]:
    return [s["Resource"] for s in built.statements(role) if s["Action"] == "batch:SubmitJob"]


def test_imported_job_grants_every_revision_of_its_definition_only(built: Built) -> None:
    for role in (built.legacy_schedule.role, built.legacy_machine.role):
        (resources,) = _submit_resources(built, role)
        text = json.dumps(resources)
        assert "job-definition/legacy-etl:*" in text
        assert "job-definition/*" not in text
        assert '"*"' not in text


def test_imported_job_is_submitted_by_its_arn(built: Built) -> None:
    target = _rule_target(built, built.legacy_schedule)
    assert target["BatchParameters"]["JobDefinition"] == LEGACY_ARN
    assert built.states(built.legacy_machine)["SubmitJob"]["Parameters"]["JobDefinition"] == LEGACY_ARN


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert built.nag_violations() == []


def test_cfn_lint_clean(built: Built) -> None:
    assert built.template_file.name == "FairShareTest.template.json"
    assert built.cfn_lint() == []


# ------------------------------------------------------------------------------------------------- error cases


@dataclass
class Scratch:
    stack: cdk.Stack
    shared: BatchQueue
    plain: BatchQueue
    shared_job: ContainerJob
    plain_job: ContainerJob
    bucket: s3.Bucket


@pytest.fixture(scope="module")
def scratch() -> Scratch:
    stack = cdk.Stack(new_app(), "Scratch")
    vpc = imported_vpc(stack)
    shared = shared_queue(stack, vpc)
    plain = fargate_queue(stack, vpc, "Plain")
    plain_job = ContainerJob(
        stack, "PlainJob", image=IMAGE, queue=plain, command=["run", "Ref::bucket", "Ref::key", "Ref::input"]
    )
    return Scratch(stack, shared, plain, shared_job(stack, "SharedJob", shared), plain_job, s3.Bucket(stack, "B"))


_counter = iter(range(10_000))


def _id() -> str:
    return f"C{next(_counter)}"


def test_state_machine_on_a_fair_share_queue_needs_a_share_identifier(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*schedules by fair share"):
        BatchJobStateMachine(scratch.stack, _id(), job=scratch.shared_job)


def test_state_machine_on_a_plain_queue_refuses_a_share_identifier(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*share_identifier='teamA'"):
        BatchJobStateMachine(
            scratch.stack,
            _id(),
            job=scratch.plain_job,
            share_identifier="teamA",
            parameters={"bucket": "b", "key": "k", "input": "i"},
        )


def test_priority_override_is_range_checked_and_fair_share_only(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[scheduling-priority\]"):
        BatchJobStateMachine(
            scratch.stack, _id(), job=scratch.shared_job, share_identifier="a", scheduling_priority_override=10_000
        )
    with pytest.raises(BatchConfigurationError, match=r"scheduling_priority_override on queue"):
        BatchJobStateMachine(scratch.stack, _id(), job=scratch.plain_job, scheduling_priority_override=1)


def test_share_identifier_syntax(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"1-255 characters"):
        BatchJobStateMachine(scratch.stack, _id(), job=scratch.shared_job, share_identifier="a*b")


def test_pipeline_step_on_a_fair_share_queue_needs_a_share_identifier(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"steps\[1\] passes no share_identifier"):
        BatchPipeline(
            scratch.stack,
            _id(),
            steps=[PipelineStep(scratch.shared_job, share_identifier="a", name="A"), PipelineStep(scratch.shared_job)],
        )


def test_direct_schedule_on_a_fair_share_queue_needs_a_share_identifier(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*ScheduledJob passes no share_identifier"):
        ScheduledJob(scratch.stack, _id(), job=scratch.shared_job, schedule=events.Schedule.rate(Duration.days(1)))


def test_direct_schedule_on_a_plain_queue_refuses_a_share_identifier(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\]"):
        ScheduledJob(
            scratch.stack,
            _id(),
            job=scratch.plain_job,
            schedule=events.Schedule.rate(Duration.days(1)),
            share_identifier="teamA",
            parameters={"bucket": "b", "key": "k", "input": "i"},
        )


def test_share_identifier_with_a_state_machine_belongs_on_the_machine(scratch: Scratch) -> None:
    machine = BatchJobStateMachine(scratch.stack, _id(), job=scratch.shared_job, share_identifier="teamA")
    with pytest.raises(BatchConfigurationError, match=r"\[schedule-target\].*share_identifier"):
        ScheduledJob(
            scratch.stack,
            _id(),
            state_machine=machine,
            schedule=events.Schedule.rate(Duration.days(1)),
            share_identifier="teamA",
        )


def test_job_with_a_pipeline_is_refused(scratch: Scratch) -> None:
    pipeline = BatchPipeline(scratch.stack, _id(), steps=[PipelineStep(scratch.shared_job, share_identifier="a")])
    with pytest.raises(BatchConfigurationError, match=r"\[schedule-target\].*it has no single job"):
        ScheduledJob(
            scratch.stack,
            _id(),
            job=scratch.shared_job,
            state_machine=pipeline,
            schedule=events.Schedule.rate(Duration.days(1)),
        )


def test_s3_upload_trigger_refuses_a_fair_share_queue_with_the_fix(scratch: Scratch) -> None:
    job = ContainerJob(
        scratch.stack,
        _id(),
        image=IMAGE,
        queue=scratch.shared,
        command=["run", "Ref::bucket", "Ref::key"],
        scheduling_priority=1,
    )
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*LambdaSubmitter\(share_identifier"):
        S3UploadTrigger(scratch.stack, _id(), bucket=scratch.bucket, job=job, prefixes=["in/"])


def test_lambda_submitter_refuses_a_share_identifier_on_a_plain_queue(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*share_identifier='teamA'"):
        LambdaSubmitter(scratch.stack, _id(), job=scratch.plain_job, share_identifier="teamA")


def test_lambda_submitter_on_a_fair_share_queue_needs_one(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*the submitter passes no"):
        LambdaSubmitter(scratch.stack, _id(), job=scratch.shared_job)


# ---------------------------------------------------------------------------------------------- overrides checks


def test_overridden_size_is_checked_against_the_queue(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[fargate-resources\]|\[job-fits-queue\]"):
        BatchJobStateMachine(
            scratch.stack,
            _id(),
            job=scratch.shared_job,
            share_identifier="a",
            overrides=JobOverrides(vcpus=4, memory_mib=1024),
        )


def test_override_limits(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError) as caught:
        BatchJobStateMachine(
            scratch.stack,
            _id(),
            job=scratch.shared_job,
            share_identifier="a",
            overrides=JobOverrides(
                attempts=11,
                timeout=Duration.seconds(30),
                environment={"AWS_BATCH_X": "1"},
                job_name="-bad",
                tags={str(i): "v" for i in range(51)},
            ),
        )
    text = str(caught.value)
    assert text.count("[job-overrides]") == 4, text
    assert "[name]" in text or "job_name" in text


# --------------------------------------------------------------------------------------------- parameter checks


def test_misspelt_parameter_names_the_declared_ones(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-unread-parameter\].*'inptu'.*declared: input"):
        BatchJobStateMachine(
            scratch.stack, _id(), job=scratch.shared_job, share_identifier="a", parameters={"inptu": "x"}
        )


def test_scheduled_job_leaving_a_ref_without_default_unset(scratch: Scratch) -> None:
    with pytest.raises(
        BatchConfigurationError, match=r"\[trigger-unset-parameter\].*Ref::bucket, Ref::input, Ref::key"
    ):
        ScheduledJob(scratch.stack, _id(), job=scratch.plain_job, schedule=events.Schedule.rate(Duration.days(1)))


def test_s3_trigger_checks_extra_parameters_and_unset_refs(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError) as caught:
        S3UploadTrigger(
            scratch.stack,
            _id(),
            bucket=scratch.bucket,
            job=scratch.plain_job,
            prefixes=["in/"],
            extra_parameters={"inptu": "x"},
        )
    text = str(caught.value)
    assert "[trigger-unread-parameter]" in text and "'inptu'" in text
    assert "[trigger-unset-parameter]" in text and "Ref::input" in text


def test_imported_job_rejects_a_malformed_arn(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[imported-job\]"):
        ImportedJob(scratch.stack, _id(), job_definition="legacy-etl")


def _warnings(construct: Any) -> list[str]:
    return [str(m.data) for m in construct.node.metadata if m.type == "aws:cdk:warning"]


def test_a_state_machine_or_schedule_passing_every_required_parameter_answers_the_jobs_warning(
    scratch: Scratch,
) -> None:
    # GIVEN jobs whose commands read Ref::run, which has no default (the job warns: every submission must pass it)
    def job() -> ContainerJob:
        made = ContainerJob(scratch.stack, _id(), image=IMAGE, queue=scratch.plain, command=["run", "Ref::run"])
        assert any("required-parameters" in w for w in _warnings(made))
        return made

    # WHEN a pipeline step, a state machine or a direct schedule passes it in a fixed mapping (JsonPath values too)
    step_job, machine_job, scheduled_job, open_job = job(), job(), job(), job()
    BatchPipeline(
        scratch.stack, _id(), steps=[PipelineStep(step_job, parameters={"run": sfn.JsonPath.string_at("$.id")})]
    )
    BatchJobStateMachine(scratch.stack, _id(), job=machine_job, parameters={"run": "nightly"})
    ScheduledJob(scratch.stack, _id(), job=scheduled_job, schedule=events.Schedule.rate(Duration.days(1)),
                 parameters={"run": "daily"})  # fmt: skip
    # AND one takes its parameters from the execution input (nothing guarantees the value)
    BatchJobStateMachine(scratch.stack, _id(), job=open_job)
    # THEN the warning is acknowledged on the first three only
    assert [bool(_warnings(j)) for j in (step_job, machine_job, scheduled_job, open_job)] == [False, False, False, True]


def test_an_unlisted_share_identifier_warns_on_the_submitter_with_the_likely_intent(scratch: Scratch) -> None:
    # GIVEN the shared queue's policy names teamA and teamB
    # WHEN a state machine passes another case of teamA, a pipeline step an unknown identifier, a schedule a listed one
    machine = BatchJobStateMachine(scratch.stack, _id(), job=scratch.shared_job, share_identifier="teama")
    pipeline = BatchPipeline(scratch.stack, _id(), steps=[PipelineStep(scratch.shared_job, share_identifier="teamC")])
    listed = ScheduledJob(scratch.stack, _id(), job=scratch.shared_job, share_identifier="teamB",
                          schedule=events.Schedule.rate(Duration.days(1)), parameters={"input": "x"})  # fmt: skip
    # THEN the first two warn (AWS would give them weight 1.0), naming the submission, the queue and the fix
    (warning,) = [w for w in _warnings(machine) if "share-unlisted" in w]
    assert "the state machine: share_identifier='teama' matches none of the fair-share identifiers" in warning
    assert "Scratch/Shared ('teamA', 'teamB')" in warning and "did you mean 'teamA'?" in warning
    (warning,) = [w for w in _warnings(pipeline) if "share-unlisted" in w]
    assert warning.startswith("steps[0]: share_identifier='teamC'")
    assert not [w for w in _warnings(listed) if "share-unlisted" in w]


def test_a_job_of_another_queue_needs_a_priority_on_a_fair_share_queue(scratch: Scratch) -> None:
    # GIVEN a job of the plain queue, without a scheduling priority (its own queue needs none)
    job = ContainerJob(scratch.stack, _id(), image=IMAGE, queue=scratch.plain, command=["run"])
    # WHEN a state machine, a pipeline step or a schedule submits it to the fair-share queue without an override
    # THEN SubmitJob would fail: refused at synth, naming the job, the queue and the two fixes
    with pytest.raises(BatchConfigurationError, match=r"\[fair-share-priority\] the state machine: job .* has no"):
        BatchJobStateMachine(scratch.stack, _id(), job=job, queue=scratch.shared, share_identifier="teamA")
    with pytest.raises(BatchConfigurationError, match=r"\[fair-share-priority\] steps\[0\]: .*or pass scheduling_prio"):
        BatchPipeline(scratch.stack, _id(), steps=[PipelineStep(job, queue=scratch.shared, share_identifier="teamA")])
    with pytest.raises(BatchConfigurationError, match=r"\[fair-share-priority\] ScheduledJob: job"):
        ScheduledJob(scratch.stack, _id(), job=job, queue=scratch.shared, share_identifier="teamA",
                     schedule=events.Schedule.rate(Duration.days(1)))  # fmt: skip
    # AND an override answers it
    BatchJobStateMachine(
        scratch.stack, _id(), job=job, queue=scratch.shared, share_identifier="teamA", scheduling_priority_override=5
    )
