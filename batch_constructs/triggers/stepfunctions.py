"""Step Functions triggers: a state machine that runs one Batch job and waits for it, and a pipeline of jobs.

Both submit with ``arn:aws:states:::batch:submitJob.sync`` (``BatchSubmitJob`` with the RUN_JOB pattern), so a state
finishes only when the job (every child of an array job) has SUCCEEDED, and fails when the job FAILED. Every state
machine the module builds has:

- logging level ALL to a log group with retention and KMS encryption, and X-Ray tracing. Execution data (each
  state's input and output, so the job parameters) is logged too, for debugging failed runs: pass no secrets as
  parameters (use the job's ``secrets``);
- a timeout on each job state, derived from the job definition (see :func:`job_state_timeout`), and on the execution;
- retries of the submission when Batch throttles (``Batch.AWSBatchException`` with HTTP 429 "Too Many Requests",
  ``Batch.TooManyRequestsException``) or has a server error (``Batch.ServerException``);
- a Catch on every job state that publishes the error and cause to an SNS topic, then fails the execution with the
  original error;
- a role (``Role``, a :class:`~batch_constructs._iam.ManagedPolicyRole`) whose grants sit in one customer-managed
  policy. ``batch:SubmitJob`` is granted on the job's queue and ``job-definition/NAME:*`` only: the L2 task's grant on
  every job definition in the account (aws-cdk #37214) is dropped.

How execution input reaches the job's ``Ref::`` parameters
------------------------------------------------------------
With ``parameters=None`` (the default) the execution input's ``parameters`` object is the job's ``Parameters``:
``{"parameters": {"input": "s3://bucket/key"}}`` replaces ``Ref::input`` in the command. Keys it leaves out keep the
job definition's default; an input without ``parameters`` submits the job with its defaults. Values must be strings
(AWS Batch's parameters are a string map).

With ``parameters={...}`` the mapping is the job's ``Parameters``: literals, or ``sfn.JsonPath.string_at("$.x")`` to
read a field of the execution input (the execution then fails if the field is missing). A fixed mapping is checked
against the job at synth: a name the job does not declare (``trigger-unread-parameter``) or a ``Ref::`` without a
default left out (``trigger-unset-parameter``) is an error.

Fair share and overrides
------------------------
On a fair-share queue every submission needs ``share_identifier=`` (rule ``share-identifier``; refused on other
queues), optionally with ``scheduling_priority_override=``. Both are written into the task's ``Parameters``
(``ShareIdentifier``, ``SchedulingPriorityOverride``), which the L2 ``BatchSubmitJob`` does not expose. Per-submission
overrides (:class:`JobOverrides`: command, environment, vCPUs/memory, attempts, attempt timeout, tags, job name) take
literals or values of the execution input (``sfn.JsonPath``); literal vCPUs/memory are checked against the queue's
compute environments with the fit rules.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import Final

from aws_cdk import CfnResource, Duration, Size
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct, IConstruct

from .._internal import logs as _logs
from .._internal.compliance import acknowledge_all, resource_finding
from .._internal.iam import ManagedPolicyRole, actions_of, add_key_statement, known_statement, resources_of
from .._internal.memo import account_id, adopt_stack, known_seconds, node_of, path_of, seconds_of, stack_of
from .._internal.validation import is_known, raise_if_any
from ..model import registry
from ..model import rules as _rules
from ..queue import KnownQueue
from ..types import Queue
from ._common import (
    AnyJob,
    acknowledge_complete_parameters,
    add_submit_permission,
    array_size_problems,
    job_parameter_problems,
    queue_problems,
    share_problems,
)

__all__ = ["THROTTLING_ERRORS", "BatchJobStateMachine", "BatchPipeline", "PipelineStep", "job_state_timeout"]

# The timeouts below are plain seconds, turned into a ``Duration`` where one is built: a module-level ``Duration`` is a
# jsii request that every import would pay, used or not.

#: How long a job may wait in its queue, per submission, before its state times out (seconds). It matches BatchQueue's
#: default ``capacity_timeout`` (4 hours): the queue cancels a job starved of capacity before the state machine gives
#: up on it.
QUEUE_WAIT_SECONDS: Final = 4 * 3600

#: The state timeout of a job whose definition has no timeout (AWS Batch has none by default), in seconds: one day
#: bounds a hung job that would otherwise keep the execution (and the instances) running for up to a year.
UNBOUNDED_JOB_STATE_SECONDS: Final = 24 * 3600

#: The least default state timeout of an array job, whose children may run in waves (seconds).
ARRAY_JOB_STATE_SECONDS: Final = 24 * 3600

#: Added to the sum of the job states' timeouts for the execution timeout (seconds): time to publish the failure alert.
ALERT_MARGIN_SECONDS: Final = 5 * 60

#: Errors Step Functions reports when AWS Batch throttles or fails a SubmitJob call (retried with backoff and jitter).
#: Batch's 429 reaches Step Functions as ``Batch.AWSBatchException`` ("Too Many Requests ... TooManyRequestsException").
THROTTLING_ERRORS: Final = ("Batch.AWSBatchException", "Batch.TooManyRequestsException", "Batch.ServerException")

#: A standard workflow's longest execution (one year), the upper bound of any timeout here.
MAX_EXECUTION_SECONDS: Final = 365 * 24 * 3600


def job_state_timeout(job: AnyJob, array_size: int | None = None) -> Duration:
    """The default timeout of a state that runs ``job``: attempts x the job's timeout, plus :data:`QUEUE_WAIT_SECONDS`.

    AWS Batch applies the job timeout to each attempt and makes up to ``retry_attempts`` attempts, so this is the
    longest a healthy job can take; the queue wait covers time spent RUNNABLE. A job without a timeout gets
    :data:`UNBOUNDED_JOB_STATE_SECONDS`. An array job gets at least :data:`ARRAY_JOB_STATE_SECONDS`: when the
    compute environments cannot hold every child at once, the children run in waves.
    """
    definition = job.job_definition
    timeout = definition.timeout
    if timeout is None or not is_known(seconds_of(timeout)):
        return known_seconds(UNBOUNDED_JOB_STATE_SECONDS)
    attempts = definition.retry_attempts or 1
    if not is_known(attempts):
        attempts = 10
    seconds = int(seconds_of(timeout)) * int(attempts) + QUEUE_WAIT_SECONDS
    if array_size is not None:
        seconds = max(seconds, ARRAY_JOB_STATE_SECONDS)
    return known_seconds(seconds)


def _with_alert_margin(timeout: Duration) -> Duration:
    """``timeout`` plus :data:`ALERT_MARGIN_SECONDS`."""
    seconds = seconds_of(timeout)
    if is_known(seconds):
        return known_seconds(int(seconds) + ALERT_MARGIN_SECONDS)
    return timeout.plus(Duration.seconds(ALERT_MARGIN_SECONDS))


def _batch_job_name(text: str) -> str:
    """A valid AWS Batch job name from a construct id (letters, digits, '-' and '_', first alphanumeric)."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]", "-", text).lstrip("-_")
    return (cleaned or "job")[:128]


