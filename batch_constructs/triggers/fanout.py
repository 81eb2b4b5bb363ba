"""Fan-out over S3: one AWS Batch job per object under a prefix or in a manifest (Step Functions Distributed Map).

:class:`S3FanOut` is a state machine (the same role, logging, tracing, failure topic and ``submitJob.sync`` task as
:class:`~batch_constructs.triggers.stepfunctions.BatchJobStateMachine`) whose one state is a Distributed Map
(``FanOut``). The map reads the items with an ``ItemReader``:

- ``prefix=`` (the default, the whole bucket): ``arn:aws:states:::s3:listObjectsV2`` lists every object under the
  prefix (Step Functions pages through the listing itself);
- ``manifest_key=`` with ``manifest_format="inventory"``: the ``manifest.json`` of an S3 Inventory report (CSV
  inventory only, as Step Functions requires); ``"csv"``: a CSV file whose first row names the columns; ``"json"``: a
  JSON array of objects. ``key_field`` names the column or field holding the object key (objects in ``bucket``).

Each item runs one child workflow execution (STANDARD: the ``.sync`` Batch integration needs it) that submits the
job and waits for it. The job receives the object as ``Parameters``: ``Ref::bucket`` and ``Ref::key`` (names
configurable), plus the fixed ``parameters=``.

Batching (``items_per_job=N``): N objects per job, passed as ONE parameter (``Ref::keys``): a JSON array
``[{"bucket": "...", "key": "..."}, ...]`` (``States.JsonToString`` of the batch). Not array jobs: an array job needs 2
to 10,000 children (the last batch may hold one object), and each child would still need the whole list to find its
own object by ``AWS_BATCH_JOB_ARRAY_INDEX``; one job per batch also amortizes container start-up, which is the point
of batching small objects. The batch's input is capped at :data:`MAX_BATCH_INPUT_BYTES`, so the parameter always fits
AWS Batch's 30 KiB SubmitJob payload (AWS Batch service quotas) whatever the key lengths.

IAM (the state machine's role): ``s3:ListBucket`` on the bucket with an ``s3:prefix`` condition (the prefix the
reader lists), or ``s3:GetObject`` on the manifest object (for an S3 Inventory manifest also on its ``data/`` files)
and ``kms:Decrypt`` on the bucket's key when it has one. The role never reads the objects themselves: the job does,
with its job role (grant it, e.g. ``grant_read_objects(job.job_role, bucket, "input/")``). Distributed Map starts
child executions of the state machine itself: ``states:StartExecution`` on the state machine,
``states:DescribeExecution`` / ``states:StopExecution`` on its executions (Step Functions developer guide, "IAM
policies for using Distributed Map states"), in a managed policy ``DistributedMapPolicy`` (the L2 puts them in an
inline policy, which the NIST, HIPAA and PCI packs reject).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final, Literal

from aws_cdk import ArnFormat, Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from .._internal.compliance import acknowledge, resource_finding
from .._internal.iam import ManagedPolicyRole, actions_of
from .._internal.validation import is_known, raise_if_any
from ..model import registry
from ..model import rules as _rules
from ..queue import KnownQueue
from ..types import Queue
from ._common import AnyJob, job_parameter_problems, parameter_problems, queue_problems, share_problems
from .stepfunctions import (
    JobOverrides,
    _BatchStatesRole,
    _JobStateMachineBase,
    _timeout_problems,
    job_state_timeout,
)

__all__ = [
    "DEFAULT_EXECUTION_TIMEOUT",
    "MAX_BATCH_INPUT_BYTES",
    "MAX_CONCURRENCY",
    "MAX_DEFAULT_CONCURRENCY",
    "UNKNOWN_QUEUE_CONCURRENCY",
    "ManifestFormat",
    "S3FanOut",
    "default_max_concurrency",
    "inventory_data_prefix",
]

#: How a manifest lists the objects: an S3 Inventory ``manifest.json``, a CSV file with a header row, a JSON array.
ManifestFormat = Literal["inventory", "csv", "json"]
_FORMATS: Final = ("inventory", "csv", "json")

#: Step Functions' limit on a Distributed Map's parallel child executions (Step Functions quotas).
MAX_CONCURRENCY: Final = 10_000

#: The largest default concurrency. Each child calls SubmitJob once; AWS Batch allows 50 SubmitJob calls a second per
#: account (AWS Batch service quotas), so 1,000 children starting together are submitted within about 20 s, well inside
#: the throttling retry's window (6 attempts, backoff up to 2 minutes). More gains nothing when the queue cannot run
#: more jobs at once: the rest would wait RUNNABLE, each holding a child execution open.
MAX_DEFAULT_CONCURRENCY: Final = 1_000

#: The default concurrency on a queue whose capacity the library cannot see (imported by ARN).
UNKNOWN_QUEUE_CONCURRENCY: Final = 100

#: The cap on one batch's input (ItemBatcher ``MaxInputBytesPerBatch``). The batch becomes one job parameter, escaped
#: once more inside the SubmitJob request; 16 KiB leaves room for that and the rest of the request within AWS Batch's
#: 30 KiB SubmitJob payload quota.
MAX_BATCH_INPUT_BYTES: Final = 16 * 1024

#: The default execution timeout. A fan-out runs in waves (objects / concurrency), which synth cannot count; seven days
#: bounds a stuck run while leaving room for many waves of hour-long jobs. Pass ``timeout=`` for a tighter bound.
DEFAULT_EXECUTION_TIMEOUT: Final = Duration.days(7)

_FIELD = re.compile(r"^[A-Za-z0-9_]+$")


def default_max_concurrency(job: AnyJob, queue: Queue) -> int:
    """How many of ``job`` the queue's compute environments can run at once (their max vCPUs / the job's vCPUs),
    between 1 and :data:`MAX_DEFAULT_CONCURRENCY`; :data:`UNKNOWN_QUEUE_CONCURRENCY` when the queue's capacity or the
    job's size is not known at synth."""
    if not isinstance(queue, KnownQueue):
        return UNKNOWN_QUEUE_CONCURRENCY
    capacities = [cap.max_vcpus for _, cap in queue.capacities()]
    per_job = [req.vcpus * req.nodes for req in job.requirements]
    if not capacities or not per_job or any(c is None for c in capacities) or not is_known(*capacities, *per_job):
        return UNKNOWN_QUEUE_CONCURRENCY
    fits = math.floor(sum(c or 0 for c in capacities) / max(sum(per_job), 0.25))
    return max(1, min(MAX_DEFAULT_CONCURRENCY, fits))


