"""Job definitions: container jobs on Fargate or EC2, and multi-node parallel jobs (optionally over EFA).

Each job owns its log group (retention, KMS), its execution role (image pull, its own log group, its own secrets)
and its job role (nothing until granted), and knows its queue, so that ``grant_submit_job`` is scoped to that queue and
to this definition's revisions (``job-definition/NAME:*``), and so that the fit rules can prove at synth time that a
compute environment behind the queue can hold the job.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from aws_cdk import Duration, Fn, Size, Stack
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import _defaults, _logs, _rules
from ._compliance import acknowledge, nag_text
from ._iam import ManagedPolicyRole
from ._limits import register_stack_checks
from ._rules import JobRequirements
from ._validation import is_known, raise_if_any, validate_later, warn
from .queue import BatchQueue
from .roles import ExecutionRole, JobRole

JobPlatform = Literal["FARGATE", "EC2"]

#: Why a SubmitJob grant on ``job-definition/NAME:*`` is acknowledged where the library's roles receive it.
SUBMIT_REVISIONS_REASON = (
    "batch:SubmitJob on every revision of this one job definition (job-definition/NAME:*), so submissions keep "
    "working while a new revision deploys (aws-cdk #26128); never job-definition/* (aws-cdk #37214), and the same "
    "statement names the one job queue."
)
Queue = BatchQueue | batch.IJobQueue


@dataclass(frozen=True)
class RetryCondition:
    """One ``evaluateOnExit`` condition: an action and the glob patterns it matches (at least one).

    Patterns may end with ``*``; exit codes are digits. ``RetryCondition.exit_on_anything()`` is the catch-all.
    """

    action: Literal["RETRY", "EXIT"]
    on_exit_code: str | None = None
    on_reason: str | None = None
    on_status_reason: str | None = None

    @classmethod
    def retry(
        cls, *, on_exit_code: str | None = None, on_reason: str | None = None, on_status_reason: str | None = None
    ) -> RetryCondition:
        return cls("RETRY", on_exit_code, on_reason, on_status_reason)

    @classmethod
    def exit(
        cls, *, on_exit_code: str | None = None, on_reason: str | None = None, on_status_reason: str | None = None
    ) -> RetryCondition:
        return cls("EXIT", on_exit_code, on_reason, on_status_reason)

    @classmethod
    def exit_on_anything(cls) -> RetryCondition:
        """The catch-all that must end a condition list: AWS retries a failure that matches no condition."""
        return cls("EXIT", on_reason="*")

    def patterns(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("on_exit_code", self.on_exit_code),
                ("on_reason", self.on_reason),
                ("on_status_reason", self.on_status_reason),
            )
            if v is not None
        }

    def to_l2(self) -> batch.RetryStrategy:
        action = batch.Action.RETRY if self.action.upper() == "RETRY" else batch.Action.EXIT
        return batch.RetryStrategy.of(action, batch.Reason.custom(**self.patterns()))


class RetryPolicy:
    """A job's retry strategy: attempts plus ordered :class:`RetryCondition` s.

    Use :meth:`spot_aware` (every job's default), :meth:`none`, or your own conditions ending with
    ``RetryCondition.exit_on_anything()``.
    """

    #: Status reasons of lost infrastructure: an EC2 Spot reclaim ("Host EC2 (instance i-...) terminated.") and a
    #: Fargate Spot interruption ("Your Spot Task was interrupted.").
    SPOT_STATUS_REASONS = ("Host EC2*", "Your Spot Task was interrupted*")

    def __init__(self, attempts: int, conditions: Sequence[RetryCondition] = ()) -> None:
        self.attempts = attempts
        self.conditions = list(conditions)

    @classmethod
    def spot_aware(cls, attempts: int = _defaults.RETRY_ATTEMPTS) -> RetryPolicy:
        """Retry only when the instance or Spot task went away; fail at once on anything else (AWS best practice).

        Default attempts: 5.
        """
        return cls(
            attempts,
            [
                *(RetryCondition.retry(on_status_reason=r) for r in cls.SPOT_STATUS_REASONS),
                RetryCondition.exit_on_anything(),
            ],
        )

    @classmethod
    def none(cls) -> RetryPolicy:
        """One attempt, no retry."""
        return cls(1)

    def problems(self) -> list[str]:
        attempts = self.attempts if is_known(self.attempts) else None
        return _rules.retry(attempts, [(c.action, c.patterns()) for c in self.conditions])

    def l2_strategies(self) -> list[batch.RetryStrategy] | None:
        return [c.to_l2() for c in self.conditions] or None


@dataclass(frozen=True)
class NodeGroup:
    """A range of nodes of a multi-node job (inclusive) that runs its own command or environment."""

    start_node: int
    end_node: int
    command: Sequence[str] | None = None
    environment: Mapping[str, str] | None = None


class _Job(Construct):
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
        register_stack_checks(self)
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
        p += retry.problems()
        if timeout is not None and is_known(timeout.to_seconds()):
            p += _rules.timeout(timeout.to_seconds())
        if scheduling_priority is not None and is_known(scheduling_priority):
            p += _rules.scheduling_priority(scheduling_priority)
        if isinstance(self.queue, BatchQueue):
            p += _rules.fair_share_priority(self.queue.node.path, self.queue.fair_share, scheduling_priority)
        p += _rules.name("job_definition_name", job_definition_name)
        if job_definition_name is not None:
            warn(
                self,
                "physical-name",
                f"job_definition_name={job_definition_name!r}: fine for job definitions (each change registers a new "
                "revision), but two stacks using the same name overwrite each other's revisions.",
            )
        refs = set(re.findall(r"Ref::([A-Za-z0-9_]+)", " ".join(command or [])))
        missing = sorted(refs - set(parameters or {}))
        if missing:
            warn(
                self,
                "required-parameters",
                f"the command references {', '.join('Ref::' + m for m in missing)} with no default parameter: every "
                "submission must pass them, or the literal text 'Ref::name' reaches the container.",
            )

    def _check_fit(self) -> None:
        """Check now when the queue has environments, else at synth (they may be added with ``add_environment``)."""
        queue = self.queue
        if not isinstance(queue, BatchQueue):
            return
        if queue.capacities():
            self.problems += self._fit_problems(queue)
        else:
            validate_later(self, lambda: self._fit_problems(queue))

    def _fit_problems(self, queue: BatchQueue) -> list[str]:
        capacities = queue.capacities()
        problems: list[str] = []
        for req in self.requirements:
            problems += _rules.job_fits_queue(req, queue.node.path, capacities)
            headroom = _rules.memory_headroom(req, capacities)
            if headroom and not problems:
                warn(self, "memory-headroom", headroom)
        return problems

    @property
    def job_definition_arn(self) -> str:
        """The ARN of the current revision (``...:job-definition/NAME:REVISION``)."""
        return self.job_definition.job_definition_arn

    @property
    def job_definition_name(self) -> str:
        """The name without revision (a token until deploy when CloudFormation names it)."""
        after_slash = Fn.select(1, Fn.split("/", self.job_definition.job_definition_arn))
        return Fn.select(0, Fn.split(":", after_slash))

    @property
    def job_definition_arn_pattern(self) -> str:
        """``arn:...:job-definition/NAME:*``: every revision of this definition and nothing else.

        Grants use it rather than one revision's ARN, so submitting keeps working while a new revision deploys
        (aws-cdk #26128), and rather than ``job-definition/*`` (aws-cdk #37214).
        """
        return Stack.of(self).format_arn(
            service="batch", resource="job-definition", resource_name=f"{self.job_definition_name}:*"
        )

    def grant_submit_job(self, grantee: iam.IGrantable, queue: Queue | None = None) -> iam.Grant:
        """Allow ``grantee`` to submit this job (any revision) to ``queue`` (default: the job's own queue) only."""
        target = queue or self.queue
        if target is None:
            raise_if_any(
                self,
                [
                    _rules.fix(
                        "job-fits-queue",
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
            resource = nag_text(Stack.of(policy).resolve(self.job_definition_arn_pattern))
            acknowledge(policy, f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]", SUBMIT_REVISIONS_REASON)
        return grant

    @property
    def job_queue_arn(self) -> str:
        """The ARN of the job's queue."""
        if self.queue is None:
            raise_if_any(self, [_rules.fix("job-fits-queue", "the job has no queue", "pass queue= to the job")])
        assert self.queue is not None
        return self.queue.job_queue_arn


class ContainerJob(_Job):
    """A single-container job on Fargate or EC2 (also submitted as an array job by the triggers).

    Attributes:
        job_definition: the L2 ``batch.EcsJobDefinition`` (child ``Resource``).
        job_role / execution_role / log_group / queue: as described in the module docstring.
        platform: FARGATE or EC2.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ecs.ContainerImage | str,
        queue: Queue | None = None,
        platform: JobPlatform | None = None,
        vcpus: float = _defaults.JOB_VCPUS,
        memory: Size = _defaults.JOB_MEMORY,
        gpus: int = 0,
        architecture: ecs.CpuArchitecture | None = None,
        command: Sequence[str] | None = None,
        parameters: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, batch.Secret] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Duration | None = _defaults.JOB_TIMEOUT,
        scheduling_priority: int | None = None,
        readonly_root_filesystem: bool = False,
        user: str | None = None,
        ephemeral_storage: Size | None = None,
        volumes: Sequence[batch.EcsVolume] = (),
        linux_parameters: batch.LinuxParameters | None = None,
        privileged: bool = False,
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
    ) -> None:
        """Args:
        image: a ``ContainerImage`` (``from_asset('dir')`` builds a Dockerfile at deploy; ``from_ecr_repository``)
            or a registry image name.
        queue: the queue the job is submitted to: scopes ``grant_submit_job`` and lets the fit rules check the job.
            Default: none (then ``grant_submit_job`` needs one).
        platform: FARGATE or EC2. Default: the queue's platform when it is a :class:`BatchQueue`, else FARGATE.
        vcpus: vCPUs (not ECS CPU units). Default: 1.
        memory: Default: 2 GiB.
        gpus: NVIDIA GPUs, EC2 only. Default: 0.
        architecture: Fargate CPU architecture. Default: X86_64.
        command: the container command; ``Ref::name`` is replaced by the parameter ``name``. Default: the image's.
        parameters: default values of the ``Ref::`` parameters. Default: none.
        environment / secrets: environment variables and Secrets Manager / SSM secrets (the execution role may read
            exactly these). Default: none.
        retry: Default: :meth:`RetryPolicy.spot_aware` (5 attempts, retry only lost Spot capacity).
        timeout: Default: 1 hour; None for no timeout.
        scheduling_priority: for fair-share queues (required there). Default: none.
        readonly_root_filesystem: Default: False (many tools write to /tmp; mount a volume and turn this on).
        user: the user the container runs as, e.g. ``"1000:1000"``. Default: the image's.
        ephemeral_storage: Fargate task storage, 21-200 GiB. Default: Fargate's 20 GiB.
        volumes / linux_parameters / privileged: passed to the L2 (privileged: EC2 only). Default: none / False.
        job_role / execution_role: Default: new ones (:class:`~batch_constructs.roles.JobRole`,
            :class:`~batch_constructs.roles.ExecutionRole`).
        log_retention: Default: one year. log_encryption_key: Default: the stack's shared key.
        job_definition_name: Default: none (CloudFormation names it).
        propagate_tags: copy the job's tags to its ECS task. Default: True (cost allocation).
        """
        super().__init__(
            scope,
            construct_id,
            queue=queue,
            job_role=job_role,
            execution_role=execution_role,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
        )
        self.platform: JobPlatform = platform or self._infer_platform(queue)
        retry_policy = retry or RetryPolicy.spot_aware()
        memory_mib = int(memory.to_mebibytes())
        p = self.problems
        self._common_checks(retry_policy, timeout, scheduling_priority, job_definition_name, command, parameters)
        if is_known(vcpus, memory_mib, gpus):
            p += _rules.job_resources(vcpus, memory_mib, gpus, self.platform)
            if self.platform == "FARGATE":
                p += _rules.fargate_resources(vcpus, memory_mib)
            units = _rules.vcpus_units_warning(vcpus)
            if units:
                warn(self, "vcpus-units", units)
        if self.platform == "FARGATE":
            if gpus:
                p.append(_rules.fix("fargate-gpu", f"gpus={gpus} on a Fargate job", "use an EC2 GpuEnvironment queue"))
            if privileged:
                p.append(_rules.fix("platform-props", "privileged=True on a Fargate job", "run it on EC2, or drop it"))
            if ephemeral_storage is not None and is_known(ephemeral_storage.to_gibibytes()):
                p += _rules.ephemeral_storage(ephemeral_storage.to_gibibytes())
        else:
            if ephemeral_storage is not None:
                p.append(
                    _rules.fix(
                        "platform-props",
                        "ephemeral_storage on an EC2 job (Fargate only)",
                        "size the instances' volumes with a launch template, or drop it",
                    )
                )
            if architecture is not None:
                p.append(
                    _rules.fix(
                        "platform-props",
                        "architecture on an EC2 job (Fargate only; on EC2 the instance types decide)",
                        "drop it, and choose Graviton instance classes for ARM64",
                    )
                )
        arch = None
        if self.platform == "FARGATE":
            arch = "ARM64" if architecture == ecs.CpuArchitecture.ARM64 else "X86_64"
        self.requirements = [JobRequirements(self.platform, vcpus, memory_mib, gpus, arch)]
        # A job that is already wrong for its platform would only repeat itself as "fits no environment".
        if is_known(vcpus, memory_mib, gpus) and not any(x.startswith(("[fargate-", "[job-resources]")) for x in p):
            self._check_fit()
        raise_if_any(self, p)

        container_args: dict[str, object] = {
            "image": self._image(image),
            "cpu": vcpus,
            "memory": memory,
            "command": list(command) if command else None,
            "environment": dict(environment) if environment else None,
            "secrets": dict(secrets) if secrets else None,
            "job_role": self.job_role,
            "execution_role": self.execution_role,
            "logging": self._logging(),
            "readonly_root_filesystem": readonly_root_filesystem,
            "user": user,
            "volumes": list(volumes) or None,
            "linux_parameters": linux_parameters,
        }
        container: batch.IEcsContainerDefinition
        if self.platform == "FARGATE":
            container = batch.EcsFargateContainerDefinition(
                self,
                "Container",
                assign_public_ip=False,
                ephemeral_storage_size=ephemeral_storage,
                fargate_cpu_architecture=architecture or ecs.CpuArchitecture.X86_64,
                fargate_operating_system_family=ecs.OperatingSystemFamily.LINUX,
                **container_args,  # type: ignore[arg-type]
            )
        else:
            container = batch.EcsEc2ContainerDefinition(
                self,
                "Container",
                gpu=gpus or None,
                privileged=privileged or None,
                **container_args,  # type: ignore[arg-type]
            )
        self.job_definition: batch.EcsJobDefinition = batch.EcsJobDefinition(
            self,
            "Resource",
            container=container,
            parameters=dict(parameters) if parameters else None,
            retry_attempts=retry_policy.attempts,
            retry_strategies=retry_policy.l2_strategies(),
            timeout=timeout,
            scheduling_priority=scheduling_priority,
            job_definition_name=job_definition_name,
            propagate_tags=propagate_tags,
        )

    @staticmethod
    def _infer_platform(queue: Queue | None) -> JobPlatform:
        if isinstance(queue, BatchQueue):
            platforms = {cap.platform for _, cap in queue.capacities()}
            if platforms == {"EC2"}:
                return "EC2"
        return "FARGATE"


class MultiNodeJob(_Job):
    """A multi-node parallel job: ``nodes`` EC2 instances of one type, node 0 (by default) the main node.

    With ``efa=True`` every container gets ``/dev/infiniband/uverbs0`` (read, write, mknod), as EFA requires. Runs only
    on managed On-Demand EC2 environments (an :class:`~batch_constructs.compute.EfaEnvironment` for EFA).

    Attributes:
        job_definition: the L2 ``batch.MultiNodeJobDefinition`` (child ``Resource``).
    """

    EFA_DEVICE = "/dev/infiniband/uverbs0"
    #: What the EFA device needs, as the Batch API spells it.
    EFA_PERMISSIONS = ("READ", "WRITE", "MKNOD")

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        image: ecs.ContainerImage | str,
        queue: Queue | None = None,
        nodes: int = 2,
        main_node: int = 0,
        instance_type: ec2.InstanceType | None = None,
        vcpus: float = _defaults.JOB_VCPUS,
        memory: Size = _defaults.JOB_MEMORY,
        gpus: int = 0,
        efa: bool | None = None,
        command: Sequence[str] | None = None,
        parameters: Mapping[str, str] | None = None,
        environment: Mapping[str, str] | None = None,
        secrets: Mapping[str, batch.Secret] | None = None,
        node_groups: Sequence[NodeGroup] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Duration | None = _defaults.JOB_TIMEOUT,
        scheduling_priority: int | None = None,
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
    ) -> None:
        """Args:
        image / queue / command / parameters / environment / secrets / retry / timeout / scheduling_priority / roles /
            logs / name / propagate_tags: as for :class:`ContainerJob`.
        nodes: number of nodes (instances). Default: 2.
        main_node: index of the main node. Default: 0.
        instance_type: the one instance type of every node. Default: the queue's single-type environment's (e.g. an
            EfaEnvironment's); required otherwise.
        vcpus / memory / gpus: per node container. Default: 1 vCPU, 2 GiB, 0 GPUs.
        efa: map the EFA device into every container. Default: True when the queue's environment is an
            EfaEnvironment.
        node_groups: per-range commands/environments; must cover 0..nodes-1. Default: one group for all nodes.
        """
        super().__init__(
            scope,
            construct_id,
            queue=queue,
            job_role=job_role,
            execution_role=execution_role,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
        )
        retry_policy = retry or RetryPolicy.spot_aware()
        memory_mib = int(memory.to_mebibytes())
        p = self.problems
        self._common_checks(retry_policy, timeout, scheduling_priority, job_definition_name, command, parameters)
        caps = queue.capacities() if isinstance(queue, BatchQueue) else []
        itype = instance_type
        if itype is None:
            single = next((c.single_instance_type for _, c in caps if c.single_instance_type), None)
            itype = ec2.InstanceType(single) if single else None
        if itype is None:
            p.append(
                _rules.fix(
                    "multinode-environment",
                    "no instance_type, and the queue has no single-instance-type environment to take it from",
                    "pass instance_type=ec2.InstanceType('c5n.18xlarge') (one type for every node)",
                )
            )
        use_efa = efa if efa is not None else any(c.efa is True for _, c in caps)
        if use_efa and itype is not None:
            p += _rules.efa_instance_type(itype.to_string())
        p += _rules.multinode_environments(caps)
        if use_efa:
            p += _rules.efa_environments(caps)
        groups = list(node_groups) if node_groups else [NodeGroup(0, nodes - 1)]
        if is_known(nodes, main_node):
            p += _rules.multinode_ranges(nodes, [(g.start_node, g.end_node) for g in groups], main_node)
        if is_known(vcpus, memory_mib, gpus):
            p += _rules.job_resources(vcpus, memory_mib, gpus, "EC2")
            units = _rules.vcpus_units_warning(vcpus)
            if units:
                warn(self, "vcpus-units", units)
        self.requirements = [
            JobRequirements(
                "EC2",
                vcpus,
                memory_mib,
                gpus,
                None,
                itype.to_string() if itype else None,
                multinode=True,
                nodes=nodes if is_known(nodes) else 1,
            )
        ]
        if not any("multinode-environment" in x for x in p):
            self._check_fit()
        raise_if_any(self, p)
        assert itype is not None

        containers = []
        for index, group in enumerate(groups):
            linux = None
            if use_efa:
                linux = batch.LinuxParameters(self, f"LinuxParameters{index}")
                linux.add_devices(
                    batch.Device(
                        host_path=self.EFA_DEVICE,
                        container_path=self.EFA_DEVICE,
                        permissions=[
                            batch.DevicePermission.READ,
                            batch.DevicePermission.WRITE,
                            batch.DevicePermission.MKNOD,
                        ],
                    )
                )
            env = {**(environment or {}), **(group.environment or {})}
            group_command = group.command if group.command is not None else command
            containers.append(
                batch.MultiNodeContainer(
                    start_node=group.start_node,
                    end_node=group.end_node,
                    container=batch.EcsEc2ContainerDefinition(
                        self,
                        f"Container{index}",
                        image=self._image(image),
                        cpu=vcpus,
                        memory=memory,
                        gpu=gpus or None,
                        command=list(group_command) if group_command else None,
                        environment=env or None,
                        secrets=dict(secrets) if secrets else None,
                        job_role=self.job_role,
                        execution_role=self.execution_role,
                        logging=self._logging(),
                        linux_parameters=linux,
                    ),
                )
            )
        self.instance_type = itype
        self.job_definition: batch.MultiNodeJobDefinition = batch.MultiNodeJobDefinition(
            self,
            "Resource",
            containers=containers,
            instance_type=itype,
            main_node=main_node,
            parameters=dict(parameters) if parameters else None,
            retry_attempts=retry_policy.attempts,
            retry_strategies=retry_policy.l2_strategies(),
            timeout=timeout,
            scheduling_priority=scheduling_priority,
            job_definition_name=job_definition_name,
            propagate_tags=propagate_tags,
        )
        if use_efa:
            # The L2 writes the permissions in lower case; the Batch API (DeviceCgroupPermission) and the AWS Batch EFA
            # guide spell them READ, WRITE, MKNOD.
            cfn = self.job_definition.node.default_child
            assert isinstance(cfn, batch.CfnJobDefinition)
            for index in range(len(groups)):
                cfn.add_property_override(
                    f"NodeProperties.NodeRangeProperties.{index}.Container.LinuxParameters.Devices.0.Permissions",
                    list(self.EFA_PERMISSIONS),
                )
