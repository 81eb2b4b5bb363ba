"""Submit an AWS Batch job for each record of an event (the default handler of ``LambdaSubmitter``).

Standard library and boto3 only (both ship with the Lambda Python runtime); never aws_cdk.

Configuration (environment variables, set by the construct):

=====================  ===============================================================================================
JOB_QUEUE              queue ARN or name (required)
JOB_DEFINITION         job definition ARN, ``name:revision`` or name (required)
JOB_NAME_PREFIX        start of every job name (default ``job``)
BUCKET_PARAMETER       parameter that receives an S3 object's bucket (default ``bucket``)
KEY_PARAMETER          parameter that receives an S3 object's key (default ``key``)
SHARE_IDENTIFIER       share identifier for fair-share queues (default: none)
SCHEDULING_PRIORITY    scheduling priority override for fair-share queues, 0-9999 (default: none, the job
                       definition's priority)
DEDUPLICATE            ``true`` (default): before submitting a request that came from a repeating source, look for
                       its job on the queue (needs batch:ListJobs); ``false``: only de-duplicate within one invocation
DEAD_LETTER_QUEUE_URL  where malformed requests go, with the reason (default: none - they raise ``BadRequest``)
=====================  ===============================================================================================

Events accepted (one job per record):

* **S3 event notification** (``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}``, also inside an SQS message
  or an SNS notification): parameters ``{bucket, key}``; the key is URL-decoded (S3 encodes it in notifications).
  ``s3:TestEvent`` messages are ignored.
* **EventBridge S3 "Object Created"** (``{"source": "aws.s3", "detail": {"bucket": {...}, "object": {...}}}``):
  parameters ``{bucket, key}``.
* **Any other EventBridge event** whose ``detail`` holds ``parameters`` (a JSON object of strings).
* **A plain request**: ``{"parameters": {"name": "value"}, "jobName": "...", "idempotencyKey": "...",
  "arraySize": 10, "shareIdentifier": "...", "schedulingPriorityOverride": 5}`` (only ``parameters`` is needed).
* **SQS** (``{"Records": [{"eventSource": "aws:sqs", "body": "..."}]}``) whose bodies are any of the above. Messages
  whose job could not be submitted are returned in ``batchItemFailures``; the event source mapping must have
  ``ReportBatchItemFailures`` on (``LambdaSubmitter.add_sqs_source`` does that), or Lambda deletes the whole batch.

**Identity and de-duplication.** AWS Batch has no idempotency token, and S3, SNS, SQS, EventBridge and Lambda's own
asynchronous retries all deliver at least once. Each request therefore has an identity, taken from the event and never
from a name the user chose:

* an S3 object: bucket, key, version id and sequencer (the same upload is one job, a new upload of the key another);
* an EventBridge event: its source and id;
* a plain request: its ``idempotencyKey``; without one, inside SQS or SNS: the message id plus a hash of the body
  (a redelivered message is the same request, two messages are two requests); sent directly: its content.

The job name is ``<prefix or jobName>-<readable part>-<16 hex digits of SHA-256(identity)>``, at most 128 characters,
so the identity is in the name. Within one invocation (the whole SQS batch, every record of a notification), a request
whose identity was already submitted is not submitted again. With ``DEDUPLICATE=true`` (the default) the handler also
asks Batch (ListJobs on the queue, filtered by that name) for every request from a source that repeats (S3, SQS, SNS,
EventBridge, or any request with an ``idempotencyKey``) and skips a name already on the queue in any state but
FAILED. That is what makes a retry after a partial failure safe: the records already submitted are found and skipped,
only the failed ones are submitted. A plain request sent directly without an ``idempotencyKey`` is not looked up
(a scheduler that sends the same input every day means a new job every day).

This is at-least-once with de-duplication, not exactly-once: two concurrent deliveries of one request can both miss
each other's job, and ListJobs lists finished jobs only for a limited time (AWS does not document a fixed period),
so jobs should still be idempotent.

Powertools for AWS Lambda's idempotency utility was considered and not used: it needs a DynamoDB table (a stateful
resource, its permissions and its cost in every app), a dependency or layer in a handler that is otherwise boto3
only, and it still cannot make SubmitJob and the table write atomic; the queue itself already
records what was submitted, under a name derived from the identity.

**Malformed requests** (a type-confused field, a parameter Batch or ECS would reject, an unknown event shape) raise
:class:`BadRequest`. They are not retried: the same input would fail again. With ``DEAD_LETTER_QUEUE_URL`` set, the
handler sends each one to that queue with the reason and returns normally (reporting it under ``rejected``), so
neither Lambda nor SQS retries it; good records of the same event are still submitted. Without it, a malformed direct
event raises and a malformed SQS message is reported as a failure.

**Limits checked on every request** (before any call): job name 128 characters of ``[A-Za-z0-9_-]`` starting with a
letter or digit, array size 2-10,000, share identifier up to 255 letters or digits optionally followed by ``*``,
scheduling priority override 0-9999 (botocore's Batch model, ``SubmitJob``); parameter names usable as ``Ref::name``
(letters, digits, ``_``); parameter names and values together at most 8,192 characters, because Batch substitutes
them into the container's command and ECS allows 8,192 characters of overrides per task (ECS API reference,
``RunTask.overrides``).

**Logs** name each job and its parameters' names and value lengths, never the values: parameters may carry anything.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ParamValidationError

LOGGER = logging.getLogger()
LOGGER.setLevel(logging.INFO)

#: Batch job names: up to 128 characters (botocore Batch model, SubmitJob.jobName).
NAME_MAX = 128
HASH_LENGTH = 16
#: Batch array jobs: 2 to 10,000 children (SubmitJob.arrayProperties).
ARRAY_SIZE_MIN, ARRAY_SIZE_MAX = 2, 10_000
#: ECS allows 8,192 characters of overrides per task; Batch puts the substituted command there.
PARAMETERS_MAX_CHARACTERS = 8192
#: What goes into a dead-letter message at most (SQS takes 256 KiB; leave room for the reasons).
DEAD_LETTER_EVENT_MAX = 200_000
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_PARAMETER_NAME = re.compile(r"[A-Za-z0-9_]+")
_SHARE_IDENTIFIER = re.compile(r"[A-Za-z0-9]{1,255}\*?")
#: SubmitJob.schedulingPriorityOverride: 0-9999 (botocore's Batch model; higher runs first).
SCHEDULING_PRIORITY_MIN, SCHEDULING_PRIORITY_MAX = 0, 9999

_clients: dict[str, Any] = {}


def _client(service: str) -> Any:
    """One client per service and execution environment, created lazily (tests patch AWS first).

    Standard retry mode with 5 attempts: a throttled SubmitJob is retried within the invocation before it counts as
    a failure.
    """
    if service not in _clients:
        new_client: Any = boto3.client  # any service name (the typed overloads want a literal)
        _clients[service] = new_client(service, config=Config(retries={"mode": "standard", "max_attempts": 5}))
    return _clients[service]


class BadRequest(ValueError):
    """An event the handler cannot turn into a job (not retried: the same event would fail again)."""


@dataclass
class Request:
    """One job to submit: what Batch gets, the identity that names it, and whether to look for it on the queue."""

    parameters: dict[str, str]
    readable: str
    identity: str
    repeatable: bool
    job_name: str | None = None
    array_size: int | None = None
    share_identifier: str | None = None
    scheduling_priority: int | None = None
    origin: str = ""

    def name(self, prefix: str) -> str:
        """The job's deterministic name."""
        if self.job_name is not None:
            return job_name(self.job_name, "", self.identity, head_max=NAME_MAX - HASH_LENGTH - 1)
        return job_name(prefix, self.readable, self.identity)


