"""Jobs the library did not create: an L2 job definition (or its ARN) plus a queue, submittable by every trigger.

:class:`ImportedJob` gives a foreign definition the surface the triggers use (``job_definition``, ``queue``,
``job_definition_arn``, ``grant_submit_job`` scoped to ``job-definition/NAME:*``), and nothing else: it creates no
resource, owns no role or log group, and knows no vCPUs/memory, so the fit rules cannot check it against the queue.
"""

from __future__ import annotations

import re

from aws_cdk import Fn, Token
from aws_cdk import aws_batch as batch
from aws_cdk import aws_iam as iam
from constructs import Construct

from .._internal.compliance import acknowledge, nag_text
from .._internal.iam import ManagedPolicyRole
from .._internal.memo import adopt_stack, stack_of
from .._internal.validation import raise_if_any
from ..model import registry
from ..model.rules import JobRequirements
from ..types import Queue
from .base import SUBMIT_REVISIONS_REASON

__all__ = ["ImportedJob"]

#: A job definition ARN: ``arn:PARTITION:batch:REGION:ACCOUNT:job-definition/NAME[:REVISION]``.
_ARN = re.compile(r"^arn:[a-z-]+:batch:[a-z0-9-]+:\d{12}:job-definition/([A-Za-z0-9_-]{1,128})(?::\d+)?$")


class ImportedJob(Construct):
    """A job definition created elsewhere (another stack, the console, the L2 directly), ready for the triggers.

    Example::

        legacy = ImportedJob(self, "Legacy", job_definition="arn:aws:batch:eu-west-1:123456789012:job-definition/etl:7",
                             queue=platform.queue)
        ScheduledJob(self, "Nightly", job=legacy, schedule=events.Schedule.cron(minute="0", hour="2"))

    Attributes:
        job_definition: the L2 ``IJobDefinition`` (the given one, or child ``Definition`` imported from the ARN).
        queue: the queue submissions go to unless a trigger passes another one.
        requirements: always empty: the definition's size is unknown here, so no fit rule applies.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job_definition: batch.IJobDefinition | str,
        queue: Queue | None = None,
    ) -> None:
        """Args:
        job_definition: an L2 job definition (e.g. ``batch.EcsJobDefinition`` of your own, or one imported with
            ``from_job_definition_arn``), or a job definition ARN with or without a revision. Grants name every
            revision (``job-definition/NAME:*``), never ``job-definition/*``. An L2 definition's ``parameters`` and
            container ``command`` are read, so the triggers' parameter rules apply to it; an ARN declares nothing.
        queue: Default: none (each trigger must then be given ``queue=``).
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope)
        if isinstance(job_definition, str):
            if not Token.is_unresolved(job_definition) and not _ARN.match(job_definition):
                raise_if_any(
                    self,
                    [
                        registry.IMPORTED_JOB.fix(
                            f"job_definition={job_definition!r} is not a job definition ARN",
                            "pass arn:aws:batch:REGION:ACCOUNT:job-definition/NAME[:REVISION], or an L2 definition",
                        )
                    ],
                )
            job_definition = batch.EcsJobDefinition.from_job_definition_arn(self, "Definition", job_definition)
        self.job_definition: batch.IJobDefinition = job_definition
        self.queue: Queue | None = queue
        self.requirements: list[JobRequirements] = []

    @property
    def job_definition_arn(self) -> str:
        return self.job_definition.job_definition_arn

    @property
    def job_definition_name(self) -> str:
        """The name without revision, read from the ARN (a token when the ARN is one)."""
        arn = self.job_definition.job_definition_arn
        if not Token.is_unresolved(arn):
            return arn.split("/", 1)[1].split(":", 1)[0]
        after_slash = Fn.select(1, Fn.split("/", arn))
        return Fn.select(0, Fn.split(":", after_slash))

    @property
    def job_definition_arn_pattern(self) -> str:
        """``arn:...:job-definition/NAME:*``: every revision of this definition and nothing else."""
        return stack_of(self).format_arn(
            service="batch", resource="job-definition", resource_name=f"{self.job_definition_name}:*"
        )

    @property
    def job_queue_arn(self) -> str:
        if self.queue is None:
            raise_if_any(self, [registry.JOB_QUEUE.fix("the job has no queue", "pass queue= to the ImportedJob")])
        assert self.queue is not None
        return self.queue.job_queue_arn

    def grant_submit_job(self, grantee: iam.IGrantable, queue: Queue | None = None) -> iam.Grant:
        """Allow ``grantee`` to submit this definition (any revision) to ``queue`` (default: ``self.queue``) only."""
        target = queue or self.queue
        if target is None:
            raise_if_any(
                self,
                [registry.JOB_QUEUE.fix("grant_submit_job needs a queue", "pass queue= to the ImportedJob or here")],
            )
        assert target is not None
        grant = iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["batch:SubmitJob"],
            resource_arns=[target.job_queue_arn, self.job_definition_arn_pattern],
        )
        policy = grantee.managed_policy if isinstance(grantee, ManagedPolicyRole) else None
        if policy is not None:
            resource = nag_text(stack_of(policy).resolve(self.job_definition_arn_pattern))
            acknowledge(policy, f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", SUBMIT_REVISIONS_REASON)
        return grant
