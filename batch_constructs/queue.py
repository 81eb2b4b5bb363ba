"""Job queues: ordered environments, priority, optional fair share, and no job left RUNNABLE for ever."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import jsii
from aws_cdk import Duration
from aws_cdk import aws_batch as batch
from aws_cdk import aws_iam as iam
from aws_cdk.interfaces.aws_batch import IComputeEnvironmentRef
from constructs import Construct

from ._internal import defaults as _defaults
from ._internal.limits import register_stack_checks
from ._internal.memo import adopt_stack, path_of, seconds_of
from ._internal.validation import is_known, raise_if_any, validate_later, warn
from .compute import BatchEnvironment, Environment, capacity_of
from .model import registry
from .model import rules as _rules
from .model.capacity import EnvironmentCapacity, Platform
from .model.contract import QueueContract

__all__ = ["BatchQueue", "ImportedQueue", "KnownQueue"]


class KnownQueue(Construct):
    """A queue whose environments the library knows: a local :class:`BatchQueue`, or an :class:`ImportedQueue` from
    a platform's contract. Jobs, triggers and grants take either the same way (fit rules, fair-share checks, scoped
    ``batch:SubmitJob``); any other queue (an L2 ``batch.IJobQueue``) is submitted to unchecked.

    Attributes:
        job_queue: the L2 queue (``batch.JobQueue``, or one imported by ARN).
    """

    job_queue: batch.IJobQueue

    @property
    def job_queue_arn(self) -> str:
        return self.job_queue.job_queue_arn

    @property
    def fair_share(self) -> bool:
        """True when jobs on this queue are scheduled by share (they then need a scheduling priority, and
        submissions a share identifier)."""
        raise NotImplementedError

    @property
    def fair_share_known(self) -> bool:
        """False when the queue's contract does not say whether it is fair-share (share checks are then skipped)."""
        return True

    @property
    def share_identifiers(self) -> tuple[str, ...]:
        """The share identifiers the queue's fair-share policy names (empty when not known)."""
        raise NotImplementedError

    @property
    def platform(self) -> Platform | None:
        """FARGATE or EC2 (what a job on the queue must be), None while unknown."""
        caps = self.capacities()
        return caps[0][1].platform if caps else None

    def capacities(self) -> list[tuple[str, EnvironmentCapacity]]:
        """(name, capacity) of each environment whose capacity is known, in queue order: what the fit rules take."""
        raise NotImplementedError

    def contract(self) -> QueueContract:
        """What a workload elsewhere needs to keep every check: see :mod:`batch_constructs.model.contract`."""
        return QueueContract.of(
            self.job_queue_arn, self.capacities(), fair_share=self.fair_share, share_identifiers=self.share_identifiers
        )

    def grant_submit_job(self, grantee: iam.IGrantable, job_definition_arns: Sequence[str]) -> iam.Grant:
        """Allow ``batch:SubmitJob`` to this queue with the given job definition ARNs (or ARN patterns)."""
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=["batch:SubmitJob"], resource_arns=[self.job_queue_arn, *job_definition_arns]
        )


class ImportedQueue(KnownQueue):
    """A queue of another stack or app, known by its contract: jobs on it are checked as on the platform's own
    :class:`BatchQueue`. Create it with :meth:`BatchQueue.from_contract` (or
    :func:`batch_constructs.contract.import_queue`, which reads the contract from an SSM parameter by a context lookup).

    Attributes:
        queue_contract: the :class:`~batch_constructs.model.contract.QueueContract`, or None while a context lookup
            is pending (the first pass of ``cdk synth``, before the CLI fetches the value: nothing is checked then).
        job_queue: the L2 queue imported by ARN (child ``Resource``).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        contract: QueueContract | None,
        job_queue_arn: str | None = None,
    ) -> None:
        """Args:
        contract: the platform's contract for this queue (None: a lookup is pending, see ``queue_contract``).
        job_queue_arn: the ARN to submit to. Default: the contract's. Pass e.g. ``Fn.import_value(export_name)`` to
            keep CloudFormation's strong reference to the platform's export.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        self.queue_contract: QueueContract | None = contract
        arn = job_queue_arn or (contract.job_queue_arn if contract else f"arn:aws:batch:::job-queue/{construct_id}")
        self.job_queue = batch.JobQueue.from_job_queue_arn(self, "Resource", arn)
        self._job_queue_arn = arn

    @property
    def job_queue_arn(self) -> str:
        return self._job_queue_arn

    @property
    def pending(self) -> bool:
        """True while the contract's context lookup has no value yet (nothing is checked)."""
        return self.queue_contract is None

    @property
    def fair_share(self) -> bool:
        return bool(self.queue_contract and self.queue_contract.fair_share)

    @property
    def fair_share_known(self) -> bool:
        return self.queue_contract is not None and self.queue_contract.fair_share is not None

    @property
    def share_identifiers(self) -> tuple[str, ...]:
        return self.queue_contract.share_identifiers if self.queue_contract else ()

    @property
    def platform(self) -> Platform | None:
        return self.queue_contract.platform if self.queue_contract else None

    def capacities(self) -> list[tuple[str, EnvironmentCapacity]]:
        return self.queue_contract.capacities() if self.queue_contract else []

    def contract(self) -> QueueContract:
        return self.queue_contract if self.queue_contract is not None else super().contract()