@dataclass(frozen=True)
class JobOverrides:
    """Per-submission changes to a job, for :class:`BatchJobStateMachine` and :class:`PipelineStep`.

    Every field defaults to None: the job definition's value. Fields that take the execution input say so.

    Attributes:
        command: the container command: a literal list, or ``sfn.JsonPath.list_at("$.command")``.
        environment: extra environment variables (names not starting with ``AWS_BATCH``, which AWS reserves):
            values literal or ``sfn.JsonPath.string_at("$.x")``.
        vcpus / memory_mib: the container's vCPUs and memory (MiB). Literals are checked against the queue's compute
            environments (``job-fits-queue``) and Fargate's combinations; ``sfn.JsonPath.number_at`` is not checked.
        attempts: the retry strategy's attempts, 1-10 (literal: Step Functions' Batch integration takes a number).
        timeout: the attempt timeout (at least 60 s), a ``Duration`` or ``sfn.Timeout.at("$.seconds")``.
        tags: tags of the submitted job (at most 50), values literal or ``sfn.JsonPath.string_at``.
        job_name: the submitted job's name, literal (checked) or ``sfn.JsonPath.string_at("$.name")``.
    """

    command: Sequence[str] | None = None
    environment: Mapping[str, str] | None = None
    vcpus: float | None = None
    memory_mib: int | None = None
    attempts: int | None = None
    timeout: Duration | sfn.Timeout | None = None
    tags: Mapping[str, str] | None = None
    job_name: str | None = None

    def problems(self, job: AnyJob, queue: Queue, what: str) -> list[str]:
        """Why these overrides can never work for ``job`` on ``queue`` (``job-overrides``, fit and name rules)."""
        problems: list[str] = []
        if self.attempts is not None and is_known(self.attempts):
            problems += _rules.int_range(
                registry.JOB_OVERRIDES, f"{what}overrides.attempts", self.attempts, *_rules.RETRY_ATTEMPTS, "use 1-10"
            )
        if isinstance(self.timeout, Duration) and is_known(seconds_of(self.timeout)):
            seconds = seconds_of(self.timeout)
            if seconds < _rules.TIMEOUT_MIN_SECONDS:
                problems.append(
                    registry.JOB_OVERRIDES.fix(
                        f"{what}overrides.timeout={seconds:g} s; AWS Batch's minimum is {_rules.TIMEOUT_MIN_SECONDS} s",
                        "use Duration.minutes(1) or more",
                    )
                )
        if self.tags is not None and len(self.tags) > _rules.TAGS_MAX:
            problems.append(
                registry.JOB_OVERRIDES.fix(
                    f"{what}overrides.tags has {len(self.tags)} tags; at most {_rules.TAGS_MAX}", "drop some tags"
                )
            )
        reserved = sorted(k for k in (self.environment or {}) if k.startswith("AWS_BATCH"))
        if reserved:
            problems.append(
                registry.JOB_OVERRIDES.fix(
                    f"{what}overrides.environment sets {', '.join(reserved)}; AWS Batch reserves AWS_BATCH*",
                    "use other names",
                )
            )
        if self.job_name is not None and is_known(self.job_name):
            problems += _rules.job_name(self.job_name)
        sized = [v for v in (self.vcpus, self.memory_mib) if v is not None]
        if sized and is_known(*sized):
            for req in job.requirements:
                changed = dataclasses.replace(
                    req,
                    vcpus=self.vcpus if self.vcpus is not None else req.vcpus,
                    memory_mib=self.memory_mib if self.memory_mib is not None else req.memory_mib,
                )
                problems += _rules.job_resources(changed.vcpus, changed.memory_mib, changed.gpus, changed.platform)
                if changed.platform == "FARGATE":
                    problems += _rules.fargate_resources(changed.vcpus, changed.memory_mib)
                if isinstance(queue, KnownQueue):
                    problems += _rules.job_fits_queue(changed, path_of(queue), queue.capacities())
        return problems

    def container_overrides(self) -> tasks.BatchContainerOverrides | None:
        if self.command is None and self.environment is None and self.vcpus is None and self.memory_mib is None:
            return None
        return tasks.BatchContainerOverrides(
            command=list(self.command) if self.command is not None else None,
            environment=dict(self.environment) if self.environment is not None else None,
            vcpus=self.vcpus,
            memory=Size.mebibytes(self.memory_mib) if self.memory_mib is not None else None,
        )

    def task_timeout(self) -> sfn.Timeout | None:
        if self.timeout is None or isinstance(self.timeout, sfn.Timeout):
            return self.timeout
        return sfn.Timeout.duration(self.timeout)