def inventory_data_prefix(manifest_key: str) -> str | None:
    """Where the data files of the S3 Inventory report ``manifest_key`` are: ``<config>/data/``.

    S3 Inventory writes ``<destination prefix>/<source bucket>/<configuration id>/<date>/manifest.json`` and the data
    files under ``<...>/<configuration id>/data/`` (S3 user guide, "Inventory manifest"). None when the key has no
    such shape (a token, or a manifest written elsewhere): then only the manifest itself is granted.
    """
    if not is_known(manifest_key):
        return None
    parts = manifest_key.split("/")
    if len(parts) < 3 or parts[-1] != "manifest.json":
        return None
    return "/".join([*parts[:-2], "data"]) + "/"


class _FanOutRole(_BatchStatesRole):
    """Drops the item readers' own S3 statements (``s3:ListBucket`` without a prefix condition, ``s3:GetObject`` on
    every object of the bucket) while the state machine is built (:meth:`readers_bound` ends that, so a user's own
    grants on the role later are kept); :class:`S3FanOut` grants the narrow ones with :meth:`grant_exact`."""

    _binding_readers = True

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        actions = actions_of(statement) if self._binding_readers else []  # one jsii read, none once bound
        if actions and all(a in ("s3:ListBucket", "s3:GetObject") for a in actions):
            return iam.AddToPrincipalPolicyResult(statement_added=False)
        return super().add_to_principal_policy(statement)

    def readers_bound(self) -> None:
        """The state machine exists: its item reader's statements were registered (and dropped)."""
        self._binding_readers = False

    def grant_exact(self, statement: iam.PolicyStatement) -> None:
        """Add ``statement`` to the role's managed policy as it is."""
        ManagedPolicyRole.add_to_principal_policy(self, statement)


