"""Single-container jobs on Fargate or EC2 (submitted alone or as array jobs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import Duration, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from .._internal import defaults as _defaults
from .._internal.validation import is_known, raise_if_any, warn
from ..model import registry
from ..model import rules as _rules
from ..model.rules import JobRequirements
from ..queue import BatchQueue
from ..types import JobPlatform, Queue
from .base import BatchJob
from .retry import RetryPolicy

__all__ = ["ContainerJob"]

#: Problems that make a job wrong for its platform; the fit check would only repeat them as "fits no environment".
_PLATFORM_PROBLEMS = tuple(
    f"[{r.id}]" for r in (registry.FARGATE_RESOURCES, registry.FARGATE_GPU, registry.JOB_RESOURCES)
)


class ContainerJob(BatchJob):
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
                warn(self, registry.VCPUS_UNITS_WARNING, units)
        if self.platform == "FARGATE":
            if gpus:
                p.append(registry.FARGATE_GPU.fix(f"gpus={gpus} on a Fargate job", "use an EC2 GpuEnvironment queue"))
            if privileged:
                p.append(registry.PLATFORM_PROPS.fix("privileged=True on a Fargate job", "run it on EC2, or drop it"))
            if ephemeral_storage is not None and is_known(ephemeral_storage.to_gibibytes()):
                p += _rules.ephemeral_storage(ephemeral_storage.to_gibibytes())
        else:
            if ephemeral_storage is not None:
                p.append(
                    registry.PLATFORM_PROPS.fix(
                        "ephemeral_storage on an EC2 job (Fargate only)",
                        "size the instances' volumes with a launch template, or drop it",
                    )
                )
            if architecture is not None:
                p.append(
                    registry.PLATFORM_PROPS.fix(
                        "architecture on an EC2 job (Fargate only; on EC2 the instance types decide)",
                        "drop it, and choose Graviton instance classes for ARM64",
                    )
                )
        arch = None
        if self.platform == "FARGATE":
            arch = "ARM64" if architecture == ecs.CpuArchitecture.ARM64 else "X86_64"
        self.requirements = [JobRequirements(self.platform, vcpus, memory_mib, gpus, arch)]
        # A job that is already wrong for its platform would only repeat itself as "fits no environment".
        if is_known(vcpus, memory_mib, gpus) and not any(x.startswith(_PLATFORM_PROBLEMS) for x in p):
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
