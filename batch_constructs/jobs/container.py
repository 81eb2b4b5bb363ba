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
from .._internal.memo import arm64, gibibytes_of, linux, mebibytes_of, same_object, x86_64
from .._internal.types_check import Expected, MapOf, OneOf, SeqOf, check_types
from .._internal.validation import is_known, raise_if_any, warn
from ..compute import capacity_of
from ..model import registry
from ..model import rules as _rules
from ..model.rules import JobRequirements
from ..queue import BatchQueue, ImportedQueue, KnownQueue
from ..types import JobPlatform, Queue
from . import _settings
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
        ulimits: Sequence[batch.Ulimit] = (),
        shared_memory_size: Size | None = None,
        tmpfs: Sequence[batch.Tmpfs] = (),
        init_process: bool = False,
        enable_execute_command: bool = False,
        consumable_resources: Mapping[batch.IConsumableResource | str, int] | None = None,
        fargate_platform_version: ecs.FargatePlatformVersion | None = None,
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
        skip_deregister_on_update: bool = True,
    ) -> None:
        """Args:
        image: a ``ContainerImage`` (``from_asset('dir')`` builds a Dockerfile at deploy; ``from_ecr_repository``)
            or a registry image name.
        queue: the queue the job is submitted to: scopes ``grant_submit_job`` and lets the fit rules check the job.
            Default: none (then ``grant_submit_job`` needs one).
        platform: FARGATE or EC2. Default: the queue's platform when the library knows it (a :class:`BatchQueue`,
            a queue imported with its contract, an L2 ``batch.JobQueue`` of this app whose environments say it),
            FARGATE without a queue. Required on a queue imported by ARN alone (``[imported-queue]``): guessing
            would turn a job meant for EC2 into a Fargate job without a word.
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
        volumes: passed to the L2. Default: none.
        linux_parameters: an L2 ``batch.LinuxParameters`` (devices, swap). Default: built from ``init_process``,
            ``shared_memory_size`` and ``tmpfs``; do not combine it with them.
        privileged: EC2 only. Default: False (least privilege).
        ulimits: e.g. ``[batch.Ulimit(name=batch.UlimitName.NOFILE, soft_limit=65536, hard_limit=65536)]``. EC2 only
            (the Batch API: not applicable to Fargate). Default: the Docker daemon's.
        shared_memory_size: size of ``/dev/shm`` (PyTorch data loaders need more than Docker's 64 MiB). EC2 only.
            Default: Docker's 64 MiB.
        tmpfs: in-memory mounts, ``batch.Tmpfs(container_path="/scratch", size=Size.gibibytes(1))``. EC2 only.
            Default: none.
        init_process: run an init process (``docker run --init``) that forwards signals and reaps zombies, so a
            SIGTERM on Spot reclaim reaches the program. Default: False (the image's entrypoint is PID 1, as it was
            built; images that ship tini or dumb-init need no second init).
        enable_execute_command: ECS Exec (``aws ecs execute-command``) into the running container for debugging; the
            job role gets the four ``ssmmessages`` channel actions it needs. Default: False (no shell into jobs).
        consumable_resources: consumable resource (an L2 ``batch.ConsumableResource`` or its ARN) -> quantity the job
            holds while it runs (licenses, rate limits). Default: none. Written on the L1 (the L2 has no prop).
        fargate_platform_version: Fargate only. Default: none, which Batch runs on LATEST.
        job_role / execution_role: Default: new ones (:class:`~batch_constructs.roles.JobRole`,
            :class:`~batch_constructs.roles.ExecutionRole`).
        log_retention: Default: one year. log_encryption_key: Default: the stack's shared key.
        job_definition_name: Default: none (CloudFormation names it).
        propagate_tags: copy the job's tags to its ECS task. Default: True (cost allocation).
        skip_deregister_on_update: keep the previous revision ACTIVE when a deploy registers a new one
            (``ResourceRetentionPolicy.SkipDeregisterOnUpdate``), so jobs queued on it and state machines or rules
            that name it keep working. Default: True. Trade-off: revisions accumulate (see the README's "Job
            definition revisions" for a clean-up loop).
        """
        check_types(scope, construct_id, self._argument_types(locals()))
        super().__init__(
            scope,
            construct_id,
            queue=queue,
            job_role=job_role,
            execution_role=execution_role,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
        )
        self.platform: JobPlatform = platform or self._infer_platform(queue, gpus=gpus, privileged=privileged)
        retry_policy = retry or RetryPolicy.spot_aware()
        memory_mib = int(mebibytes_of(memory))
        p = self.problems
        self._common_checks(retry_policy, timeout, scheduling_priority, job_definition_name, command, parameters)
        p += _settings.settings_problems(
            ulimits=ulimits,
            shared_memory_size=shared_memory_size,
            tmpfs=tmpfs,
            init_process=init_process,
            consumable_resources=consumable_resources or {},
            user_linux_parameters=linux_parameters,
        )
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
            if ephemeral_storage is not None and is_known(gibibytes_of(ephemeral_storage)):
                p += _rules.ephemeral_storage(gibibytes_of(ephemeral_storage))
            p += _settings.ec2_only_problems(ulimits=ulimits, shared_memory_size=shared_memory_size, tmpfs=tmpfs)
        else:
            if fargate_platform_version is not None:
                p.append(
                    registry.PLATFORM_PROPS.fix(
                        "fargate_platform_version on an EC2 job (Fargate only)", "drop it, or run the job on Fargate"
                    )
                )
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
            arch = "ARM64" if same_object(architecture, arm64()) else "X86_64"
        services = _settings.secret_services(self, (secrets or {}).values())
        self.requirements = [JobRequirements(self.platform, vcpus, memory_mib, gpus, arch, secret_services=services)]
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
            "linux_parameters": linux_parameters
            or _settings.linux_parameters(
                self,
                "LinuxParameters",
                init_process=init_process,
                shared_memory_size=shared_memory_size,
                tmpfs=tmpfs,
            ),
            "enable_execute_command": enable_execute_command or None,
        }
        container: batch.IEcsContainerDefinition
        if self.platform == "FARGATE":
            container = batch.EcsFargateContainerDefinition(
                self,
                "Container",
                assign_public_ip=False,
                ephemeral_storage_size=ephemeral_storage,
                fargate_cpu_architecture=architecture or x86_64(),
                fargate_operating_system_family=linux(),
                fargate_platform_version=fargate_platform_version,
                **container_args,  # type: ignore[arg-type]
            )
        else:
            container = batch.EcsEc2ContainerDefinition(
                self,
                "Container",
                gpu=gpus or None,
                privileged=privileged or None,
                ulimits=_settings.merge_ulimits(ulimits) or None,
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
            skip_deregister_on_update=skip_deregister_on_update,
        )
        _settings.apply_consumable_resources(self.job_definition, consumable_resources or {})
        if enable_execute_command:
            _settings.acknowledge_execute_command(self.job_role)

    @staticmethod
    def _argument_types(args: Mapping[str, object]) -> list[tuple[str, object, Expected]]:
        return [
            ("image", args["image"], (ecs.ContainerImage, str)),
            ("platform", args["platform"], OneOf(("FARGATE", "EC2"))),
            ("vcpus", args["vcpus"], float),
            ("memory", args["memory"], Size),
            ("gpus", args["gpus"], int),
            ("architecture", args["architecture"], ecs.CpuArchitecture),
            ("command", args["command"], SeqOf(str)),
            ("parameters", args["parameters"], MapOf(str, str)),
            ("environment", args["environment"], MapOf(str, str)),
            ("secrets", args["secrets"], MapOf(str, batch.Secret)),
            ("retry", args["retry"], RetryPolicy),
            ("timeout", args["timeout"], Duration),
            ("scheduling_priority", args["scheduling_priority"], int),
            ("readonly_root_filesystem", args["readonly_root_filesystem"], bool),
            ("user", args["user"], str),
            ("ephemeral_storage", args["ephemeral_storage"], Size),
            ("volumes", args["volumes"], SeqOf(batch.EcsVolume)),
            ("linux_parameters", args["linux_parameters"], batch.LinuxParameters),
            ("privileged", args["privileged"], bool),
            ("ulimits", args["ulimits"], SeqOf(batch.Ulimit)),
            ("shared_memory_size", args["shared_memory_size"], Size),
            ("tmpfs", args["tmpfs"], SeqOf(batch.Tmpfs)),
            ("init_process", args["init_process"], bool),
            ("enable_execute_command", args["enable_execute_command"], bool),
            ("fargate_platform_version", args["fargate_platform_version"], ecs.FargatePlatformVersion),
            ("log_retention", args["log_retention"], logs.RetentionDays),
            ("job_definition_name", args["job_definition_name"], str),
            ("propagate_tags", args["propagate_tags"], bool),
            ("skip_deregister_on_update", args["skip_deregister_on_update"], bool),
        ]

    def _infer_platform(self, queue: Queue | None, *, gpus: int, privileged: bool) -> JobPlatform:
        return infer_platform(self, queue, gpus=gpus, privileged=privileged)


