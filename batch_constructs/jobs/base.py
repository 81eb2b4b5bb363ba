"""The base every job construct shares: log group, roles, queue binding, fit checks and scoped submit grants.

Each job owns its log group (retention, KMS), its execution role (image pull, its own log group, its own secrets)
and its job role (nothing until granted), and knows its queue, so that ``grant_submit_job`` is scoped to that queue and
to this definition's revisions (``job-definition/NAME:*``), and so that the fit rules can prove at synth time that a
compute environment behind the queue can hold the job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Fn
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._internal import logs as _logs
from .._internal.compliance import acknowledge, resource_finding
from .._internal.iam import ManagedPolicyRole
from .._internal.limits import register_stack_checks
from .._internal.memo import path_of, seconds_of, stack_of
from .._internal.validation import is_known, raise_if_any, validate_later, warn
from ..model import registry
from ..model import rules as _rules
from ..model.rules import JobRequirements
from ..queue import KnownQueue
from ..roles import ExecutionRole, JobRole
from ..types import Queue
from .retry import RetryPolicy

__all__ = ["BatchJob"]

#: Why a SubmitJob grant on ``job-definition/NAME:*`` is acknowledged where the library's roles receive it.
SUBMIT_REVISIONS_REASON = (
    "batch:SubmitJob on every revision of this one job definition (job-definition/NAME:*), so submissions keep "
    "working while a new revision deploys (aws-cdk #26128); never job-definition/* (aws-cdk #37214), and the same "
    "statement names the one job queue."
)


class BatchJob(Construct):
    """What container and multi-node jobs share: log group, roles, queue binding, grants."""

    job_definition: batch.IJobDefinition
    requirements: list[JobRequirements]

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        queue: Queue | None,
        job_role: iam.IRole | None,
        execution_role: iam.IRole | None,
        log_retention: logs.RetentionDays | None,
        log_encryption_key: kms.IKey | None,
    ) -> None:
        super().__init__(scope, construct_id)
        register_stack_checks(self, scope, construct_id)
        self.queue = queue
        self.job_role: iam.IRole = job_role or JobRole(self, "JobRole")
        self.execution_role: iam.IRole = execution_role or ExecutionRole(self, "ExecutionRole")
        self.log_group: logs.LogGroup = _logs.new_log_group(
            self, "LogGroup", retention=log_retention, encryption_key=log_encryption_key
        )
        self.problems: list[str] = []

    def _logging(self) -> ecs.LogDriver:
        return ecs.LogDriver.aws_logs(stream_prefix="job", log_group=self.log_group)

    @staticmethod
    def _image(image: ecs.ContainerImage | str) -> ecs.ContainerImage:
        return ecs.ContainerImage.from_registry(image) if isinstance(image, str) else image

    def _common_checks(
        self,
        retry: RetryPolicy,
        timeout: Duration | None,
        scheduling_priority: int | None,
        job_definition_name: str | None,
        command: Sequence[str] | None,
        parameters: Mapping[str, str] | None,
    ) -> None:
        p = self.problems
        #: The definition's scheduling priority (None: none; a fair-share queue then needs an override at submit).
        self.scheduling_priority: int | None = scheduling_priority
        p += retry.problems()
        if timeout is not None and is_known(seconds_of(timeout)):
            p += _rules.timeout(seconds_of(timeout))
        if scheduling_priority is not None and is_known(scheduling_priority):
            p += _rules.scheduling_priority(scheduling_priority)
        if isinstance(self.queue, KnownQueue):
            p += _rules.fair_share_priority(path_of(self.queue), self.queue.fair_share, scheduling_priority)
        p += _rules.name("job_definition_name", job_definition_name)
        if job_definition_name is not None:
            warn(
                self,
                registry.PHYSICAL_NAME_WARNING,
                f"job_definition_name={job_definition_name!r}: fine for job definitions (each change registers a new "
                "revision), but two stacks using the same name overwrite each other's revisions.",
            )
        refs = set(re.findall(r"Ref::([A-Za-z0-9_]+)", " ".join(command or [])))
        missing = sorted(refs - set(parameters or {}))
        if missing:
            warn(
                self,
                registry.REQUIRED_PARAMETERS_WARNING,
                f"the command references {', '.join('Ref::' + m for m in missing)} with no default parameter: every "
                "submission must pass them, or the literal text 'Ref::name' reaches the container.",
            )

    def _check_fit(self) -> None:
        """Check now when the queue has environments, else at synth (they may be added with ``add_environment``)."""
        queue = self.queue
        if not isinstance(queue, KnownQueue):
            return
        if queue.capacities():
            self.problems += self._fit_problems(queue)
        else:
            validate_later(self, lambda: self._fit_problems(queue))

    def _fit_problems(self, queue: KnownQueue) -> list[str]:
        capacities = queue.capacities()
        problems = _rules.job_placement(self.requirements, path_of(queue), capacities)
        for req in self.requirements if not problems else ():  # a job that cannot run needs no memory advice
            headroom = _rules.memory_headroom(req, capacities)
            if headroom:
                warn(self, registry.MEMORY_HEADROOM_WARNING, headroom)
        return problems

    @property
    def job_definition_arn(self) -> str:
        """The ARN of the current revision (``...:job-definition/NAME:REVISION``)."""
        return self.job_definition.job_definition_arn

    @property
    def job_definition_name(self) -> str:
        """The name without revision (a token until deploy when CloudFormation names it)."""
        # The definition never changes once created: its name is computed (five jsii round trips) once.
        cached: str | None = getattr(self, "_job_definition_name", None)
        if cached is None:
            after_slash = Fn.select(1, Fn.split("/", self.job_definition.job_definition_arn))
            cached = self._job_definition_name = Fn.select(0, Fn.split(":", after_slash))
        return cached

    @property
    def job_definition_arn_pattern(self) -> str:
        """``arn:...:job-definition/NAME:*``: every revision of this definition and nothing else.

        Grants use it rather than one revision's ARN, so submitting keeps working while a new revision deploys
        (aws-cdk #26128), and rather than ``job-definition/*`` (aws-cdk #37214).
        """
        cached: str | None = getattr(self, "_job_definition_arn_pattern", None)
        if cached is None:
            cached = self._job_definition_arn_pattern = stack_of(self).format_arn(
                service="batch", resource="job-definition", resource_name=f"{self.job_definition_name}:*"
            )
        return cached

    def grant_submit_job(self, grantee: iam.IGrantable, queue: Queue | None = None) -> iam.Grant:
        """Allow ``grantee`` to submit this job (any revision) to ``queue`` (default: the job's own queue) only."""
        target = queue or self.queue
        if target is None:
            raise_if_any(
                self,
                [
                    registry.JOB_QUEUE.fix(
                        "grant_submit_job needs a queue and the job has none",
                        "pass queue= to the job or to grant_submit_job",
                    )
                ],
            )
        assert target is not None
        queue_arn = target.job_queue_arn
        grant = iam.Grant.add_to_principal(
            grantee=grantee, actions=["batch:SubmitJob"], resource_arns=[queue_arn, self.job_definition_arn_pattern]
        )
        policy = grantee.managed_policy if isinstance(grantee, ManagedPolicyRole) else None
        if policy is not None:
            acknowledge(policy, resource_finding(policy, self.job_definition_arn_pattern), SUBMIT_REVISIONS_REASON)
        return grant

    @property
    def job_queue_arn(self) -> str:
        """The ARN of the job's queue."""
        if self.queue is None:
            raise_if_any(self, [registry.JOB_QUEUE.fix("the job has no queue", "pass queue= to the job")])
        assert self.queue is not None
        return self.queue.job_queue_arn
