"""Submit a Batch job for each object uploaded to an S3 bucket: S3 -> EventBridge -> Batch, with no Lambda.

The bucket sends its events to EventBridge; an EventBridge rule matches ``Object Created`` events of that bucket
(optionally filtered by key prefix and suffix) and submits the job through a Batch target whose input transformer
maps the event's ``detail.bucket.name`` and ``detail.object.key`` to two job parameters, read as ``Ref::bucket`` and
``Ref::key`` in the job's command. AWS documents this pattern in the Batch user guide ("Passing event information to
an AWS Batch target using the EventBridge input transformer": the input becomes ``{"Parameters": {...}}`` of the
SubmitJob call).

Things worth knowing before using it:

* S3 delivers events at least once: a job must tolerate running twice for the same object.
* A job that writes its output back into the same bucket under a key that matches the filters triggers itself for
  ever. Give outputs a prefix the filters exclude (or another bucket).
* Keys with spaces or special characters may arrive URL-encoded (``my file.csv`` as ``my+file.csv``); decode with
  ``urllib.parse.unquote_plus`` in the job if such keys can occur.
* EventBridge retries delivery (default 185 attempts over 24 hours) and then puts the event into the dead-letter
  queue, so a submission that fails (throttling, a disabled queue) is never silently lost.
* The event names a key, and the job runs minutes later: by then the key may hold another upload. Pass
  ``version_parameter=`` (with a versioned bucket) and read that version, so that every upload is processed as it was
  (the file scanner does: a secret uploaded and quickly overwritten is still scanned).
* A fair-share queue is refused at synth (rule ``share-identifier``): an EventBridge rule's Batch target cannot carry
  a share identifier (``AWS::Events::Rule`` ``BatchParameters`` has only JobName, JobDefinition, ArrayProperties and
  RetryStrategy), so every submission would fail. Route uploads through a
  :class:`~batch_constructs.triggers.LambdaSubmitter` (``share_identifier=``, invoked by S3 or EventBridge) or a
  :class:`~batch_constructs.triggers.BatchJobStateMachine` (``share_identifier=``) started by a rule instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from .._internal import dlq as _dlq
from .._internal.iam import ManagedPolicyRole, service_principal
from .._internal.memo import adopt_stack
from .._internal.s3 import enable_event_bridge
from .._internal.validation import is_known, raise_if_any, warn
from ..model import registry
from ..model import rules as _rules
from ..queue import KnownQueue
from ..types import Queue
from ._common import (
    AnyJob,
    acknowledge_complete_parameters,
    job_command,
    job_parameter_problems,
    parameter_problems,
)
from ._targets import BatchJobTarget

__all__ = ["S3UploadTrigger"]

#: EventBridge allows at most this many values for one field of a pattern; more combinations should be a prefix.
_MAX_KEY_FILTERS = 100


def _escape_wildcard(text: str) -> str:
    """Escape EventBridge wildcard metacharacters, so a literal ``*`` in a prefix does not match anything."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


def key_filter(prefixes: Sequence[str], suffixes: Sequence[str]) -> list[Any] | None:
    """The EventBridge ``detail.object.key`` matchers: any prefix AND any suffix (None: every key).

    Matchers listed for one field are OR-ed by EventBridge, so "prefix AND suffix" becomes one wildcard per
    (prefix, suffix) pair (``in/*.csv``).
    """
    if prefixes and suffixes:
        return [
            events.Match.wildcard(f"{_escape_wildcard(p)}*{_escape_wildcard(s)}")[0] for p in prefixes for s in suffixes
        ]
    if prefixes:
        return [events.Match.prefix(p)[0] for p in prefixes]
    if suffixes:
        return [events.Match.suffix(s)[0] for s in suffixes]
    return None


def filter_problems(prefixes: Sequence[str], suffixes: Sequence[str]) -> list[str]:
    """``trigger-filters``: non-empty strings, no leading ``/`` on prefixes, a bounded number of combinations."""
    problems: list[str] = []
    for kind, values in (("prefixes", prefixes), ("suffixes", suffixes)):
        if isinstance(values, str):
            problems.append(
                registry.TRIGGER_FILTERS.fix(f"{kind}={values!r} is a string", f"pass a list: {kind}=[{values!r}]")
            )
            continue
        for value in values:
            if not is_known(value):
                problems.append(
                    registry.TRIGGER_FILTERS.fix(
                        f"{kind} contains a token; EventBridge patterns need literal text",
                        "pass literal strings",
                    )
                )
            elif value == "":
                problems.append(
                    registry.TRIGGER_FILTERS.fix(f"{kind} contains an empty string", "drop it (it matches every key)")
                )
    if not isinstance(prefixes, str):
        for prefix in prefixes:
            if isinstance(prefix, str) and prefix.startswith("/"):
                problems.append(
                    registry.TRIGGER_FILTERS.fix(
                        f"prefix {prefix!r} starts with '/'; S3 keys do not, so it never matches",
                        f"use {prefix.lstrip('/')!r}",
                    )
                )
    combinations = max(len(prefixes), 1) * max(len(suffixes), 1)
    if not isinstance(prefixes, str) and not isinstance(suffixes, str) and combinations > _MAX_KEY_FILTERS:
        problems.append(
            registry.TRIGGER_FILTERS.fix(
                f"{len(prefixes)} prefixes x {len(suffixes)} suffixes = {combinations} key patterns; "
                f"at most {_MAX_KEY_FILTERS}",
                "use a common prefix, or fewer suffixes",
            )
        )
    return problems