def infer_platform(job: BatchJob, queue: Queue | None, *, gpus: int, privileged: bool) -> JobPlatform:
    """The platform of a job on ``queue`` when the caller gave none: the queue's (from its environments or its
    contract), FARGATE without a queue; an imported queue without a contract is an error (``imported-queue``)."""
    if queue is None:
        return "FARGATE"
    known: JobPlatform | None
    if isinstance(queue, KnownQueue):
        if isinstance(queue, ImportedQueue) and queue.pending:
            # First pass of a context lookup: the CLI fetches the contract and synthesizes again.
            return "EC2" if gpus or privileged else "FARGATE"
        # A local queue whose environments come later (add_environment): its synth-time fit check still runs.
        known = queue.platform or ("FARGATE" if isinstance(queue, BatchQueue) else None)
    else:
        known = _l2_platform(queue)
    if known is not None:
        return known
    raise_if_any(
        job,
        [
            registry.IMPORTED_QUEUE.fix(
                f"queue {queue.node.path} is imported without a contract and the job has no platform=, so the "
                "library cannot tell whether it is a Fargate or an EC2 job, nor check that it fits",
                "import the queue with its contract (BatchQueue.from_contract(scope, id, contract), or "
                "batch_constructs.contract.import_queue(...)), or pass platform='FARGATE' or 'EC2'",
            )
        ],
    )
    raise AssertionError  # unreachable: raise_if_any raised


def _l2_platform(queue: Queue) -> JobPlatform | None:
    """The platform of an L2 ``batch.JobQueue`` defined in this app, from its environments; None when unknown."""
    if not isinstance(queue, batch.JobQueue):
        return None
    platforms = set()
    for ordered in queue.compute_environments:
        cap = capacity_of(ordered.compute_environment)
        if cap is None:
            return None
        platforms.add(cap.platform)
    return platforms.pop() if len(platforms) == 1 else None