@dataclass
class Outcome:
    """What happened to the requests of one invocation (or one SQS message)."""

    jobs: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[dict[str, str]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)


def sanitize(text: str, max_length: int = NAME_MAX) -> str:
    """Letters, digits, '-' and '_' only, starting with a letter or digit (AWS Batch's job-name rule)."""
    cleaned = _UNSAFE.sub("-", text).strip("-_")
    cleaned = re.sub(r"[-_]{2,}", "-", cleaned)
    return cleaned[:max_length].rstrip("-_")


def digest(identity: str) -> str:
    return hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LENGTH]


def job_name(prefix: str, readable: str, identity: str, head_max: int = 40) -> str:
    """``<prefix>-<readable>-<hash of identity>``: at most 128 characters, the same for the same identity."""
    tail = digest(identity)
    head = sanitize(prefix, head_max) or "job"
    room = NAME_MAX - len(head) - len(tail) - 2
    middle = sanitize(readable, room) if room > 0 else ""
    return f"{head}-{middle}-{tail}" if middle else f"{head}-{tail}"


# ------------------------------------------------------------------------------------------------ parsing


def _text(value: Any, where: str, *, required: bool = True) -> str | None:
    """``value`` as a string: None when absent and not required; BadRequest when of another type or empty."""
    if value is None and not required:
        return None
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be a string, got {type(value).__name__}")
    if required and not value:
        raise BadRequest(f"{where} is empty")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} must be a JSON object, got {type(value).__name__}")
    return value