class S3UploadTrigger(Construct):
    """Submit ``job`` once for every object created in ``bucket`` (optionally only under some prefixes/suffixes).

    Example::

        job = ContainerJob(self, "Convert", image=..., queue=platform.queue,
                           command=["python", "-m", "convert", "--bucket", "Ref::bucket", "--key", "Ref::key"])
        S3UploadTrigger(self, "OnUpload", bucket=bucket, job=job, prefixes=["incoming/"], suffixes=[".csv"])

    Attributes:
        rule: the EventBridge rule (child ``Rule``).
        role: the role EventBridge assumes to submit the job (child ``Role``): ``batch:SubmitJob`` on the queue and
            ``job-definition/NAME:*`` only, in a managed policy.
        dead_letter_queue: where events go that EventBridge could not turn into a job.
        event_bridge_enabled: True when this construct turned on the bucket's EventBridge notifications, False for an
            imported bucket (whose owner must do it).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        job: AnyJob,
        queue: Queue | None = None,
        prefixes: Sequence[str] = (),
        suffixes: Sequence[str] = (),
        bucket_parameter: str = "bucket",
        key_parameter: str = "key",
        version_parameter: str | None = None,
        extra_parameters: Mapping[str, str] | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        job_name: str | None = None,
        retry_attempts: int | None = None,
        max_event_age: Duration | None = None,
        enabled: bool = True,
    ) -> None:
        """Args:
        bucket: the bucket to watch. A bucket defined in this app gets its EventBridge notifications turned on here;
            an imported one must have them on already (a warning says so).
        job: a ContainerJob, MultiNodeJob or ImportedJob whose command reads ``Ref::<bucket_parameter>`` and
            ``Ref::<key_parameter>``.
        queue: Default: the job's queue (one of the two is required). Not a fair-share queue (see the module
            docstring).
        prefixes: key prefixes, any of which matches (e.g. ``["incoming/"]``). Default: none (every key).
        suffixes: key suffixes, any of which matches (e.g. ``[".csv", ".csv.gz"]``). With prefixes, a key must match
            a prefix AND a suffix. Default: none (every key).
        bucket_parameter / key_parameter: the job parameters that receive the bucket name and object key.
            Default: ``bucket`` and ``key``.
        version_parameter: a job parameter that receives the object's version id (``detail.object.version-id``),
            so that the job reads exactly the version that was uploaded, not whatever the key holds when the job
            starts (an object overwritten in between would otherwise never be processed). S3 puts a version id in
            the event only for a versioned bucket: a warning says so when the bucket is defined here without
            versioning. Default: none (the job reads the current version).
        extra_parameters: more parameters for every submission: literal strings, or another string field of the
            event, e.g. ``events.EventField.from_path("$.detail.object.etag")`` (Batch parameters are strings: a
            numeric field such as ``object.size`` would reach SubmitJob as a number). Default: none.
        dead_letter_queue: Default: a new queue (KMS-encrypted with the stack's key, TLS only, 14 days).
        job_name: the submitted jobs' name. Default: this construct's id (Batch names need not be unique).
        retry_attempts / max_event_age: EventBridge's delivery retries before the dead-letter queue. Default: AWS's
            (185 attempts over 24 hours), enough to ride out Batch API throttling.
        enabled: Default: True. False creates the rule disabled.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope, construct_id)
        extra = dict(extra_parameters or {})
        names = {"bucket_parameter": bucket_parameter, "key_parameter": key_parameter}
        if version_parameter is not None:
            names["version_parameter"] = version_parameter
        names.update({f"extra_parameters[{k!r}]": k for k in extra})
        problems = filter_problems(prefixes, suffixes) + parameter_problems(names)
        problems += _rules.job_name(job_name)
        if queue is None and job.queue is None:
            problems.append(
                registry.TRIGGER_QUEUE.fix(
                    f"job {job.node.path} has no queue and none was passed",
                    "pass queue= here, or queue= to the job",
                )
            )
        target = queue or job.queue
        if isinstance(target, KnownQueue) and target.fair_share:
            problems.append(
                registry.SHARE_IDENTIFIER.fix(
                    f"queue {target.node.path} schedules by fair share, and an EventBridge rule cannot pass the share "
                    "identifier SubmitJob then requires (AWS::Events::Rule BatchParameters has no such field)",
                    "submit uploads through LambdaSubmitter(share_identifier=...) with the bucket's notifications, or "
                    "a BatchJobStateMachine(share_identifier=...) started by an EventBridge rule; or use a queue "
                    "without fair share",
                )
            )
        passed = {bucket_parameter: "", key_parameter: "", **extra}
        if version_parameter is not None:
            passed[version_parameter] = ""
        problems += job_parameter_problems(
            job, "S3UploadTrigger", passed, complete=True, may_be_unread=(bucket_parameter, key_parameter)
        )
        raise_if_any(self, problems)

        if not prefixes and not suffixes:
            warn(
                self,
                registry.TRIGGER_UNFILTERED_WARNING,
                "no prefixes or suffixes: every object created in the bucket submits a job, including any object the "
                "job writes back to it (a loop). Filter the inputs with prefixes=[...] if the job writes to this "
                "bucket.",
            )
        command = job_command(job)
        if command is not None and is_known(*command):
            text = " ".join(command)
            given = [bucket_parameter, key_parameter, *([version_parameter] if version_parameter else [])]
            missing = [p for p in given if f"Ref::{p}" not in text]
            acknowledge_complete_parameters(
                job, dict.fromkeys([*given, *extra], ""), f"S3UploadTrigger {self.node.path}"
            )
            if missing:
                warn(
                    self,
                    registry.TRIGGER_PARAMETERS_WARNING,
                    f"job {job.node.path}'s command does not reference {' or '.join('Ref::' + m for m in missing)}: "
                    "the job will not see which object to process. Add them to the command, or rename "
                    "bucket_parameter / key_parameter / version_parameter to what the command uses.",
                )
        if version_parameter is not None and isinstance(bucket, s3.Bucket) and not _versioned(bucket):
            warn(
                self,
                registry.TRIGGER_PARAMETERS_WARNING,
                f"version_parameter={version_parameter!r}, but bucket {bucket.node.path} is not versioned: S3 events "
                "of an unversioned bucket carry no version id. Pass versioned=True to the bucket.",
            )

        self.event_bridge_enabled = enable_event_bridge(self, bucket)
        if dead_letter_queue is None:
            dead_letter_queue = _dlq.new_dead_letter_queue(self, "DeadLetterQueue")
        self.dead_letter_queue: sqs.IQueue = dead_letter_queue
        self.role: iam.IRole = ManagedPolicyRole(
            self,
            "Role",
            assumed_by=service_principal("events.amazonaws.com"),
            description="Lets EventBridge submit one Batch job definition to one queue when an object is uploaded",
        )

        detail: dict[str, Any] = {"bucket": {"name": [bucket.bucket_name]}}
        key_matchers = key_filter(prefixes, suffixes)
        if key_matchers is not None:
            detail["object"] = {"key": key_matchers}
        self.rule = events.Rule(
            self,
            "Rule",
            description=f"Submit a Batch job for each object uploaded ({self.node.path})",
            enabled=enabled,
            event_pattern=events.EventPattern(source=["aws.s3"], detail_type=["Object Created"], detail=detail),
        )
        parameters: dict[str, str] = {
            bucket_parameter: events.EventField.from_path("$.detail.bucket.name"),
            key_parameter: events.EventField.from_path("$.detail.object.key"),
            **extra,
        }
        if version_parameter is not None:
            parameters[version_parameter] = events.EventField.from_path("$.detail.object.version-id")
        self.target = BatchJobTarget(
            job,
            role=self.role,
            dead_letter_queue=self.dead_letter_queue,
            queue=queue,
            job_name=job_name,
            input=events.RuleTargetInput.from_object({"Parameters": parameters}),
            retry_attempts=retry_attempts,
            max_event_age=max_event_age,
        )
        # BatchJobTarget.bind takes IRule where jsii's IRuleTarget now says IRuleRef (same object at run time).
        self.rule.add_target(self.target)  # type: ignore[arg-type]


def _versioned(bucket: s3.Bucket) -> bool:
    """Whether this app turns versioning on for ``bucket`` (True when it cannot tell: a token)."""
    cfn = bucket.node.default_child
    configuration = getattr(cfn, "versioning_configuration", None)
    if configuration is None:
        return False
    status = getattr(configuration, "status", None)
    if status is None and isinstance(configuration, dict):
        status = configuration.get("status")
    return status is None or not is_known(status) or status == "Enabled"