class BatchQueue(KnownQueue):
    """A job queue over 1-3 compute environments, tried in the order given (e.g. Spot first, On-Demand after).

    By default the queue cancels a job that blocks its head for a reason that will not go away by itself, instead of
    leaving it (and every job behind it) RUNNABLE for ever: after ``misconfiguration_timeout`` for
    MISCONFIGURATION:JOB_RESOURCE_REQUIREMENT and MISCONFIGURATION:COMPUTE_ENVIRONMENT_MAX_RESOURCE (the job can never
    fit), after ``capacity_timeout`` for CAPACITY:INSUFFICIENT_INSTANCE_CAPACITY. A cancelled job ends FAILED, which
    the library's alerts report.

    Attributes:
        job_queue: the L2 ``batch.JobQueue`` (child ``Resource``).
        environments: the environments in order.
        scheduling_policy: the fair-share policy, or None (first in, first out).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        environments: Sequence[Environment],
        priority: int = _defaults.QUEUE_PRIORITY,
        fair_share: Mapping[str, float] | None = None,
        scheduling_policy: batch.ISchedulingPolicy | None = None,
        share_decay: Duration | None = None,
        compute_reservation: int | None = None,
        misconfiguration_timeout: Duration | None = _defaults.MISCONFIGURATION_TIMEOUT,
        capacity_timeout: Duration | None = _defaults.CAPACITY_TIMEOUT,
        job_queue_name: str | None = None,
        enabled: bool = True,
    ) -> None:
        """Args:
        environments: 1-3 environments, all Fargate or all EC2, one CPU architecture; the first is tried first.
        priority: 0-1000; among queues sharing an environment, higher runs first. Default: 1.
        fair_share: share identifier -> weight; creates a fair-share scheduling policy. Jobs then need a scheduling
            priority and submissions a share identifier. Default: none (first in, first out).
        scheduling_policy: an existing scheduling policy instead of ``fair_share``.
        share_decay: with ``fair_share``: how far back the policy counts each share's usage (0 s to 7 days; 0 is
            AWS's minimum window, 600 s). Longer suits jobs that run longer than ten minutes, so a share that just
            ran a long job waits its turn. Default: AWS's (0, the 600 s window).
        compute_reservation: with ``fair_share``: 0-99, the percentage of max vCPUs held back for shares with no
            active job, raised to the number of active shares (25 with one active share keeps 25% free for the
            others' first jobs; with two, 6.25%). Default: AWS's (0, nothing held back: an idle share's first job
            waits for capacity like any other).
        misconfiguration_timeout: cancel jobs that can never run after this long (600-86400 s); None keeps them.
            Default: 10 minutes.
        capacity_timeout: cancel jobs waiting for instance capacity after this long (600-86400 s); None waits for
            ever. Default: 4 hours.
        job_queue_name: a physical name. Default: none (CloudFormation generates one; keeps it replaceable).
        enabled: accept submissions. Default: True.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        register_stack_checks(self, scope, construct_id)
        self.environments: list[Environment] = []
        #: The library environment behind each attached L2 environment (by ``id`` of the L2), for capacities and paths.
        self._owners: dict[int, BatchEnvironment] = {}
        #: ``len(job_queue.entries)`` when ``_cache`` was computed (None: never).
        self._cache_key: int | None = None
        self._cache: list[tuple[str, EnvironmentCapacity]] = []
        self._share_identifiers = tuple(fair_share or ())
        problems: list[str] = []
        problems += _rules.name("job_queue_name", job_queue_name)
        if job_queue_name is not None:
            warn(
                self,
                registry.PHYSICAL_NAME_WARNING,
                f"job_queue_name={job_queue_name!r}: CloudFormation cannot replace a custom-named queue. Leave it "
                "unset unless something outside the stack needs the name.",
            )
        if is_known(priority):
            problems += _rules.queue_priority(priority)
        if fair_share is not None and scheduling_policy is not None:
            problems.append(
                registry.FAIR_SHARE_SHARES.fix(
                    "got both fair_share and scheduling_policy",
                    "pass fair_share (a new policy) or scheduling_policy (an existing one), not both",
                )
            )
        if fair_share is not None:
            problems += _rules.fair_share_shares(fair_share)
        if (share_decay is not None or compute_reservation is not None) and fair_share is None:
            problems.append(
                registry.FAIR_SHARE_POLICY.fix(
                    "share_decay/compute_reservation without fair_share; they belong to the policy fair_share creates",
                    "pass fair_share={...} too, or set them on your own scheduling_policy",
                )
            )
        decay_seconds = seconds_of(share_decay) if share_decay is not None else None
        problems += _rules.fair_share_policy(
            decay_seconds if decay_seconds is None or is_known(decay_seconds) else None,
            compute_reservation if compute_reservation is None or is_known(compute_reservation) else None,
        )
        actions: list[batch.JobStateTimeLimitAction] = []
        reasons = (
            (misconfiguration_timeout, batch.JobStateTimeLimitActionsReason.JOB_RESOURCE_REQUIREMENT),
            (misconfiguration_timeout, batch.JobStateTimeLimitActionsReason.COMPUTE_ENVIRONMENT_MAX_RESOURCE),
            (capacity_timeout, batch.JobStateTimeLimitActionsReason.INSUFFICIENT_INSTANCE_CAPACITY),
        )
        for limit, reason in reasons:
            if limit is None:
                continue
            if is_known(seconds_of(limit)):
                problems += _rules.queue_time_limit(str(reason.value), seconds_of(limit))
            actions.append(
                batch.JobStateTimeLimitAction(
                    max_time=limit,
                    reason=reason,
                    action=batch.JobStateTimeLimitActionsAction.CANCEL,
                    state=batch.JobStateTimeLimitActionsState.RUNNABLE,
                )
            )
        # An empty list is allowed here (environments may follow with add_environment); the synth-time check below
        # then insists on 1-3.
        problems += _rules.queue_environments(self._capacities(environments), allow_empty=True, count=len(environments))
        raise_if_any(self, problems)

        self.scheduling_policy: batch.ISchedulingPolicy | None = scheduling_policy
        if fair_share is not None:
            self.scheduling_policy = batch.FairshareSchedulingPolicy(
                self,
                "SchedulingPolicy",
                shares=[batch.Share(share_identifier=k, weight_factor=v) for k, v in fair_share.items()],
                share_decay=share_decay,
                compute_reservation=compute_reservation,
            )
        self.job_queue = _TrackedJobQueue(
            self,
            "Resource",
            priority=priority,
            scheduling_policy=self.scheduling_policy,
            job_state_time_limit_actions=actions or None,
            job_queue_name=job_queue_name,
            enabled=enabled,
        )
        for environment in environments:
            self._attach(environment)
        validate_later(self, self._final_checks)

    job_queue: batch.JobQueue

    def _final_checks(self) -> list[str]:
        """At synth, after every ``add_environment`` (and any ``job_queue.add_compute_environment``)."""
        entries = [(self._path_of(environment), order) for environment, order in self._tracked().entries]
        return _rules.queue_order(entries) + _rules.queue_environments(self.capacities(), count=len(entries))

    def _tracked(self) -> _TrackedJobQueue:
        assert isinstance(self.job_queue, _TrackedJobQueue)
        return self.job_queue

    @property
    def fair_share(self) -> bool:
        """True when jobs on this queue are scheduled by share (they then need a scheduling priority)."""
        return self.scheduling_policy is not None

    @property
    def share_identifiers(self) -> tuple[str, ...]:
        """The identifiers of ``fair_share`` (empty with an existing ``scheduling_policy``: not known here)."""
        return self._share_identifiers

    @property
    def job_queue_arn(self) -> str:
        # A fixed token once the queue exists: read through jsii once (every job, grant and trigger asks).
        cached: str | None = getattr(self, "_job_queue_arn", None)
        if cached is None:
            cached = self._job_queue_arn = self.job_queue.job_queue_arn
        return cached

    @staticmethod
    def from_contract(
        scope: Construct, construct_id: str, contract: QueueContract, *, job_queue_arn: str | None = None
    ) -> ImportedQueue:
        """A platform's queue in another stack or app, with its contract: every check works as on the local queue.

        ``contract`` comes from the platform's ``BatchQueue.contract()`` (same app), or from its published JSON
        (``PlatformContract.from_json(text).queue(name)``; :func:`batch_constructs.contract.import_queue` reads it
        through a context lookup). ``job_queue_arn``: see :class:`ImportedQueue`.
        """
        return ImportedQueue(scope, construct_id, contract=contract, job_queue_arn=job_queue_arn)

    def capacities(self) -> list[tuple[str, EnvironmentCapacity]]:
        """(construct path, capacity) of each environment whose capacity is known, in order (including environments
        added to ``job_queue`` directly).

        Cached: jobs ask several times each, and reading the L2's environments through jsii costs about 25 round trips
        with two environments. The L2 (``job_queue``) records every ``add_compute_environment`` on the Python side, the
        library's and any direct one, so an environment added later through the L2 is still seen, without a jsii read.
        """
        entries = self._tracked().entries
        if self._cache_key != len(entries):
            ordered = sorted(entries, key=lambda entry: entry[1])  # stable: equal orders keep the order of adding
            self._cache = self._capacities([self._owners.get(id(env), env) for env, _ in ordered])
            self._cache_key = len(entries)
        return list(self._cache)

    def _path_of(self, environment: Environment | IComputeEnvironmentRef) -> str:
        return _path_of(self._owners.get(id(environment), environment))

    @staticmethod
    def _capacities(
        environments: Sequence[Environment | IComputeEnvironmentRef],
    ) -> list[tuple[str, EnvironmentCapacity]]:
        found = []
        for env in environments:
            cap = capacity_of(env)
            if cap is not None:
                found.append((_path_of(env), cap))
        return found

    def add_environment(self, environment: Environment) -> None:
        """Append an environment (tried after the existing ones); the queue's composition rules are checked again."""
        after = [*self.environments, environment]
        raise_if_any(self, _rules.queue_environments(self._capacities(after), count=len(after)))
        self._attach(environment)

    def _attach(self, environment: Environment) -> None:
        l2 = environment.compute_environment if isinstance(environment, BatchEnvironment) else environment
        if isinstance(environment, BatchEnvironment):
            self._owners[id(l2)] = environment
        elif isinstance(environment, batch.FargateComputeEnvironment) and not isinstance(
            environment.node.scope, BatchEnvironment
        ):
            warn(
                environment,
                registry.FARGATE_UPDATE_POLICY_WARNING,
                "an aws-cdk-lib FargateComputeEnvironment: it carries UpdatePolicy and ReplaceComputeEnvironment, "
                "which AWS Batch refuses to update on Fargate, so a later change of its max vCPUs fails to deploy "
                "(aws-cdk#27054). Fix: use batch_constructs.FargateEnvironment (it leaves them out), or delete them "
                "with add_property_deletion_override on its CfnComputeEnvironment",
            )
        self.job_queue.add_compute_environment(l2, len(self.environments) + 1)
        self.environments.append(environment)


class _TrackedJobQueue(batch.JobQueue):
    """``batch.JobQueue`` that keeps, on the Python side, every environment added to it and its order.

    Every addition goes through ``add_compute_environment`` (the L2 has no other way), whether :class:`BatchQueue`
    or the user calls it, so ``entries`` is what ``compute_environments`` would answer, without a jsii round trip
    per read.
    """

    @property
    def entries(self) -> list[tuple[IComputeEnvironmentRef, float]]:
        """(environment, order) in the order they were added."""
        found: list[tuple[IComputeEnvironmentRef, float]] | None = getattr(self, "_batch_constructs_entries", None)
        if found is None:
            found = []
            self._batch_constructs_entries = found
        return found

    def add_compute_environment(self, compute_environment: IComputeEnvironmentRef, order: jsii.Number) -> None:
        super().add_compute_environment(compute_environment, order)
        self.entries.append((compute_environment, order))


def _path_of(environment: Environment | IComputeEnvironmentRef) -> str:
    """The library environment's path for its own L2 (``Stack/Spot`` rather than ``Stack/Spot/Resource``)."""
    if isinstance(environment, BatchEnvironment):
        return path_of(environment)
    parent = environment.node.scope
    if isinstance(parent, BatchEnvironment) and parent.compute_environment is environment:
        return path_of(parent)
    return path_of(environment)
