"""Multi-container jobs (``ecsProperties``): a main container with sidecars, a FireLens log router, dependencies.

aws-cdk-lib 2.275's ``batch.EcsJobDefinition`` takes exactly one container and renders ``ContainerProperties``; it has
no prop for ``EcsProperties.TaskProperties`` (several containers, ``essential``, ``dependsOn``,
``firelensConfiguration``). So each container is still described by an L2 container definition (which binds its image,
grants the execution role its image pull, secrets and log group, and renders resources, Linux parameters, ulimits and
logging exactly as for :class:`ContainerJob`), and the job definition's L1 then carries ``EcsProperties`` built from
those renderings instead of ``ContainerProperties``. The L2 ``batch.EcsJobDefinition`` stays the ``job_definition``
(timeout, retries, parameters, grants work as for every job); the helper L2 job definitions that render the other
containers are removed from the tree before synth (their L1 child is deleted), so the template has one job definition.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

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
from .._internal.validation import is_known, raise_if_any
from ..model import registry
from ..model import rules as _rules
from ..model.rules import JobRequirements
from ..types import DependencyCondition, JobPlatform, Queue
from . import _settings
from .base import BatchJob
from .retry import RetryPolicy

__all__ = ["Container", "DependencyCondition", "FireLens", "MultiContainerJob"]

#: AWS's Fluent Bit image for FireLens (the aws-for-fluent-bit project); pin a version tag in production.
FLUENT_BIT_IMAGE = "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"


@dataclass(frozen=True)
class FireLens:
    """Makes a container the job's FireLens log router (``firelensConfiguration``).

    Attributes:
        type: ``fluentbit`` or ``fluentd``. Default: fluentbit (AWS's supported image, smaller).
        options: the router's ``firelensConfiguration.options`` (e.g. ``{"config-file-type": "file",
            "config-file-value": "/extra.conf"}``). Default: none.
        log_options: the ``awsfirelens`` log driver options every other container of the job uses. Default: Fluent
            Bit's ``cloudwatch_logs`` output into the job's own log group (stream prefix ``job/``), written with the
            job role, which is granted exactly that log group.
    """

    type: Literal["fluentbit", "fluentd"] = "fluentbit"
    options: Mapping[str, str] | None = None
    log_options: Mapping[str, str] | None = None


@dataclass(frozen=True)
class Container:
    """One container of a :class:`MultiContainerJob`.

    Attributes:
        name: unique in the job; ``depends_on`` and submit-time overrides use it.
        image: a ``ContainerImage`` or a registry image name.
        vcpus / memory: this container's share; the job's size is the SUM over its containers (on Fargate the sum
            must be a Fargate combination). Default: 0.25 vCPU, 512 MiB (a sidecar's size).
        essential: when an essential container stops, the job stops. Default: True (AWS's default); set False for
            sidecars whose exit must not end the job.
        depends_on: container name -> START, COMPLETE or SUCCESS (COMPLETE/SUCCESS only on non-essential containers).
            Default: none.
        firelens: make this container the FireLens log router. Default: None.
        command / environment / secrets / readonly_root_filesystem / user / privileged / ulimits /
            shared_memory_size / tmpfs / init_process: as for :class:`ContainerJob` (the EC2-only ones on EC2 only).
    """

    name: str
    image: ecs.ContainerImage | str
    vcpus: float = 0.25
    memory: Size = field(default_factory=lambda: Size.mebibytes(512))
    essential: bool = True
    depends_on: Mapping[str, DependencyCondition] | None = None
    firelens: FireLens | None = None
    command: Sequence[str] | None = None
    environment: Mapping[str, str] | None = None
    secrets: Mapping[str, batch.Secret] | None = None
    readonly_root_filesystem: bool = False
    user: str | None = None
    privileged: bool = False
    ulimits: Sequence[batch.Ulimit] = ()
    shared_memory_size: Size | None = None
    tmpfs: Sequence[batch.Tmpfs] = ()
    init_process: bool = False


def _container_problems(containers: Sequence[Container], platform: JobPlatform) -> list[str]:
    problems: list[str] = []
    rule = registry.MULTI_CONTAINER
    names = [c.name for c in containers]
    if not containers:
        return [rule.fix("no containers", "pass at least one Container")]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(rule.fix(f"two containers are named {name!r}", "give every container its own name"))
    for name in names:
        problems += _rules.name("container name", name)
    if not any(c.essential for c in containers):
        problems.append(
            rule.fix("no container is essential", "mark the main container essential=True (AWS requires one)")
        )
    routers = [c.name for c in containers if c.firelens is not None]
    if len(routers) > 1:
        problems.append(rule.fix(f"several FireLens routers ({', '.join(routers)})", "keep one log router"))
    by_name = {c.name: c for c in containers}
    for c in containers:
        for target, condition in (c.depends_on or {}).items():
            if target == c.name or target not in by_name:
                problems.append(
                    rule.fix(
                        f"{c.name} depends on {target!r}, which is "
                        + ("itself" if target == c.name else "not a container of the job"),
                        f"name one of {', '.join(n for n in names if n != c.name)}",
                    )
                )
            elif condition in ("COMPLETE", "SUCCESS") and by_name[target].essential:
                problems.append(
                    rule.fix(
                        f"{c.name} waits for {target} to {condition}, but {target} is essential",
                        f"make {target} essential=False (AWS rejects COMPLETE/SUCCESS on essential containers), or "
                        "use START",
                    )
                )
    # cycles
    state: dict[str, int] = {}

    def visit(name: str) -> bool:
        if state.get(name) == 1:
            return True
        if state.get(name) == 2:
            return False
        state[name] = 1
        found = any(visit(t) for t in (by_name[name].depends_on or {}) if t in by_name and t != name)
        state[name] = 2
        return found

    if any(visit(n) for n in by_name):
        problems.append(rule.fix("the containers' depends_on form a cycle", "remove one dependency of the cycle"))
    if platform == "FARGATE":
        for c in containers:
            problems += [
                p.replace(" on a Fargate job", f" on container {c.name} of a Fargate job")
                for p in _settings.ec2_only_problems(
                    ulimits=c.ulimits, shared_memory_size=c.shared_memory_size, tmpfs=c.tmpfs
                )
            ]
            if c.privileged:
                problems.append(
                    registry.PLATFORM_PROPS.fix(
                        f"privileged=True on container {c.name} of a Fargate job", "run it on EC2, or drop it"
                    )
                )
    for c in containers:
        problems += _settings.settings_problems(
            ulimits=c.ulimits,
            shared_memory_size=c.shared_memory_size,
            tmpfs=c.tmpfs,
            init_process=c.init_process,
            consumable_resources={},
            user_linux_parameters=None,
        )
    return problems


class MultiContainerJob(BatchJob):
    """A job of several containers in one ECS task (``ecsProperties``) on Fargate or EC2: sidecars, a FireLens log
    router, start-order dependencies and essential flags.

    The fit rules check the SUM of the containers' vCPUs and memory (what the task reserves). On Fargate the sum must
    be one of Fargate's combinations (rule fargate-resources).

    Attributes:
        job_definition: the L2 ``batch.EcsJobDefinition`` (child ``Resource``) whose L1 carries ``EcsProperties``.
        containers: the :class:`Container` specs, in order. platform: FARGATE or EC2.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        containers: Sequence[Container],
        queue: Queue | None = None,
        platform: JobPlatform | None = None,
        architecture: ecs.CpuArchitecture | None = None,
        fargate_platform_version: ecs.FargatePlatformVersion | None = None,
        ephemeral_storage: Size | None = None,
        parameters: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        timeout: Duration | None = _defaults.JOB_TIMEOUT,
        scheduling_priority: int | None = None,
        enable_execute_command: bool = False,
        consumable_resources: Mapping[batch.IConsumableResource | str, int] | None = None,
        job_role: iam.IRole | None = None,
        execution_role: iam.IRole | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_encryption_key: kms.IKey | None = None,
        job_definition_name: str | None = None,
        propagate_tags: bool = True,
        skip_deregister_on_update: bool = True,
    ) -> None:
        """Args:
        containers: the task's containers; the first essential one is the main container (its command is what the
            triggers read for ``Ref::`` parameters).
        queue / platform / architecture / fargate_platform_version / ephemeral_storage / parameters / retry /
            timeout / scheduling_priority / enable_execute_command / consumable_resources / job_role /
            execution_role / log_retention / log_encryption_key / job_definition_name / propagate_tags /
            skip_deregister_on_update: as for :class:`ContainerJob` (task-wide here). Default: as there (timeout
            1 hour, revisions kept on update).
        """
        checks: list[tuple[str, object, Expected]] = [
            ("containers", containers, SeqOf(Container)),
            ("platform", platform, OneOf(("FARGATE", "EC2"))),
            ("architecture", architecture, ecs.CpuArchitecture),
            ("fargate_platform_version", fargate_platform_version, ecs.FargatePlatformVersion),
            ("ephemeral_storage", ephemeral_storage, Size),
            ("parameters", parameters, MapOf(str, str)),
            ("retry", retry, RetryPolicy),
            ("timeout", timeout, Duration),
            ("scheduling_priority", scheduling_priority, int),
            ("enable_execute_command", enable_execute_command, bool),
            ("log_retention", log_retention, logs.RetentionDays),
            ("job_definition_name", job_definition_name, str),
            ("propagate_tags", propagate_tags, bool),
            ("skip_deregister_on_update", skip_deregister_on_update, bool),
        ]
        checks += [
            check
            for i, c in enumerate(containers or [])
            if isinstance(c, Container)
            for check in (
                (f"containers[{i}].image", c.image, (ecs.ContainerImage, str)),
                (f"containers[{i}].vcpus", c.vcpus, float),
                (f"containers[{i}].memory", c.memory, Size),
                (f"containers[{i}].command", c.command, SeqOf(str)),
                (f"containers[{i}].environment", c.environment, MapOf(str, str)),
                (f"containers[{i}].firelens", c.firelens, FireLens),
                (f"containers[{i}].ulimits", c.ulimits, SeqOf(batch.Ulimit)),
                (f"containers[{i}].shared_memory_size", c.shared_memory_size, Size),
                (f"containers[{i}].tmpfs", c.tmpfs, SeqOf(batch.Tmpfs)),
            )
        ]
        check_types(scope, construct_id, checks)
        super().__init__(
            scope,
            construct_id,
            queue=queue,
            job_role=job_role,
            execution_role=execution_role,
            log_retention=log_retention,
            log_encryption_key=log_encryption_key,
        )
        from .container import infer_platform  # the platform inference is ContainerJob's

        self.platform: JobPlatform = platform or infer_platform(
            self, queue, gpus=0, privileged=any(c.privileged for c in containers)
        )
        self.containers: list[Container] = list(containers)
        retry_policy = retry or RetryPolicy.spot_aware()
        p = self.problems
        main_command = next((c.command for c in containers if c.essential and c.command), None)
        self._common_checks(retry_policy, timeout, scheduling_priority, job_definition_name, main_command, parameters)
        p += _container_problems(self.containers, self.platform)
        p += _settings.settings_problems(
            ulimits=(),
            shared_memory_size=None,
            tmpfs=(),
            init_process=False,
            consumable_resources=consumable_resources or {},
            user_linux_parameters=None,
        )
        vcpus = sum(c.vcpus for c in containers)
        memory_mib = sum(int(mebibytes_of(c.memory)) for c in containers)
        if is_known(vcpus, memory_mib):
            p += _rules.job_resources(vcpus, memory_mib, 0, self.platform)
            if self.platform == "FARGATE":
                p += [
                    x.replace("vcpus=", "the containers' total vcpus=", 1).replace("memory=", "total memory=", 1)
                    for x in _rules.fargate_resources(vcpus, memory_mib)
                ]
        if self.platform == "FARGATE":
            if ephemeral_storage is not None and is_known(gibibytes_of(ephemeral_storage)):
                p += _rules.ephemeral_storage(gibibytes_of(ephemeral_storage))
        else:
            for what, value in (
                ("ephemeral_storage", ephemeral_storage),
                ("architecture", architecture),
                ("fargate_platform_version", fargate_platform_version),
            ):
                if value is not None:
                    p.append(
                        registry.PLATFORM_PROPS.fix(f"{what} on an EC2 job (Fargate only)", "drop it, or use Fargate")
                    )
        arch = None
        if self.platform == "FARGATE":
            arch = "ARM64" if same_object(architecture, arm64()) else "X86_64"
        services = _settings.secret_services(self, [s for c in containers for s in (c.secrets or {}).values()])
        self.requirements = [JobRequirements(self.platform, vcpus, memory_mib, 0, arch, secret_services=services)]
        platform_problems = tuple(f"[{r.id}]" for r in (registry.FARGATE_RESOURCES, registry.JOB_RESOURCES))
        if is_known(vcpus, memory_mib) and not any(x.startswith(platform_problems) for x in p):
            self._check_fit()
        raise_if_any(self, p)

        router = next((c for c in containers if c.firelens is not None), None)
        rendered: list[batch.CfnJobDefinition.ContainerPropertiesProperty] = []
        main_index = next(i for i, c in enumerate(containers) if c.essential)
        job_definition: batch.EcsJobDefinition | None = None
        for index, spec in enumerate(containers):
            container = self._l2_container(
                index, spec, router, architecture, fargate_platform_version, ephemeral_storage, enable_execute_command
            )
            if index == main_index:
                job_definition = batch.EcsJobDefinition(
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
                cfn_main = job_definition.node.default_child
                assert isinstance(cfn_main, batch.CfnJobDefinition)
                props = cfn_main.container_properties
            else:
                # Render through a helper L2 job definition, then drop its L1: only the rendering is wanted.
                helper = batch.EcsJobDefinition(self, f"Render{index}", container=container)
                cfn_helper = helper.node.default_child
                assert isinstance(cfn_helper, batch.CfnJobDefinition)
                props = cfn_helper.container_properties
                helper.node.try_remove_child("Resource")
            assert isinstance(props, batch.CfnJobDefinition.ContainerPropertiesProperty)
            rendered.append(props)
        assert job_definition is not None
        self.job_definition: batch.EcsJobDefinition = job_definition
        cfn = job_definition.node.default_child
        assert isinstance(cfn, batch.CfnJobDefinition)
        main = rendered[main_index]
        B = batch.CfnJobDefinition
        task = B.EcsTaskPropertiesProperty(
            containers=[self._task_container(spec, props) for spec, props in zip(containers, rendered, strict=True)],
            execution_role_arn=main.execution_role_arn,
            task_role_arn=main.job_role_arn,
            enable_execute_command=enable_execute_command or None,
            network_configuration=main.network_configuration,
            runtime_platform=main.runtime_platform,
            platform_version=(
                fargate_platform_version.value
                if self.platform == "FARGATE" and fargate_platform_version is not None
                else None
            ),
            ephemeral_storage=main.ephemeral_storage,
        )
        cfn.container_properties = None
        cfn.ecs_properties = B.EcsPropertiesProperty(task_properties=[task])
        _settings.apply_consumable_resources(job_definition, consumable_resources or {})
        if enable_execute_command:
            _settings.acknowledge_execute_command(self.job_role)
        if router is not None and router.firelens is not None and router.firelens.log_options is None:
            self.log_group.grant_write(self.job_role)

    def _l2_container(
        self,
        index: int,
        spec: Container,
        router: Container | None,
        architecture: ecs.CpuArchitecture | None,
        platform_version: ecs.FargatePlatformVersion | None,
        ephemeral_storage: Size | None,
        enable_execute_command: bool,
    ) -> batch.IEcsContainerDefinition:
        logging = self._logging()
        if router is not None and spec is not router and router.firelens is not None:
            options = router.firelens.log_options
            if options is None:
                options = {
                    "Name": "cloudwatch_logs",
                    "region": self.log_group.stack.region,
                    "log_group_name": self.log_group.log_group_name,
                    "log_stream_prefix": f"job/{spec.name}/",
                    "auto_create_group": "false",
                }
            logging = ecs.LogDrivers.firelens(options=dict(options))
        args: dict[str, object] = {
            "image": self._image(spec.image),
            "cpu": spec.vcpus,
            "memory": spec.memory,
            "command": list(spec.command) if spec.command else None,
            "environment": dict(spec.environment) if spec.environment else None,
            "secrets": dict(spec.secrets) if spec.secrets else None,
            "job_role": self.job_role,
            "execution_role": self.execution_role,
            "logging": logging,
            "readonly_root_filesystem": spec.readonly_root_filesystem,
            "user": spec.user,
            "linux_parameters": _settings.linux_parameters(
                self,
                f"LinuxParameters{index}",
                init_process=spec.init_process,
                shared_memory_size=spec.shared_memory_size,
                tmpfs=spec.tmpfs,
            ),
            "enable_execute_command": enable_execute_command or None,
        }
        container_id = "Container" if index == 0 else f"Container{index}"
        if self.platform == "FARGATE":
            return batch.EcsFargateContainerDefinition(
                self,
                container_id,
                assign_public_ip=False,
                ephemeral_storage_size=ephemeral_storage,
                fargate_cpu_architecture=architecture or x86_64(),
                fargate_operating_system_family=linux(),
                fargate_platform_version=platform_version,
                **args,  # type: ignore[arg-type]
            )
        return batch.EcsEc2ContainerDefinition(
            self,
            container_id,
            privileged=spec.privileged or None,
            ulimits=_settings.merge_ulimits(spec.ulimits) or None,
            **args,  # type: ignore[arg-type]
        )

    @staticmethod
    def _task_container(
        spec: Container, props: batch.CfnJobDefinition.ContainerPropertiesProperty
    ) -> batch.CfnJobDefinition.TaskContainerPropertiesProperty:
        B = batch.CfnJobDefinition
        return B.TaskContainerPropertiesProperty(
            name=spec.name,
            image=props.image,
            essential=spec.essential,
            depends_on=[
                B.TaskContainerDependencyProperty(container_name=name, condition=condition)
                for name, condition in (spec.depends_on or {}).items()
            ]
            or None,
            firelens_configuration=(
                B.FirelensConfigurationProperty(
                    type=spec.firelens.type,
                    options=dict(spec.firelens.options) if spec.firelens.options else None,
                )
                if spec.firelens is not None
                else None
            ),
            command=props.command,
            environment=props.environment,
            linux_parameters=props.linux_parameters,
            log_configuration=props.log_configuration,
            privileged=props.privileged,
            readonly_root_filesystem=props.readonly_root_filesystem,
            resource_requirements=props.resource_requirements,
            secrets=props.secrets,
            ulimits=props.ulimits,
            user=props.user,
        )