def _parameters(value: Any, where: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, item in _object(value, where).items():
        if not isinstance(name, str) or not _PARAMETER_NAME.fullmatch(name):
            raise BadRequest(f"{where}: parameter name {name!r} cannot be used as Ref::name (letters, digits, '_')")
        if isinstance(item, bool):
            result[name] = "true" if item else "false"
        elif isinstance(item, int):
            result[name] = str(item)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BadRequest(f"{where}[{name!r}] is not a finite number")
            result[name] = str(item)
        elif isinstance(item, str):
            result[name] = item
        else:
            raise BadRequest(f"{where}[{name!r}] must be a string or number, got {type(item).__name__}")
    check_parameters(result, where)
    return result


def check_parameters(parameters: dict[str, str], where: str) -> None:
    """The limits Batch and ECS put on parameters (see the module docstring)."""
    size = sum(len(k) + len(v) for k, v in parameters.items())
    if size > PARAMETERS_MAX_CHARACTERS:
        raise BadRequest(
            f"{where}: parameters hold {size} characters; Batch substitutes them into the container command and ECS "
            f"allows {PARAMETERS_MAX_CHARACTERS} characters of overrides. Pass a reference (an S3 key) instead."
        )
    for name, value in parameters.items():
        if "\x00" in value:
            raise BadRequest(f"{where}[{name!r}] contains a NUL character")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise BadRequest(f"{where}[{name!r}] is not valid Unicode (a lone surrogate)") from None


def _hash_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def _s3_request(bucket: Any, key: str, version: Any, sequencer: Any, config: dict[str, str], where: str) -> Request:
    bucket = _text(bucket, f"{where} bucket name")
    version = _text(version, f"{where} version id", required=False)
    sequencer = _text(sequencer, f"{where} sequencer", required=False)
    parameters = {config["bucket_parameter"]: str(bucket), config["key_parameter"]: key}
    check_parameters(parameters, where)
    basename = key.rstrip("/").rsplit("/", 1)[-1]
    return Request(
        parameters=parameters,
        readable=basename.rsplit(".", 1)[0] if "." in basename else basename,
        identity=json.dumps(["s3", bucket, key, version or "", sequencer or ""]),
        repeatable=True,
        origin=f"s3://{bucket}/{key}"[:300],
    )


def _plain_request(event: dict[str, Any], delivery: tuple[str, str] | None) -> Request:
    """``{"parameters": ..., "jobName", "idempotencyKey", "arraySize", "shareIdentifier",
    "schedulingPriorityOverride"}``.

    ``delivery`` is (message id, body) when the request came in an SQS or SNS message.
    """
    parameters = _parameters(event["parameters"], "parameters")
    name = _text(event.get("jobName"), "jobName", required=False)
    if name is not None and not sanitize(name):
        raise BadRequest(f"jobName {name!r} has no letter or digit")
    key = _text(event.get("idempotencyKey"), "idempotencyKey", required=False)
    size = event.get("arraySize")
    if size is not None and (
        not isinstance(size, int) or isinstance(size, bool) or not ARRAY_SIZE_MIN <= size <= ARRAY_SIZE_MAX
    ):
        raise BadRequest(f"arraySize must be an integer {ARRAY_SIZE_MIN}-{ARRAY_SIZE_MAX}, got {size!r}")
    share = _text(event.get("shareIdentifier"), "shareIdentifier", required=False)
    if share is not None and not _SHARE_IDENTIFIER.fullmatch(share):
        raise BadRequest(f"shareIdentifier {share!r}: up to 255 letters or digits, optionally followed by '*'")
    priority = event.get("schedulingPriorityOverride")
    if priority is not None and not _is_scheduling_priority(priority):
        raise BadRequest(
            f"schedulingPriorityOverride must be an integer {SCHEDULING_PRIORITY_MIN}-{SCHEDULING_PRIORITY_MAX}, "
            f"got {priority!r}"
        )
    content: dict[str, Any] = {"parameters": parameters, "jobName": name, "arraySize": size, "shareIdentifier": share}
    if priority is not None:
        # Only when given, so requests (and their identities) from before this field keep their job names.
        content["schedulingPriorityOverride"] = priority
    if key:
        identity, repeatable = json.dumps(["key", key]), True
    elif delivery is not None:
        identity, repeatable = json.dumps(["message", delivery[0], _hash_json(delivery[1])]), True
    else:
        identity, repeatable = json.dumps(["request", _hash_json(content)]), False
    return Request(
        parameters=parameters,
        readable="",
        identity=identity,
        repeatable=repeatable,
        job_name=name,
        array_size=size,
        share_identifier=share,
        scheduling_priority=priority,
        origin="request",
    )


def _is_scheduling_priority(value: object) -> bool:
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and SCHEDULING_PRIORITY_MIN <= value <= SCHEDULING_PRIORITY_MAX
    )