@dataclass(frozen=True)
class PipelineStep:
    """One job of a :class:`BatchPipeline`: ``PipelineStep(job, array_size=..., parameters=..., queue=...)``.

    Attributes:
        job: a ContainerJob or MultiNodeJob.
        array_size: run it as an array job of this many children (2-10,000); the step ends when every child has
            ended. Default: a single job.
        parameters: the job's ``Parameters`` (literals or ``sfn.JsonPath.string_at``). Default: the execution
            input's ``parameters`` object (see the module docstring).
        queue: Default: the job's queue.
        name: the state name (at most 80 characters), unique within the pipeline. Default: the job's construct id.
        timeout: the state timeout. Default: :func:`job_state_timeout` of the job and array size.
        share_identifier: the submission's share identifier: required on a fair-share queue, refused on others
            (literal or ``sfn.JsonPath.string_at``). Default: none.
        scheduling_priority_override: 0-9999, fair-share queues only. Default: the job definition's priority.
        overrides: per-submission changes (:class:`JobOverrides`). Default: none.
    """

    job: AnyJob
    _: KW_ONLY
    array_size: int | None = None
    parameters: Mapping[str, str] | None = None
    queue: Queue | None = None
    name: str | None = None
    timeout: Duration | None = None
    share_identifier: str | None = None
    scheduling_priority_override: int | None = None
    overrides: JobOverrides | None = None

    @property
    def state_name(self) -> str:
        return self.name if self.name is not None else self.job.node.id[:80]


