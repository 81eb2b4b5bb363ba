"""An EventBridge target that submits a Batch job, with a scoped role in a managed policy.

aws-cdk-lib's ``events_targets.BatchJob`` puts its grant in an inline policy (rejected by the NIST, HIPAA and PCI
packs) and scopes it to one job definition revision (aws-cdk #26128). This target grants ``batch:SubmitJob`` on the
queue and ``job-definition/NAME:*`` only, through a :class:`~batch_constructs._iam.ManagedPolicyRole`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import jsii
from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sqs as sqs

from .._internal.dlq import allow_rule_to_send
from .._internal.memo import seconds_of

if TYPE_CHECKING:
    from ..types import Queue
    from ._common import AnyJob


def _job_name(rule: events.IRule) -> str:
    """A valid Batch job name from the construct id of the rule's parent (letters, digits, - and _)."""
    owner = rule.node.scope.node.id if rule.node.scope is not None else "job"
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", owner).lstrip("-_")
    return (cleaned or "job")[:128]


@jsii.implements(events.IRuleTarget)
class BatchJobTarget:
    """Submit ``job`` to ``queue`` (default: the job's queue) for each matching event.

    Args:
        job: a ContainerJob, MultiNodeJob or ImportedJob.
        role: the role EventBridge assumes; granted ``batch:SubmitJob`` here (create it with ManagedPolicyRole
            trusting events.amazonaws.com).
        dead_letter_queue: where undeliverable events go.
        queue: Default: the job's queue.
        job_name: the submitted job's name. Default: the construct id of the rule's parent.
        input: the SubmitJob overrides, e.g. ``RuleTargetInput.from_object({"Parameters": {...}})`` with
            ``EventField`` values. Default: none (the job's default parameters).
        array_size: submit an array job of this size (2-10,000). Default: a single job.
        retry_attempts / max_event_age: EventBridge delivery retries. Default: 185 attempts over 24 hours (AWS).
    """

    def __init__(
        self,
        job: AnyJob,
        *,
        role: iam.IRole,
        dead_letter_queue: sqs.IQueue,
        queue: Queue | None = None,
        job_name: str | None = None,
        input: events.RuleTargetInput | None = None,  # noqa: A002 - the name EventBridge targets use
        array_size: int | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
    ) -> None:
        self.job = job
        self.role = role
        self.dead_letter_queue = dead_letter_queue
        self.queue = queue or job.queue
        self.job_name = job_name
        self.input = input
        self.array_size = array_size
        self.retry_attempts = retry_attempts
        self.max_event_age = max_event_age

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:  # noqa: A002
        self.job.grant_submit_job(self.role, self.queue)
        allow_rule_to_send(self.dead_letter_queue, rule)
        queue_arn = self.queue.job_queue_arn if self.queue is not None else self.job.job_queue_arn
        retry = None
        if self.retry_attempts is not None or self.max_event_age is not None:
            retry = events.CfnRule.RetryPolicyProperty(
                maximum_retry_attempts=self.retry_attempts,
                maximum_event_age_in_seconds=int(seconds_of(self.max_event_age)) if self.max_event_age else None,
            )
        return events.RuleTargetConfig(
            arn=queue_arn,
            role=self.role,
            input=self.input,
            batch_parameters=events.CfnRule.BatchParametersProperty(
                job_definition=self.job.job_definition_arn,
                job_name=self.job_name or _job_name(rule),
                array_properties=events.CfnRule.BatchArrayPropertiesProperty(size=self.array_size)
                if self.array_size
                else None,
            ),
            dead_letter_config=events.CfnRule.DeadLetterConfigProperty(arn=self.dead_letter_queue.queue_arn),
            retry_policy=retry,
            target_resource=self.job.job_definition,
        )