def requests_from(event: Any, config: dict[str, str], delivery: tuple[str, str] | None = None) -> list[Request]:
    """The job requests in ``event``. Raises :class:`BadRequest` at the first malformed part."""
    found: list[Request] = []
    for item in parse(event, config, delivery):
        if isinstance(item, BadRequest):
            raise item
        found.append(item)
    return found


def parse(event: Any, config: dict[str, str], delivery: tuple[str, str] | None = None) -> list[Request | BadRequest]:
    """The job requests in ``event``, each malformed record as a :class:`BadRequest` in its place (never raises one).

    ``delivery`` is (message id, body) of the SQS or SNS message ``event`` came in, if any.
    """
    try:
        return _parse(event, config, delivery)
    except BadRequest as error:
        return [error]
    except RecursionError:
        return [BadRequest("the event is nested too deeply")]


def _parse(event: Any, config: dict[str, str], delivery: tuple[str, str] | None) -> list[Request | BadRequest]:
    event = _object(event, "the event")
    if event.get("Event") == "s3:TestEvent":
        return []
    if "Records" in event:
        records = event["Records"]
        if not isinstance(records, list):
            raise BadRequest(f"Records must be a list, got {type(records).__name__}")
        found: list[Request | BadRequest] = []
        for index, record in enumerate(records):
            try:
                found += _from_record(record, config, f"Records[{index}]")
            except BadRequest as error:
                found.append(error)
        return found
    if event.get("source") == "aws.s3" and "detail" in event:
        detail = _object(event["detail"], "detail")
        obj = _object(detail.get("object"), "detail.object")
        key = _text(obj.get("key"), "detail.object.key")
        return [
            _s3_request(
                _object(detail.get("bucket"), "detail.bucket").get("name"),
                str(key),
                obj.get("version-id"),
                obj.get("sequencer"),
                config,
                "detail",
            )
        ]
    if "detail-type" in event and "detail" in event:
        detail = _object(event["detail"], "detail")
        if "parameters" not in detail:
            raise BadRequest(f"EventBridge event {str(event.get('detail-type'))[:100]!r} has no detail.parameters")
        event_id = _text(event.get("id"), "id", required=False)
        source = str(event.get("source", ""))
        return [
            Request(
                parameters=_parameters(detail["parameters"], "detail.parameters"),
                readable=str(event.get("detail-type", "")),
                identity=json.dumps(["event", source, event_id or _hash_json(event)]),
                repeatable=True,
                origin=f"event {source} {event_id}"[:300],
            )
        ]
    if "parameters" in event:
        return [_plain_request(event, delivery)]
    raise BadRequest(
        "unrecognised event: expected an S3 notification, an EventBridge event, an SQS batch of those, or "
        '{"parameters": {...}}'
    )


def _from_record(record: Any, config: dict[str, str], where: str) -> list[Request | BadRequest]:
    record = _object(record, where)
    source = record.get("eventSource") or record.get("EventSource")
    if source == "aws:s3":
        s3 = _object(record.get("s3"), f"{where}.s3")
        obj = _object(s3.get("object"), f"{where}.s3.object")
        try:
            key = urllib.parse.unquote_plus(str(_text(obj.get("key"), f"{where}.s3.object.key")), errors="strict")
        except UnicodeDecodeError:
            raise BadRequest(f"{where}.s3.object.key is not URL-encoded UTF-8") from None
        bucket = _object(s3.get("bucket"), f"{where}.s3.bucket").get("name")
        return [_s3_request(bucket, key, obj.get("versionId"), obj.get("sequencer"), config, where)]
    if source == "aws:sns":
        sns = _object(record.get("Sns"), f"{where}.Sns")
        body = str(_text(sns.get("Message"), f"{where}.Sns.Message"))
        message_id = str(_text(sns.get("MessageId"), f"{where}.Sns.MessageId", required=False) or "")
        return _parse(_json(body, "SNS message"), config, (message_id, body))
    if source == "aws:sqs":
        body = str(_text(record.get("body"), f"{where}.body"))
        message_id = str(_text(record.get("messageId"), f"{where}.messageId", required=False) or "")
        return _parse(_json(body, "SQS message body"), config, (message_id, body))
    raise BadRequest(f"unsupported record source {str(source)[:100]!r}")