class _SubmitJobSync(tasks.BatchSubmitJob):
    """``BatchSubmitJob`` with a state timeout (``TimeoutSeconds``).

    The L2 maps ``task_timeout`` to the Batch attempt timeout (``Timeout.AttemptDurationSeconds``, which would override
    the job definition's) and never writes ``TimeoutSeconds``, so the state itself would wait for ever.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        state_timeout: Duration,
        fair_share: Mapping[str, object] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._state_timeout_seconds = int(seconds_of(state_timeout))
        self._fair_share = dict(fair_share or {})

    def to_state_json(self, query_language: sfn.QueryLanguage | None = None) -> Mapping[object, object]:
        rendered = dict(super().to_state_json(query_language))
        rendered["TimeoutSeconds"] = self._state_timeout_seconds
        if self._fair_share:
            # ShareIdentifier / SchedulingPriorityOverride: SubmitJob fields the L2 task has no props for. render_object
            # writes "Key.$" for JsonPath values, like the L2's own fields.
            parameters = dict(rendered.get("Parameters") or {})
            parameters.update(sfn.FieldUtils.render_object(self._fair_share) or {})
            rendered["Parameters"] = parameters
        return rendered


class _BatchStatesRole(ManagedPolicyRole):
    """The state machine's role: drops any statement granting ``batch:SubmitJob`` on every job definition.

    ``BatchSubmitJob`` registers ``batch:SubmitJob`` on ``job-definition/*`` plus the queue (aws-cdk #37214), and the
    state machine adds it to its role. The owning construct grants the narrow statement instead (queue plus
    ``job-definition/NAME:*``) through ``grant_submit_job``.
    """

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        if _is_unscoped_submit(statement):
            return iam.AddToPrincipalPolicyResult(statement_added=False)
        return super().add_to_principal_policy(statement)


def _is_unscoped_submit(policy_statement: iam.PolicyStatement) -> bool:
    if "batch:SubmitJob" not in actions_of(policy_statement):
        return False
    return any(r == "*" or r.endswith(":job-definition/*") for r in resources_of(policy_statement))


class _JobStateMachineBase(Construct):
    """What the single-job state machine and the pipeline share: role, topic, logs, retries, Catch, grants.

    Subclasses validate first, then call :meth:`_create_common`, add their job states, then :meth:`_create_machine`.
    """

    #: State names the base class uses (a pipeline step may not take them).
    RESERVED_STATE_NAMES: Final = frozenset({"HasParameters", "NoParameters", "Start", "NotifyFailure", "Failed"})

    #: The role class :meth:`_create_common` builds (a subclass may drop more of the L2's broad statements).
    _role_class: type[_BatchStatesRole] = _BatchStatesRole

    state_machine: sfn.StateMachine
    role: iam.Role
    log_group: logs.LogGroup
    failure_topic: sns.ITopic

    def _create_common(
        self,
        *,
        failure_topic: sns.ITopic | None,
        log_retention: logs.RetentionDays | None,
        encryption_key: kms.IKey | None,
    ) -> None:
        self._granted: set[tuple[str, str]] = set()
        self._jobs: dict[str, AnyJob] = {}
        self._sync_granted = False
        self.role = self._role_class(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal(
                "states.amazonaws.com", conditions={"StringEquals": {"aws:SourceAccount": account_id()}}
            ),
            description="batch-constructs: Step Functions role that submits and watches this state machine's jobs",
        )
        self.failure_topic = failure_topic or sns.Topic(
            self,
            "FailureTopic",
            display_name="AWS Batch job failures",
            master_key=encryption_key or _logs.default_key(self),
            enforce_ssl=True,
        )
        self.log_group = _logs.new_log_group(self, "LogGroup", retention=log_retention, encryption_key=encryption_key)
        self._failure = self._failure_chain()

    def _failure_chain(self) -> sfn.IChainable:
        """Publish the caught error to the failure topic, then fail with the original error and cause."""
        notify = tasks.SnsPublish(
            self,
            "NotifyFailure",
            topic=self.failure_topic,
            subject="AWS Batch job failed",
            message=sfn.TaskInput.from_object(
                {
                    "stateMachine": sfn.JsonPath.state_machine_id,
                    "execution": sfn.JsonPath.execution_id,
                    "error": sfn.JsonPath.string_at("$.error.Error"),
                    "cause": sfn.JsonPath.string_at("$.error.Cause"),
                }
            ),
            result_path=sfn.JsonPath.DISCARD,
        )
        notify.add_retry(max_attempts=3, interval=Duration.seconds(2), backoff_rate=2)
        failed = sfn.Fail(self, "Failed", error_path="$.error.Error", cause_path="$.error.Cause")
        master_key = self.failure_topic.master_key
        if master_key is not None:
            # Publishing to an encrypted topic needs its key; exact actions (no wildcard for IAM5 to flag), through
            # SNS only.
            add_key_statement(self.role, master_key.key_arn, "sns", "kms:Decrypt", "kms:GenerateDataKey")
        return notify.next(failed)

    def _submit(
        self,
        construct_id: str,
        *,
        state_name: str,
        job: AnyJob,
        queue: Queue,
        parameters: Mapping[str, str] | None,
        array_size: int | None,
        timeout: Duration,
        depends_on: Sequence[str] | None = None,
        result_path: str,
        share_identifier: str | None = None,
        scheduling_priority_override: int | None = None,
        overrides: JobOverrides | None = None,
        catch: bool = True,
    ) -> tasks.BatchSubmitJob:
        """A ``submitJob.sync`` state with the throttling retry, the Catch and the narrow SubmitJob grant.

        ``catch=False`` leaves the Catch out, for a state inside a Map's item processor (a separate state graph that
        cannot reach the failure states; the Map state carries the Catch instead).
        """
        fair_share: dict[str, object] = {}
        if share_identifier is not None:
            fair_share["ShareIdentifier"] = share_identifier
        if scheduling_priority_override is not None:
            fair_share["SchedulingPriorityOverride"] = scheduling_priority_override
        changes = overrides or JobOverrides()
        payload = (
            sfn.TaskInput.from_object(dict(parameters))
            if parameters is not None
            else sfn.TaskInput.from_json_path_at("$.parameters")
        )
        task = _SubmitJobSync(
            self,
            construct_id,
            state_timeout=timeout,
            fair_share=fair_share,
            state_name=state_name,
            job_definition_arn=job.job_definition_arn,
            job_queue_arn=queue.job_queue_arn,
            job_name=changes.job_name or _batch_job_name(node_of(job).id),
            payload=payload,
            container_overrides=changes.container_overrides(),
            attempts=changes.attempts,
            task_timeout=changes.task_timeout(),
            tags=dict(changes.tags) if changes.tags is not None else None,
            array_size=array_size,
            depends_on=[tasks.BatchJobDependency(job_id=d) for d in depends_on] if depends_on else None,
            integration_pattern=sfn.IntegrationPattern.RUN_JOB,
            result_selector={
                "JobId": sfn.JsonPath.string_at("$.JobId"),
                "JobName": sfn.JsonPath.string_at("$.JobName"),
                "Status": sfn.JsonPath.string_at("$.Status"),
            },
            result_path=result_path,
        )
        task.add_retry(
            errors=list(THROTTLING_ERRORS),
            interval=Duration.seconds(5),
            backoff_rate=2,
            max_attempts=6,
            max_delay=Duration.minutes(2),
            jitter_strategy=sfn.JitterType.FULL,
        )
        if catch:
            task.add_catch(self._failure, errors=[sfn.Errors.ALL], result_path="$.error")
        self._grant_job(job, queue)
        if parameters is not None:
            acknowledge_complete_parameters(job, parameters, f"state {state_name!r} of {self.node.path}")
        return task

    def _grant_job(self, job: AnyJob, queue: Queue) -> None:
        key = (path_of(job), path_of(queue))
        if key not in self._granted:
            self._granted.add(key)
            self._jobs[path_of(job)] = job
            add_submit_permission(job, self.role, queue)
        if not self._sync_granted:
            self._sync_granted = True
            # What the .sync integration needs besides SubmitJob and the events rule the L2 task grants (Step
            # Functions' documented policy for Batch): DescribeJobs has no resource-level permissions; TerminateJob
            # stops the submitted job when the state times out or the execution is stopped.
            sync_statements = [
                known_statement(actions=["batch:DescribeJobs"], resources=["*"]),
                known_statement(actions=["batch:TerminateJob"], resources=[self._job_arn_pattern()]),
            ]
            if isinstance(self.role, ManagedPolicyRole):  # both in one jsii call; neither is one the role drops
                self.role.add_statements(*sync_statements)
            else:
                for sync_statement in sync_statements:
                    self.role.add_to_principal_policy(sync_statement)

    def _with_default_parameters(self, first: sfn.IChainable) -> sfn.IChainable:
        """Give the execution input an empty ``parameters`` object when it has none, then go to ``first``."""
        choice = sfn.Choice(self, "HasParameters", comment="Does the execution input carry job parameters?")
        default = sfn.Pass(
            self,
            "NoParameters",
            comment="No parameters in the input: submit with the job definition's defaults",
            result=sfn.Result.from_object({}),
            result_path="$.parameters",
        )
        choice.when(sfn.Condition.is_present("$.parameters"), first)
        choice.otherwise(default.next(first))
        return choice

    def _create_machine(self, definition: sfn.IChainable, timeout: Duration, comment: str) -> None:
        self.state_machine = sfn.StateMachine(
            self,
            "Resource",
            definition_body=sfn.DefinitionBody.from_chainable(definition),
            comment=comment,
            role=self.role,
            state_machine_type=sfn.StateMachineType.STANDARD,
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=self.log_group, level=sfn.LogLevel.ALL, include_execution_data=True),
        )
        policy = self.role.managed_policy if isinstance(self.role, ManagedPolicyRole) else None
        if policy is None:
            return
        self._acknowledge(policy)
        cfn_machine = node_of(self.state_machine).default_child
        cfn_policy = node_of(policy).default_child
        if isinstance(cfn_machine, CfnResource) and isinstance(cfn_policy, CfnResource):
            # The L2 makes the machine depend on the role's whole subtree; the role already is a dependency through
            # RoleArn (cfn-lint W3005). The policy must stay one: creation checks the logging permissions.
            cfn_machine.add_override("DependsOn", [stack_of(self).get_logical_id(cfn_policy)])

    def _job_arn_pattern(self) -> str:
        """Every Batch job of this account and region: ``arn:PARTITION:batch:REGION:ACCOUNT:job/*``."""
        pattern: str | None = getattr(self, "_job_arn", None)
        if pattern is None:  # the stack's ARN format never changes: one jsii call
            pattern = self._job_arn = stack_of(self).format_arn(service="batch", resource="job", resource_name="*")
        return pattern

    def _acknowledge(self, policy: IConstruct) -> None:
        acknowledge_all(  # one call for both findings
            policy,
            [
                (
                    "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                    "CloudWatch Logs vended-log delivery (logs:CreateLogDelivery and the rest the state machine's "
                    "logging needs), X-Ray trace upload and batch:DescribeJobs support no resource-level permissions; "
                    "AWS documents Resource '*' for each. batch:SubmitJob is scoped to the queue and the job "
                    "definition's revisions.",
                ),
                (
                    resource_finding(policy, self._job_arn_pattern()),
                    "batch:TerminateJob lets Step Functions stop the job it submitted when the state times out or the "
                    "execution is stopped; job ids exist only at run time, so the resource is job/* in this account "
                    "and region (Step Functions' documented policy for the .sync Batch integration).",
                ),
            ],
        )

    def grant_start_execution(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to start executions of this state machine (and nothing else)."""
        return self.state_machine.grant_start_execution(grantee)

    @property
    def state_machine_arn(self) -> str:
        return self.state_machine.state_machine_arn


def _timeout_problems(what: str, timeout: Duration | None) -> list[str]:
    if timeout is None or not is_known(seconds_of(timeout)):
        return []
    seconds = seconds_of(timeout)
    if 60 <= seconds <= MAX_EXECUTION_SECONDS:
        return []
    return [
        registry.STATE_MACHINE_TIMEOUT.fix(
            f"{what}timeout={seconds:.0f} s; allowed 60 s (a job cannot be scheduled, run and finished faster) to one "
            "year (a standard workflow's longest execution)",
            "use Duration.minutes(1) to Duration.days(365), or leave it unset for the job's own timeout x attempts "
            "+ queue wait",
        )
    ]


class BatchJobStateMachine(_JobStateMachineBase):
    """A Step Functions state machine that submits one Batch job (``batch:submitJob.sync``) and waits for it.

    States: ``HasParameters``/``NoParameters`` (only when ``parameters`` is None), ``SubmitJob``, and on any error
    ``NotifyFailure`` then ``Failed``. The output is the input plus ``job`` (``JobId``, ``JobName``, ``Status``).

    Attributes:
        state_machine: the L2 ``sfn.StateMachine`` (child ``Resource``).
        role: the role Step Functions assumes (child ``Role``; grants in its managed policy ``Role/Policy``).
        log_group: the execution log group (child ``LogGroup``).
        failure_topic: where failures are published (the given topic, or the child ``FailureTopic``).
        job / queue: what is submitted, and where.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: AnyJob,
        queue: Queue | None = None,
        parameters: Mapping[str, str] | None = None,
        array_size: int | None = None,
        depends_on: Sequence[str] | None = None,
        timeout: Duration | None = None,
        share_identifier: str | None = None,
        scheduling_priority_override: int | None = None,
        overrides: JobOverrides | None = None,
        failure_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        """Args:
        job: the ContainerJob, MultiNodeJob or ImportedJob to run.
        queue: Default: the job's queue (one of the two is required).
        parameters: the job's ``Parameters``, literals or ``sfn.JsonPath.string_at("$.x")``. Default: the execution
            input's ``parameters`` object, or the job definition's defaults when the input has none.
        array_size: submit an array job of 2-10,000 children; the state waits for all of them. Default: one job.
        depends_on: ids of Batch jobs that must finish first (at most 20), literals or ``sfn.JsonPath.string_at``.
            Default: none.
        timeout: how long the job state may take, from submission to the end of the job (60 s to 1 year). Default:
            :func:`job_state_timeout`: the job's timeout x its attempts + 4 hours in the queue (1 day when the job
            has no timeout; at least 1 day for an array job). The execution's timeout adds 5 minutes for the alert.
        share_identifier: the share of every submission, literal or ``sfn.JsonPath.string_at("$.share")``: required
            when the queue is fair-share, refused otherwise (``share-identifier``). Default: none.
        scheduling_priority_override: 0-9999, only on a fair-share queue. Default: the job definition's priority.
        overrides: per-submission changes (:class:`JobOverrides`). Default: none (the job definition as it is).
        failure_topic: where the Catch publishes failures; if it is an imported topic encrypted with a KMS key, also
            grant ``role`` kms:GenerateDataKey and kms:Decrypt on that key. Default: a new topic (child
            ``FailureTopic``) encrypted with ``encryption_key``, whose policy denies non-TLS access; subscribe to it.
        log_retention: retention of the execution log group. Default: one year.
        encryption_key: the key of the log group and of the new topic. Default: the stack's shared key.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        target, problems = queue_problems(job, queue, "BatchJobStateMachine", self)
        problems += array_size_problems("", array_size)
        problems += _timeout_problems("", timeout)
        if depends_on is not None:
            problems += _rules.dependencies(len(depends_on))
        if target is not None:
            problems += share_problems(
                self, target, "the state machine", share_identifier, scheduling_priority_override, job
            )
            if overrides is not None:
                problems += overrides.problems(job, target, "")
        problems += job_parameter_problems(job, "parameters", parameters, complete=True)
        raise_if_any(self, problems)
        assert target is not None
        self.job: AnyJob = job
        self.queue: Queue = target
        self._create_common(failure_topic=failure_topic, log_retention=log_retention, encryption_key=encryption_key)
        state_timeout = timeout or job_state_timeout(job, array_size)
        submit = self._submit(
            "SubmitJob",
            state_name="SubmitJob",
            job=job,
            queue=target,
            parameters=parameters,
            array_size=array_size,
            timeout=state_timeout,
            depends_on=depends_on,
            result_path="$.job",
            share_identifier=share_identifier,
            scheduling_priority_override=scheduling_priority_override,
            overrides=overrides,
        )
        start = submit if parameters is not None else self._with_default_parameters(submit)
        self._create_machine(
            start,
            _with_alert_margin(state_timeout),
            f"Runs the AWS Batch job {path_of(job)} and waits for it (batch-constructs)",
        )


class BatchPipeline(_JobStateMachineBase):
    """A state machine that runs Batch jobs one after the other, each with ``submitJob.sync``.

    An array step followed by a normal step is fan-out then fan-in: ``.sync`` ends the array step only when every
    child has finished, so the aggregation step starts after all of them (and never runs when one failed). The state
    ``Start`` adds ``steps: {}`` to the input; step *i*'s result (``JobId``, ``JobName``, ``Status``) is stored at
    ``$.steps.step<i>``, and the input (with its ``parameters``) flows on to the next step. The task construct of step
    *i* is the child ``Step<i>``.

    Attributes: as for :class:`BatchJobStateMachine`, plus ``steps``.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        steps: Sequence[PipelineStep],
        failure_topic: sns.ITopic | None = None,
        timeout: Duration | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        """Args:
        steps: the jobs, in order (at least one).
        failure_topic: Default: a new KMS-encrypted, TLS-only topic (child ``FailureTopic``).
        timeout: the whole execution's timeout (60 s to 1 year). Default: the sum of the steps' state timeouts plus
            5 minutes for the alert.
        log_retention: Default: one year. encryption_key: Default: the stack's shared key.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        problems: list[str] = []
        if not steps:
            problems.append(registry.PIPELINE_STEPS.fix("a pipeline with no steps", "pass at least one PipelineStep"))
        problems += _timeout_problems("", timeout)
        seen: dict[str, int] = {}
        queues: list[Queue] = []
        for index, step in enumerate(steps):
            what = f"steps[{index}]."
            target, pairing = queue_problems(step.job, step.queue, f"steps[{index}]", self)
            problems += pairing
            if target is not None:
                queues.append(target)
                problems += share_problems(
                    self, target, f"steps[{index}]", step.share_identifier, step.scheduling_priority_override, step.job
                )
                if step.overrides is not None:
                    problems += step.overrides.problems(step.job, target, what)
            problems += job_parameter_problems(step.job, f"steps[{index}].parameters", step.parameters, complete=True)
            problems += array_size_problems(what, step.array_size)
            problems += _timeout_problems(what, step.timeout)
            name = step.state_name
            if not 1 <= len(name) <= 80:
                problems.append(
                    registry.STATE_NAME.fix(
                        f"steps[{index}] state name {name!r} has {len(name)} characters", "use 1-80"
                    )
                )
            if name in self.RESERVED_STATE_NAMES or name in seen:
                other = f"steps[{seen[name]}]" if name in seen else "a state of the pipeline itself"
                problems.append(
                    registry.STATE_NAME.fix(
                        f"steps[{index}] is named {name!r}, like {other}; state names are unique in a state machine",
                        "pass name= to the PipelineStep (e.g. when the same job runs twice)",
                    )
                )
            seen.setdefault(name, index)
        raise_if_any(self, problems)

        self.steps: list[PipelineStep] = list(steps)
        self._create_common(failure_topic=failure_topic, log_retention=log_retention, encryption_key=encryption_key)
        chain = sfn.Chain.start(
            sfn.Pass(
                self,
                "Start",
                comment="Collects each step's job",
                result=sfn.Result.from_object({}),
                result_path="$.steps",
            )
        )
        total = Duration.seconds(0)
        for index, (step, target) in enumerate(zip(steps, queues, strict=True)):
            step_timeout = step.timeout or job_state_timeout(step.job, step.array_size)
            total = total.plus(step_timeout)
            chain = chain.next(
                self._submit(
                    f"Step{index}",
                    state_name=step.state_name,
                    job=step.job,
                    queue=target,
                    parameters=step.parameters,
                    array_size=step.array_size,
                    timeout=step_timeout,
                    result_path=f"$.steps.step{index}",
                    share_identifier=step.share_identifier,
                    scheduling_priority_override=step.scheduling_priority_override,
                    overrides=step.overrides,
                )
            )
        start = chain if all(step.parameters is not None for step in steps) else self._with_default_parameters(chain)
        self._create_machine(
            start,
            timeout or _with_alert_margin(total),
            f"Runs {len(steps)} AWS Batch job(s) in sequence, each waiting for the last (batch-constructs)",
        )