class S3FanOut(_JobStateMachineBase):
    """Run ``job`` once per S3 object (or per batch of objects) under a prefix or in a manifest, with a Distributed Map.

    States: ``FanOut`` (the Distributed Map; its item processor is ``SubmitJob``, a ``submitJob.sync`` task), and when
    the map fails (more failures than tolerated, a reader error) ``NotifyFailure`` then ``Failed``. See the module
    docstring for the items, the parameters the job receives, batching and IAM.

    Attributes:
        state_machine / role / log_group / failure_topic / job / queue: as for ``BatchJobStateMachine``.
        fan_out: the ``sfn.DistributedMap`` state.
        max_concurrency: the map's concurrency (as passed, or the default).
        distributed_map_policy: the managed policy for child executions (child ``DistributedMapPolicy``).
    """

    _role_class = _FanOutRole

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        job: AnyJob,
        bucket: s3.IBucket,
        prefix: str = "",
        manifest_key: str | None = None,
        manifest_format: ManifestFormat = "inventory",
        key_field: str = "Key",
        queue: Queue | None = None,
        bucket_parameter: str = "bucket",
        key_parameter: str = "key",
        keys_parameter: str = "keys",
        parameters: Mapping[str, str] | None = None,
        items_per_job: int | None = None,
        max_concurrency: int | None = None,
        tolerated_failure_percentage: float = 0,
        tolerated_failure_count: int = 0,
        share_identifier: str | None = None,
        scheduling_priority_override: int | None = None,
        overrides: JobOverrides | None = None,
        timeout: Duration | None = None,
        failure_topic: sns.ITopic | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        """Args:
        job: the ContainerJob, MultiNodeJob or ImportedJob to run per object (or per batch).
        bucket: the bucket holding the objects (and the manifest).
        prefix: list every object whose key starts with this. Default: "" (the whole bucket). Not with
            ``manifest_key``.
        manifest_key: read the objects from this manifest object in ``bucket`` instead of listing. Default: none.
        manifest_format: ``"inventory"`` (an S3 Inventory ``manifest.json``), ``"csv"`` (header row first) or
            ``"json"`` (an array of objects). Default: ``"inventory"``.
        key_field: the CSV column or JSON field holding the object key (letters, digits, ``_``). Default: ``"Key"``,
            as in an S3 Inventory report.
        queue: Default: the job's queue.
        bucket_parameter / key_parameter: the job parameters receiving the object's bucket and key (``Ref::bucket``,
            ``Ref::key``). Default: ``"bucket"``, ``"key"``.
        keys_parameter: with ``items_per_job``, the job parameter receiving the batch as a JSON array of
            ``{"bucket", "key"}`` objects. Default: ``"keys"``.
        parameters: fixed extra job parameters, checked against the job (``trigger-unread-parameter``,
            ``trigger-unset-parameter``). Default: none.
        items_per_job: pass up to this many objects to each job (``ItemBatcher``, batches capped at
            :data:`MAX_BATCH_INPUT_BYTES`). Default: none, one job per object.
        max_concurrency: child executions (so jobs) running at once, 1-10,000. Default:
            :func:`default_max_concurrency` (what the queue's compute can run at once, at most 1,000).
        tolerated_failure_percentage / tolerated_failure_count: how many items may fail (0-100 %, a count >= 0)
            before the whole fan-out fails. Default: 0 (any failed job fails the run, and the failure alert fires).
        share_identifier / scheduling_priority_override: for a fair-share queue (``share-identifier``): required
            there, refused elsewhere. Default: none.
        overrides: per-submission changes (:class:`JobOverrides`). Default: none.
        timeout: the execution timeout (60 s to 1 year). Default: :data:`DEFAULT_EXECUTION_TIMEOUT` (7 days).
        failure_topic / log_retention / encryption_key: as for ``BatchJobStateMachine`` (a new encrypted topic, one
            year, the stack's shared key).
        """
        super().__init__(scope, construct_id)
        target, problems = queue_problems(job, queue, "S3FanOut", self)
        problems += self._source_problems(prefix, manifest_key, manifest_format, key_field)
        problems += _timeout_problems("", timeout)
        if max_concurrency is not None and is_known(max_concurrency):
            problems += _rules.int_range(
                registry.FAN_OUT_CONCURRENCY,
                "max_concurrency",
                max_concurrency,
                1,
                MAX_CONCURRENCY,
                "use 1-10,000 (Step Functions' Distributed Map limit), or leave it unset for the queue's capacity",
            )
        if is_known(tolerated_failure_percentage):
            problems += _rules.int_range(
                registry.FAN_OUT_TOLERATED_FAILURES,
                "tolerated_failure_percentage",
                tolerated_failure_percentage,
                0,
                100,
                "use 0-100",
            )
        if is_known(tolerated_failure_count) and tolerated_failure_count < 0:
            problems.append(
                registry.FAN_OUT_TOLERATED_FAILURES.fix(
                    f"tolerated_failure_count={tolerated_failure_count}; a count cannot be negative", "use 0 or more"
                )
            )
        if items_per_job is not None and is_known(items_per_job) and items_per_job < 1:
            problems.append(
                registry.FAN_OUT_BATCHING.fix(
                    f"items_per_job={items_per_job}; each job needs at least one object",
                    "use 1 or more, or leave it unset for one job per object",
                )
            )
        names = (
            {"keys_parameter": keys_parameter}
            if items_per_job is not None
            else {"bucket_parameter": bucket_parameter, "key_parameter": key_parameter}
        )
        names.update({f"parameters[{k!r}]": k for k in parameters or {}})
        problems += parameter_problems(names)
        supplied = {**(parameters or {}), **{v: "" for v in names.values()}}
        problems += job_parameter_problems(job, "S3FanOut", supplied, complete=True)
        if target is not None:
            problems += share_problems(self, target, "S3FanOut", share_identifier, scheduling_priority_override, job)
            if overrides is not None:
                problems += overrides.problems(job, target, "")
        raise_if_any(self, problems)
        assert target is not None

        self.job: AnyJob = job
        self.queue: Queue = target
        self.max_concurrency: int = (
            max_concurrency if max_concurrency is not None else default_max_concurrency(job, target)
        )
        self._create_common(failure_topic=failure_topic, log_retention=log_retention, encryption_key=encryption_key)
        assert isinstance(self.role, _FanOutRole)

        manifest = manifest_key is not None
        item = "$$.Map.Item.Value"
        key_path = f"{item}.{'Key' if manifest_format == 'inventory' else key_field}" if manifest else f"{item}.Key"
        selector: dict[str, object] = {"key": sfn.JsonPath.string_at(key_path)}
        if manifest and manifest_format == "inventory":
            selector["bucket"] = sfn.JsonPath.string_at(f"{item}.Bucket")
        else:
            selector["bucket"] = bucket.bucket_name
        if items_per_job is not None:
            job_parameters = {keys_parameter: sfn.JsonPath.json_to_string(sfn.JsonPath.object_at("$.Items"))}
        else:
            job_parameters = {
                bucket_parameter: sfn.JsonPath.string_at("$.bucket"),
                key_parameter: sfn.JsonPath.string_at("$.key"),
            }
        job_parameters.update(parameters or {})
        submit = self._submit(
            "SubmitJob",
            state_name="SubmitJob",
            job=job,
            queue=target,
            parameters=job_parameters,
            array_size=None,
            timeout=job_state_timeout(job),
            result_path="$.job",
            share_identifier=share_identifier,
            scheduling_priority_override=scheduling_priority_override,
            overrides=overrides,
            catch=False,
        )
        self.fan_out = sfn.DistributedMap(
            self,
            "FanOut",
            state_name="FanOut",
            comment=f"One AWS Batch job per {'batch of objects' if items_per_job else 'object'}",
            item_reader=self._reader(bucket, prefix, manifest_key, manifest_format),
            item_selector=selector,
            item_batcher=sfn.ItemBatcher(
                max_items_per_batch=items_per_job, max_input_bytes_per_batch=MAX_BATCH_INPUT_BYTES
            )
            if items_per_job is not None
            else None,
            max_concurrency=self.max_concurrency,
            tolerated_failure_percentage=tolerated_failure_percentage or None,
            tolerated_failure_count=tolerated_failure_count or None,
            map_execution_type=sfn.StateMachineType.STANDARD,
            result_path=sfn.JsonPath.DISCARD,
        )
        # Each child's output is just its job id (the map's results are discarded: the output of thousands of
        # children would pass Step Functions' 256 KiB state payload limit).
        self.fan_out.item_processor(submit)
        self.fan_out.add_catch(self._failure, errors=[sfn.Errors.ALL], result_path="$.error")
        self._grant_s3(bucket, prefix, manifest_key, manifest_format)
        self._create_machine(
            self.fan_out,
            timeout or DEFAULT_EXECUTION_TIMEOUT,
            f"Runs the AWS Batch job {job.node.path} once per S3 object (batch-constructs)",
        )
        self.role.readers_bound()
        self.distributed_map_policy = self._child_execution_policy()

    @staticmethod
    def _source_problems(prefix: str, manifest_key: str | None, manifest_format: str, key_field: str) -> list[str]:
        problems: list[str] = []
        if manifest_key is not None and prefix:
            problems.append(
                registry.FAN_OUT_SOURCE.fix(
                    f"both prefix={prefix!r} and manifest_key={manifest_key!r}; the map reads one source",
                    "pass prefix= to list objects, or manifest_key= to read a manifest",
                )
            )
        if manifest_key is not None and is_known(manifest_key) and not manifest_key:
            problems.append(registry.FAN_OUT_SOURCE.fix("manifest_key=''", "name the manifest object's key"))
        if manifest_format not in _FORMATS:
            problems.append(
                registry.FAN_OUT_SOURCE.fix(
                    f"manifest_format={manifest_format!r}", f"use one of {', '.join(map(repr, _FORMATS))}"
                )
            )
        if not _FIELD.match(key_field):
            problems.append(
                registry.FAN_OUT_SOURCE.fix(
                    f"key_field={key_field!r} cannot be read as a JSONPath field (letters, digits and '_' only)",
                    "rename the column or field, e.g. 'Key'",
                )
            )
        return problems

    @staticmethod
    def _reader(bucket: s3.IBucket, prefix: str, manifest_key: str | None, manifest_format: str) -> sfn.IItemReader:
        if manifest_key is None:
            return sfn.S3ObjectsItemReader(bucket=bucket, prefix=prefix or None)
        if manifest_format == "csv":
            return sfn.S3CsvItemReader(bucket=bucket, key=manifest_key, csv_headers=sfn.CsvHeaders.use_first_row())
        if manifest_format == "json":
            return sfn.S3JsonItemReader(bucket=bucket, key=manifest_key)
        return sfn.S3ManifestItemReader(bucket=bucket, key=manifest_key)

    def _grant_s3(self, bucket: s3.IBucket, prefix: str, manifest_key: str | None, manifest_format: str) -> None:
        """What the reader needs, no more: list under the prefix, or read the one manifest object."""
        assert isinstance(self.role, _FanOutRole)
        if manifest_key is None:
            self.role.grant_exact(
                iam.PolicyStatement(
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                    conditions={"StringEquals": {"s3:prefix": prefix}} if prefix else None,
                )
            )
            return
        resources = [bucket.arn_for_objects(manifest_key)]
        data = inventory_data_prefix(manifest_key) if manifest_format == "inventory" else None
        if data is not None:
            resources.append(bucket.arn_for_objects(f"{data}*"))
        self.role.grant_exact(iam.PolicyStatement(actions=["s3:GetObject"], resources=resources))
        if data is not None:
            policy = self.role.managed_policy
            assert policy is not None
            acknowledge(
                policy,
                resource_finding(policy, bucket.arn_for_objects(f"{data}*")),
                "An S3 Inventory manifest names its data files (CSV) under the inventory configuration's data/ "
                "prefix, with names S3 chooses per report; the reader reads them, and nothing else in the bucket.",
            )
        if bucket.encryption_key is not None:
            self.role.grant_exact(
                iam.PolicyStatement(actions=["kms:Decrypt"], resources=[bucket.encryption_key.key_arn])
            )

    def _child_execution_policy(self) -> iam.ManagedPolicy:
        """Distributed Map's permissions on this state machine, in a managed policy instead of the L2's inline one.

        A separate policy: the state machine depends on the role's main policy (its logging permissions are checked
        at creation), so that policy cannot name the state machine's ARN without a dependency cycle.
        """
        self.state_machine.node.try_remove_child("DistributedMapPolicy")
        stack = Stack.of(self)
        name = self.state_machine.state_machine_name
        executions = [
            stack.format_arn(
                service="states",
                resource="execution",
                resource_name=f"{name}{suffix}",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for suffix in (":*", "/*")
        ]
        policy = iam.ManagedPolicy(
            self,
            "DistributedMapPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    actions=["states:StartExecution"], resources=[self.state_machine.state_machine_arn]
                ),
                iam.PolicyStatement(actions=["states:DescribeExecution", "states:StopExecution"], resources=executions),
            ],
        )
        for arn in executions:
            acknowledge(
                policy,
                resource_finding(policy, arn),
                "Distributed Map starts child executions of this state machine and watches and stops them; their "
                "names exist only at run time, so the resource is this state machine's executions (Step Functions' "
                "documented policy for Distributed Map states). Nothing outside this state machine is granted.",
            )
        return policy
