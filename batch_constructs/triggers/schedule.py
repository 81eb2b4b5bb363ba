"""Schedule trigger: an EventBridge rule (cron or rate) that submits a Batch job, or starts a job state machine.

The rule's target has a dead-letter queue (events EventBridge could not deliver, e.g. a submission AWS Batch
rejected) and a retry policy. Submitting directly is the cheapest path (no Step Functions); starting a
:class:`~batch_constructs.stepfunctions.BatchJobStateMachine` adds waiting for the job, a failure alert and execution
logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from aws_cdk import Aws, Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._internal import dlq as _dlq
from .._internal.iam import ManagedPolicyRole
from .._internal.validation import is_known, raise_if_any
from ..jobs import BatchJob
from ..model import registry
from ..model import rules as _rules
from ..types import Queue
from ._common import array_size_problems, queue_problems
from ._targets import BatchJobTarget
from .stepfunctions import BatchJobStateMachine

__all__ = ["MAX_EVENT_AGE", "RETRY_ATTEMPTS", "ScheduledJob"]

#: Delivery retries of a scheduled event. EventBridge's default (185 over 24 hours) would start a run many hours late;
#: a few attempts ride out throttling and short outages, and what still fails lands in the dead-letter queue.
RETRY_ATTEMPTS: Final = 8

#: How long EventBridge keeps retrying a scheduled event. A run more than an hour late is more useful as a message in
#: the dead-letter queue (someone decides) than as a silent late run; lower it for frequent schedules.
MAX_EVENT_AGE: Final = Duration.hours(1)


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
    seconds = max_event_age.to_seconds()
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

    Attributes:
        rule: the ``events.Rule``.
        role: the role EventBridge assumes (child ``Role``, trusting events.amazonaws.com in this account; its grants
            sit in a managed policy): ``batch:SubmitJob`` on the queue and ``job-definition/NAME:*``, or
            ``states:StartExecution`` on the state machine.
        dead_letter_queue: where undeliverable events go (the given queue, or the child ``DeadLetterQueue``).
        state_machine: the state machine started, or None when the job is submitted directly.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: BatchJob | None = None,
        schedule: events.Schedule,
        queue: Queue | None = None,
        parameters: Mapping[str, str] | None = None,
        array_size: int | None = None,
        state_machine: BatchJobStateMachine | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        retry_attempts: int = RETRY_ATTEMPTS,
        max_event_age: Duration = MAX_EVENT_AGE,
        enabled: bool = True,
        description: str | None = None,
    ) -> None:
        """Args:
        job: the ContainerJob or MultiNodeJob to run. Required unless ``state_machine`` is given (then it may be
            omitted, or must be the state machine's job).
        schedule: ``events.Schedule.cron(minute="0", hour="3")`` or ``events.Schedule.rate(Duration.hours(6))``
            (UTC).
        queue: Default: the job's queue. Not with ``state_machine`` (the state machine has its queue).
        parameters: job parameters for every run (literal strings for ``Ref::name``). Direct submission passes them
            as the job's ``Parameters``; with ``state_machine`` they become the execution input
            ``{"parameters": {...}}``. Default: none (the job definition's defaults; a state machine then receives
            the scheduled event as input).
        array_size: submit an array job of 2-10,000 children. Default: one job. Not with ``state_machine`` (set it on
            the state machine).
        state_machine: start this :class:`BatchJobStateMachine` instead of submitting directly. Default: none.
        dead_letter_queue: Default: a new KMS-encrypted, TLS-only queue keeping messages 14 days (child
            ``DeadLetterQueue``).
        retry_attempts: EventBridge delivery retries, 0-185. Default: 8.
        max_event_age: how long EventBridge retries, 60 s to 24 h. Default: 1 hour.
        enabled: Default: True.
        description: the rule's description (cut to EventBridge's 512 characters). Default: one naming the job or
            state machine.
        """
        super().__init__(scope, construct_id)
        problems = _retry_problems(retry_attempts, max_event_age)
        problems += array_size_problems("", array_size)
        target_queue: Queue | None = None
        if state_machine is not None:
            if job is not None and job is not state_machine.job:
                problems.append(
                    registry.SCHEDULE_TARGET.fix(
                        f"job {job.node.path} is not the job of state_machine {state_machine.node.path} "
                        f"({state_machine.job.node.path})",
                        "omit job= when passing state_machine=, or pass that state machine's job",
                    )
                )
            if queue is not None or array_size is not None:
                problems.append(
                    registry.SCHEDULE_TARGET.fix(
                        "queue/array_size given together with state_machine; the state machine decides both",
                        "set queue/array_size on the BatchJobStateMachine, or drop state_machine to submit directly",
                    )
                )
        elif job is None:
            problems.append(
                registry.SCHEDULE_TARGET.fix("neither job nor state_machine given", "pass job= (or state_machine=)")
            )
        else:
            target_queue, pairing = queue_problems(job, queue, "ScheduledJob")
            problems += pairing
        raise_if_any(self, problems)

        self.state_machine: BatchJobStateMachine | None = state_machine
        self.job: BatchJob = state_machine.job if state_machine is not None else job  # type: ignore[assignment]
        self.role: iam.Role = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "events.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}}
            ),
            description=f"batch-constructs: EventBridge schedule {self.node.path}",
        )
        if dead_letter_queue is None:
            dead_letter_queue = _dlq.new_dead_letter_queue(self, "DeadLetterQueue")
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue
        what = state_machine.node.path if state_machine is not None else self.job.node.path
        self.rule = events.Rule(
            self,
            "Rule",
            schedule=schedule,
            enabled=enabled,
            description=(description or f"batch-constructs: runs {what} on a schedule")[:512],
        )
        target: events.IRuleTarget
        if state_machine is not None:
            target = events_targets.SfnStateMachine(
                state_machine.state_machine,
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
                    self.job,
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