def _json(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise BadRequest(f"{what} is not JSON: {str(error)[:200]}") from None


# ------------------------------------------------------------------------------------------------ submitting


def _config() -> dict[str, str]:
    return {
        "queue": os.environ["JOB_QUEUE"],
        "definition": os.environ["JOB_DEFINITION"],
        "prefix": os.environ.get("JOB_NAME_PREFIX", "job"),
        "bucket_parameter": os.environ.get("BUCKET_PARAMETER", "bucket"),
        "key_parameter": os.environ.get("KEY_PARAMETER", "key"),
        "share_identifier": os.environ.get("SHARE_IDENTIFIER", ""),
        "scheduling_priority": os.environ.get("SCHEDULING_PRIORITY", ""),
        "deduplicate": os.environ.get("DEDUPLICATE", "true").strip().lower(),
        "dead_letter_queue": os.environ.get("DEAD_LETTER_QUEUE_URL", ""),
    }


def _already_queued(name: str, config: dict[str, str]) -> str | None:
    """The id of a job on the queue named ``name`` that did not fail, or None."""
    pages = (
        _client("batch")
        .get_paginator("list_jobs")
        .paginate(jobQueue=config["queue"], filters=[{"name": "JOB_NAME", "values": [name]}])
    )
    for page in pages:
        for summary in page.get("jobSummaryList", []):
            if summary.get("jobName") == name and summary.get("status") != "FAILED":
                return str(summary["jobId"])
    return None


def describe_parameters(parameters: dict[str, str]) -> str:
    """Parameter names and value lengths, for the log (values may be secret or huge)."""
    shown = ", ".join(f"{k} ({len(v)} chars)" for k, v in list(parameters.items())[:20])
    more = len(parameters) - 20
    return shown + (f" and {more} more" if more > 0 else "")


def submit(request: Request, config: dict[str, str]) -> dict[str, Any]:
    """Submit one request (or skip it as a duplicate on the queue); returns what was done."""
    name = request.name(config["prefix"])
    if config["deduplicate"] == "true" and request.repeatable:
        existing = _already_queued(name, config)
        if existing is not None:
            LOGGER.info("skipped duplicate %s (job %s is already on the queue)", name, existing)
            return {"jobName": name, "jobId": existing, "duplicate": True}
    kwargs: dict[str, Any] = {
        "jobName": name,
        "jobQueue": config["queue"],
        "jobDefinition": config["definition"],
        "parameters": request.parameters,
    }
    share = request.share_identifier or config["share_identifier"]
    if share:
        kwargs["shareIdentifier"] = share
    priority = request.scheduling_priority
    if priority is None and config.get("scheduling_priority"):
        priority = int(config["scheduling_priority"])
    if priority is not None:
        kwargs["schedulingPriorityOverride"] = priority
    if request.array_size is not None:
        kwargs["arrayProperties"] = {"size": request.array_size}
    try:
        response = _client("batch").submit_job(**kwargs)
    except ParamValidationError as error:
        raise BadRequest(f"SubmitJob rejected the request: {str(error)[:300]}") from None
    LOGGER.info(
        "submitted %s as job %s; parameters: %s",
        name,
        response["jobId"],
        describe_parameters(request.parameters),
    )
    return {"jobName": name, "jobId": response["jobId"], "parameters": request.parameters, "duplicate": False}


def submit_all(items: list[Request | BadRequest], config: dict[str, str], seen: dict[str, dict[str, Any]]) -> Outcome:
    """Submit every request once; ``seen`` maps the identities already submitted in this invocation to their job.

    A failed submission does not stop the others: each request is submitted, skipped, rejected or failed on its own.
    """
    outcome = Outcome()
    for item in items:
        if isinstance(item, BadRequest):
            outcome.rejected.append({"error": str(item)})
            continue
        if item.identity in seen:
            outcome.jobs.append({**seen[item.identity], "duplicate": True})
            continue
        try:
            job = submit(item, config)
        except BadRequest as error:
            outcome.rejected.append({"error": str(error), "request": item.origin})
        except Exception as error:  # throttling after the retries, a disabled queue, ...: retried as a whole
            LOGGER.warning("submitting %s failed: %s: %s", item.origin, type(error).__name__, str(error)[:500])
            outcome.failed.append({"error": f"{type(error).__name__}: {str(error)[:500]}", "request": item.origin})
        else:
            seen[item.identity] = {"jobName": job["jobName"], "jobId": job["jobId"]}
            outcome.jobs.append(job)
    return outcome


def _dead_letter(payload: Any, reasons: list[dict[str, str]], config: dict[str, str]) -> bool:
    """Send ``payload`` and why it was rejected to the dead-letter queue; False when there is none or it failed."""
    if not config["dead_letter_queue"]:
        return False
    event_text = json.dumps(payload, ensure_ascii=True, default=str)
    if len(event_text) > DEAD_LETTER_EVENT_MAX:
        event_text = json.dumps({"truncated": event_text[:DEAD_LETTER_EVENT_MAX]})
    body = json.dumps({"rejected": reasons[:50], "event": json.loads(event_text)}, ensure_ascii=True)
    try:
        _client("sqs").send_message(QueueUrl=config["dead_letter_queue"], MessageBody=body)
    except Exception:
        LOGGER.exception("could not send a rejected request to the dead-letter queue")
        return False
    LOGGER.warning("sent %d malformed request(s) to the dead-letter queue: %s", len(reasons), reasons[0]["error"])
    return True


class SubmitFailed(RuntimeError):
    """Some jobs could not be submitted: raised so that Lambda retries the event (the submitted ones are skipped)."""


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: submit one job per request in ``event``; returns the jobs submitted, skipped and rejected.

    For SQS events, a message whose job could not be submitted is returned in ``batchItemFailures`` (only it is
    retried). For other events, a failed submission raises :class:`SubmitFailed` after every other request was tried,
    so Lambda retries the event; the jobs already submitted are then found on the queue and not submitted again.
    Malformed requests go to the dead-letter queue (see the module docstring).
    """
    config = _config()
    records = event.get("Records") if isinstance(event, dict) else None
    if (
        isinstance(records, list)
        and records
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    ):
        return _handle_sqs(records, config)
    outcome = submit_all(parse(event, config), config, {})
    if outcome.rejected and not _dead_letter(event, outcome.rejected, config):
        if not outcome.jobs and not outcome.failed:
            raise BadRequest("; ".join(r["error"] for r in outcome.rejected)[:2000])
        outcome.failed += outcome.rejected  # no dead-letter queue: fail, so that the event is not lost silently
    if outcome.failed:
        raise SubmitFailed(
            f"{len(outcome.failed)} job(s) could not be submitted ({len(outcome.jobs)} were, or already existed): "
            + "; ".join(f["error"] for f in outcome.failed)[:2000]
        )
    return {"jobs": outcome.jobs, "rejected": outcome.rejected}


def _handle_sqs(records: list[dict[str, Any]], config: dict[str, str]) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = []
    rejected: list[dict[str, str]] = []
    failures: list[dict[str, str]] = []
    seen: dict[str, dict[str, Any]] = {}  # shared by the whole batch
    for index, record in enumerate(records):
        message_id = str(record.get("messageId", ""))
        outcome = submit_all(_safe_record(record, config, index), config, seen)
        jobs += outcome.jobs
        if outcome.rejected:
            reasons = [{**r, "messageId": message_id} for r in outcome.rejected]
            if _dead_letter(record, reasons, config):
                rejected += reasons
            else:
                outcome.failed += outcome.rejected
        if outcome.failed:
            LOGGER.warning("message %s: %d request(s) failed; it will be retried", message_id, len(outcome.failed))
            failures.append({"itemIdentifier": message_id})
    return {"jobs": jobs, "rejected": rejected, "batchItemFailures": failures}


def _safe_record(record: dict[str, Any], config: dict[str, str], index: int) -> list[Request | BadRequest]:
    try:
        return _from_record(record, config, f"Records[{index}]")
    except BadRequest as error:
        return [error]
    except RecursionError:
        return [BadRequest("the message is nested too deeply")]
