"""Schedule trigger: an EventBridge rule (cron or rate) that submits a Batch job, or starts a state machine.

The rule's target has a dead-letter queue (events EventBridge could not deliver, e.g. a submission AWS Batch
rejected) and a retry policy. Submitting directly is the cheapest path (no Step Functions); starting a
:class:`~batch_constructs.stepfunctions.BatchJobStateMachine`, a
:class:`~batch_constructs.stepfunctions.BatchPipeline` or any ``sfn.IStateMachine`` adds waiting for the job(s), a
failure alert and execution logs.

Fair-share queues: an EventBridge rule's Batch target cannot carry a share identifier (``AWS::Events::Rule``
``BatchParameters`` has only JobName, JobDefinition, ArrayProperties and RetryStrategy), so a direct submission with
``share_identifier=`` uses an EventBridge Scheduler schedule (child ``Schedule``) whose universal target calls
``aws-sdk:batch:submitJob`` with the identifier, instead of the rule (child ``Rule``). Schedules without a share
identifier keep the rule, so existing stacks keep their resources. A state machine carries its own share identifier
(``BatchJobStateMachine(share_identifier=...)``, ``PipelineStep(share_identifier=...)``).

Time zones and flexible windows: EventBridge rules run in UTC and at the exact time; EventBridge Scheduler takes a
``ScheduleExpressionTimezone`` (an IANA name, daylight saving time included) and a ``FlexibleTimeWindow`` (1-1440
minutes, spreading many schedules' submissions). A direct submission with ``time_zone=`` or ``flexible_window=``
therefore uses the Scheduler schedule too. Starting a state machine keeps the rule (its target role, dead-letter
queue and retries are unchanged), so these options are refused there: write the cron expression in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, cast

from aws_cdk import ArnFormat, Duration, Stack, TimeZone
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

if TYPE_CHECKING:  # imported where used: only Scheduler submissions (share identifier, time zone, window) need it
    from aws_cdk import aws_scheduler as scheduler

from .._internal import dlq as _dlq
from .._internal.defaults import readable
from .._internal.iam import ManagedPolicyRole, add_key_statement, service_principal
from .._internal.memo import adopt_stack, path_of, seconds_of
from .._internal.validation import is_known, raise_if_any
from ..model import registry
from ..model import rules as _rules
from ..types import Queue
from ._common import (
    AnyJob,
    acknowledge_complete_parameters,
    array_size_problems,
    job_parameter_problems,
    queue_problems,
    share_problems,
)
from ._targets import BatchJobTarget
from .stepfunctions import BatchJobStateMachine, BatchPipeline, _batch_job_name

#: What a schedule can start: the library's state machines, or any other.
StateMachineTarget = BatchJobStateMachine | BatchPipeline | sfn.IStateMachine

__all__ = ["MAX_EVENT_AGE", "RETRY_ATTEMPTS", "ScheduledJob"]

#: Delivery retries of a scheduled event. EventBridge's default (185 over 24 hours) would start a run many hours late;
#: a few attempts ride out throttling and short outages, and what still fails lands in the dead-letter queue.
RETRY_ATTEMPTS: Final = 8

#: How long EventBridge keeps retrying a scheduled event. A run more than an hour late is more useful as a message in
#: the dead-letter queue (someone decides) than as a silent late run; lower it for frequent schedules.
MAX_EVENT_AGE: Final = readable(Duration.hours(1), "Duration.hours(1)")


def _retry_problems(retry_attempts: int, max_event_age: Duration) -> list[str]:
    problems: list[str] = []
    if is_known(retry_attempts):
        problems += _rules.int_range(
            registry.TARGET_RETRY,
            "retry_attempts",
            retry_attempts,
            0,
            185,
            "use 0 (no retry) to 185 (EventBridge's maximum)",
        )
    seconds = seconds_of(max_event_age)
    if is_known(seconds):
        problems += _rules.int_range(
            registry.TARGET_RETRY,
            "max_event_age (s)",
            seconds,
            60,
            86400,
            "use Duration.minutes(1) to Duration.hours(24) (EventBridge's limits)",
        )
    return problems


class ScheduledJob(Construct):
    """An EventBridge schedule (child ``Rule``) that submits ``job`` directly, or starts ``state_machine``.

    With ``share_identifier=`` (a fair-share queue), ``time_zone=`` or ``flexible_window=`` the job is submitted by
    an EventBridge Scheduler schedule (child ``Schedule``) instead, whose universal target passes the share identifier
    (see the module docstring).

    Attributes:
        rule: the ``events.Rule``, or None when the job is submitted by ``schedule``.
        schedule: the ``scheduler.Schedule`` of a Scheduler submission, else None.
        role: the role EventBridge (or EventBridge Scheduler) assumes (child ``Role``, trusting the service in this
            account; its grants sit in a managed policy): ``batch:SubmitJob`` on the queue and
            ``job-definition/NAME:*``, or ``states:StartExecution`` on the state machine.
        dead_letter_queue: where undeliverable events go (the given queue, or the child ``DeadLetterQueue``).
        state_machine: the state machine started (as passed), or None when the job is submitted directly.
        job: the job submitted directly or by a BatchJobStateMachine; None for a pipeline or another state machine.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: AnyJob | None = None,
        schedule: events.Schedule,
        queue: Queue | None = None,
        parameters: Mapping[str, str] | None = None,
        array_size: int | None = None,
        state_machine: StateMachineTarget | None = None,
        share_identifier: str | None = None,
        scheduling_priority_override: int | None = None,
        time_zone: str | None = None,
        flexible_window: Duration | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = RETRY_ATTEMPTS,
        max_event_age: Duration = MAX_EVENT_AGE,
        enabled: bool = True,
        description: str | None = None,
    ) -> None:
        """Args:
        job: the ContainerJob, MultiNodeJob or ImportedJob to run. Required unless ``state_machine`` is given (then
            it may be omitted, or must be the BatchJobStateMachine's job).
        schedule: ``events.Schedule.cron(minute="0", hour="3")`` or ``events.Schedule.rate(Duration.hours(6))``
            (UTC).
        queue: Default: the job's queue. Not with ``state_machine`` (the state machine has its queue).
        parameters: job parameters for every run (literal strings for ``Ref::name``). Direct submission passes them
            as the job's ``Parameters``; with ``state_machine`` they become the execution input
            ``{"parameters": {...}}``. Default: none (the job definition's defaults; a state machine then receives
            the scheduled event as input).
        array_size: submit an array job of 2-10,000 children. Default: one job. Not with ``state_machine`` (set it on
            the state machine).
            A fixed mapping is checked against the job (``trigger-unread-parameter``, ``trigger-unset-parameter``).
        state_machine: start this :class:`BatchJobStateMachine`, :class:`BatchPipeline` or ``sfn.IStateMachine``
            instead of submitting directly. Default: none.
        share_identifier: the share of a direct submission: required when the job's queue is fair-share, refused
            otherwise (``share-identifier``); switches the direct submission to EventBridge Scheduler. Not with
            ``state_machine`` (set it on the state machine). Default: none.
        scheduling_priority_override: 0-9999, with ``share_identifier``. Default: the job definition's priority.
        time_zone: the IANA time zone of a cron ``schedule`` (e.g. ``"Europe/Paris"``; daylight saving time
            applies), checked at synth (``schedule-time-zone``); switches to EventBridge Scheduler. Not with
            ``state_machine``. Default: none (UTC).
        flexible_window: let EventBridge Scheduler start each run up to this long after the scheduled time (1-1440
            minutes, ``schedule-flexible-window``), which spreads many schedules' submissions; switches to
            EventBridge Scheduler. Not with ``state_machine``. Default: none (runs at the scheduled time).
        dead_letter_queue: Default: a new KMS-encrypted, TLS-only queue keeping messages 14 days (child
            ``DeadLetterQueue``).
        retry_attempts: EventBridge delivery retries, 0-185. Default: 8.
        max_event_age: how long EventBridge retries, 60 s to 24 h. Default: 1 hour.
        enabled: Default: True.
        description: the rule's description (cut to EventBridge's 512 characters). Default: one naming the job or
            state machine.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        problems = _retry_problems(retry_attempts, max_event_age)
        problems += array_size_problems("", array_size)
        target_queue: Queue | None = None
        if state_machine is not None:
            own_job = state_machine.job if isinstance(state_machine, BatchJobStateMachine) else None
            if job is not None and job is not own_job:
                owner = f" ({path_of(own_job)})" if own_job is not None else " (it has no single job)"
                problems.append(
                    registry.SCHEDULE_TARGET.fix(
                        f"job {path_of(job)} is not the job of state_machine {path_of(state_machine)}{owner}",
                        "omit job= when passing state_machine=, or pass that state machine's job",
                    )
                )
            if queue is not None or array_size is not None:
                problems.append(
                    registry.SCHEDULE_TARGET.fix(
                        "queue/array_size given together with state_machine; the state machine decides both",
                        "set queue/array_size on the state machine, or drop state_machine to submit directly",
                    )
                )
            if share_identifier is not None or scheduling_priority_override is not None:
                problems.append(
                    registry.SCHEDULE_TARGET.fix(
                        "share_identifier/scheduling_priority_override given together with state_machine; the state "
                        "machine submits the job",
                        "pass share_identifier= to the BatchJobStateMachine or to each PipelineStep",
                    )
                )
            if time_zone is not None:
                problems.append(
                    registry.SCHEDULE_TIME_ZONE.fix(
                        f"time_zone={time_zone!r} with state_machine; a state machine is started by an EventBridge "
                        "rule, which runs in UTC",
                        "write the cron expression in UTC and drop time_zone, or pass job= (no state_machine) to "
                        "submit directly with EventBridge Scheduler",
                    )
                )
            if flexible_window is not None:
                problems.append(
                    registry.SCHEDULE_FLEXIBLE_WINDOW.fix(
                        "flexible_window with state_machine; a state machine is started by an EventBridge rule, which "
                        "has no flexible window",
                        "drop flexible_window, or pass job= (no state_machine) to submit directly with EventBridge "
                        "Scheduler",
                    )
                )
            if own_job is not None and parameters is not None:
                problems += job_parameter_problems(own_job, "parameters", parameters, complete=False)
        elif job is None:
            problems.append(
                registry.SCHEDULE_TARGET.fix("neither job nor state_machine given", "pass job= (or state_machine=)")
            )
        else:
            target_queue, pairing = queue_problems(job, queue, "ScheduledJob", self)
            problems += pairing
            if target_queue is not None:
                problems += share_problems(
                    self, target_queue, "ScheduledJob", share_identifier, scheduling_priority_override, job
                )
            problems += job_parameter_problems(job, "parameters", parameters or {}, complete=True)
        if state_machine is None:
            if time_zone is not None:
                problems += _rules.time_zone(time_zone)
            if flexible_window is not None and is_known(seconds_of(flexible_window)):
                problems += _rules.flexible_window(seconds_of(flexible_window) / 60)
        raise_if_any(self, problems)
        if state_machine is None and job is not None:
            acknowledge_complete_parameters(job, parameters or {}, f"ScheduledJob {self.node.path}")

        machine: sfn.IStateMachine | None = None
        if isinstance(state_machine, BatchJobStateMachine | BatchPipeline):
            machine = state_machine.state_machine
        elif state_machine is not None:
            machine = state_machine
        self.state_machine: StateMachineTarget | None = state_machine
        self.job: AnyJob | None = state_machine.job if isinstance(state_machine, BatchJobStateMachine) else job
        use_scheduler = state_machine is None and (
            share_identifier is not None or time_zone is not None or flexible_window is not None
        )
        # Confused-deputy protection: the service of this account only (aws:SourceAccount). EventBridge Scheduler also
        # names the schedule group in aws:SourceArn (EventBridge Scheduler user guide, "Confused deputy prevention":
        # the value must be the schedule group's ARN; the schedule is in the group "default"). A rule's role gets no
        # aws:SourceArn: the rule's ARN in the role's trust, and the role's ARN in the rule's target, would make each
        # depend on the other, a cycle CloudFormation rejects.
        if use_scheduler:
            principal = service_principal(
                "scheduler.amazonaws.com",
                source_arn=Stack.of(self).format_arn(
                    service="scheduler",
                    resource="schedule-group",
                    resource_name="default",
                    arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                ),
            )
        else:
            principal = service_principal("events.amazonaws.com")
        self.role: iam.Role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=principal,
            description=f"batch-constructs: EventBridge schedule {path_of(self)}",
        )
        if dead_letter_queue is None:
            dead_letter_queue = _dlq.new_dead_letter_queue(self, "DeadLetterQueue")
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue
        what = path_of(state_machine) if state_machine is not None else path_of(job) if job is not None else ""
        self.rule: events.Rule | None = None
        self.schedule: scheduler.Schedule | None = None
        if use_scheduler:
            assert job is not None and target_queue is not None
            self.schedule = self._scheduler_schedule(
                job,
                target_queue,
                schedule=schedule,
                parameters=parameters,
                array_size=array_size,
                share_identifier=share_identifier,
                scheduling_priority_override=scheduling_priority_override,
                time_zone=time_zone,
                flexible_window=flexible_window,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
                enabled=enabled,
                description=(description or f"batch-constructs: runs {what} on a schedule")[:512],
            )
            return
        self.rule = events.Rule(
            self,
            "Rule",
            schedule=schedule,
            enabled=enabled,
            description=(description or f"batch-constructs: runs {what} on a schedule")[:512],
        )
        target: events.IRuleTarget
        if machine is not None:
            target = events_targets.SfnStateMachine(
                machine,
                role=self.role,
                dead_letter_queue=self.dead_letter_queue,
                retry_attempts=retry_attempts,
                max_event_age=max_event_age,
                input=events.RuleTargetInput.from_object({"parameters": dict(parameters)})
                if parameters is not None
                else None,
            )
        else:
            # cast: BatchJobTarget.bind is typed with IRule where the stubs say IRuleRef (EventBridge passes the Rule).
            target = cast(
                events.IRuleTarget,
                BatchJobTarget(
                    job,  # type: ignore[arg-type]
                    role=self.role,
                    dead_letter_queue=self.dead_letter_queue,
                    queue=target_queue,
                    input=events.RuleTargetInput.from_object({"Parameters": dict(parameters)})
                    if parameters is not None
                    else None,
                    array_size=array_size,
                    retry_attempts=retry_attempts,
                    max_event_age=max_event_age,
                ),
            )
        self.rule.add_target(target)

    def _scheduler_schedule(
        self,
        job: AnyJob,
        queue: Queue,
        *,
        schedule: events.Schedule,
        parameters: Mapping[str, str] | None,
        array_size: int | None,
        share_identifier: str | None,
        scheduling_priority_override: int | None,
        time_zone: str | None,
        flexible_window: Duration | None,
        retry_attempts: int,
        max_event_age: Duration,
        enabled: bool,
        description: str,
    ) -> scheduler.Schedule:
        """An EventBridge Scheduler schedule calling SubmitJob (universal target): share identifier, time zone and
        flexible window, which an EventBridge rule cannot have."""
        from aws_cdk import aws_scheduler as scheduler  # lazy: see the import block
        from aws_cdk import aws_scheduler_targets as scheduler_targets

        request: dict[str, object] = {
            "JobName": _batch_job_name(self.node.id),
            "JobQueue": queue.job_queue_arn,
            "JobDefinition": job.job_definition_arn,
        }
        if share_identifier is not None:
            request["ShareIdentifier"] = share_identifier
        if scheduling_priority_override is not None:
            request["SchedulingPriorityOverride"] = scheduling_priority_override
        if parameters is not None:
            request["Parameters"] = dict(parameters)
        if array_size is not None:
            request["ArrayProperties"] = {"Size": array_size}
        # The same narrow statement grant_submit_job adds (queue + job-definition/NAME:*); passed to the target too, or
        # Universal would add batch:SubmitJob on "*".
        job.grant_submit_job(self.role, queue)
        submit = iam.PolicyStatement(
            actions=["batch:SubmitJob"], resources=[queue.job_queue_arn, job.job_definition_arn_pattern]
        )
        key = getattr(self.dead_letter_queue, "encryption_master_key", None)
        if key is not None:
            # Scheduler sends to the dead-letter queue as the role, so the role needs the queue's key (exact actions,
            # through SQS only).
            add_key_statement(self.role, key.key_arn, "sqs", "kms:GenerateDataKey", "kms:Decrypt")
        target = scheduler_targets.Universal(
            service="batch",
            action="submitJob",
            role=self.role,
            policy_statements=[submit],
            dead_letter_queue=self.dead_letter_queue,
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
            input=scheduler.ScheduleTargetInput.from_object(request),
        )
        return scheduler.Schedule(
            self,
            "Schedule",
            schedule=scheduler.ScheduleExpression.expression(
                schedule.expression_string, time_zone=TimeZone.of(time_zone) if time_zone is not None else None
            ),
            time_window=scheduler.TimeWindow.flexible(flexible_window) if flexible_window is not None else None,
            target=target,
            enabled=enabled,
            description=description,
        )
