"""Submit an AWS Batch job for each record of an event (the default handler of ``LambdaSubmitter``).

Standard library and boto3 only (both ship with the Lambda Python runtime).

Configuration (environment variables, set by the construct):

=====================  ===============================================================================================
JOB_QUEUE              queue ARN or name (required)
JOB_DEFINITION         job definition ARN, ``name:revision`` or name (required)
JOB_NAME_PREFIX        start of every job name (default ``job``)
BUCKET_PARAMETER       parameter that receives an S3 object's bucket (default ``bucket``)
KEY_PARAMETER          parameter that receives an S3 object's key (default ``key``)
SHARE_IDENTIFIER       share identifier for fair-share queues (default: none)
DEDUPLICATE            ``true``: skip a job whose name a job on the queue already has (needs batch:ListJobs)
=====================  ===============================================================================================

Events accepted (one job per record):

* **S3 event notification** (``{"Records": [{"eventSource": "aws:s3", "s3": {...}}]}``, also inside an SQS message
  or an SNS notification): parameters ``{bucket, key}``; the key is URL-decoded (S3 encodes it in notifications).
  ``s3:TestEvent`` messages are ignored.
* **EventBridge S3 "Object Created"** (``{"source": "aws.s3", "detail": {"bucket": {...}, "object": {...}}}``):
  parameters ``{bucket, key}``.
* **Any other EventBridge event** whose ``detail`` holds ``parameters`` (a JSON object of strings).
* **A plain request**: ``{"parameters": {"name": "value"}, "jobName": "...", "idempotencyKey": "...",
  "arraySize": 10, "shareIdentifier": "..."}`` (only ``parameters`` is needed).
* **SQS** (``{"Records": [{"eventSource": "aws:sqs", "body": "..."}]}``) whose bodies are any of the above: failed
  messages are reported in ``batchItemFailures`` (enable ReportBatchItemFailures on the event source mapping).

Job names and de-duplication: AWS Batch has no idempotency token, and S3, SQS and Lambda's asynchronous retries all
deliver at least once. Each job's name is therefore deterministic - ``<prefix>-<readable part>-<hash>``, the hash
over what identifies the request: bucket, key, version id and sequencer for S3 (the same upload always gets the same
name, a new upload of the same key another), the event id for other EventBridge events, ``idempotencyKey`` (or else
the parameters) for plain requests. Duplicates within one event are submitted once. With ``DEDUPLICATE=true`` the
handler also asks Batch (ListJobs on the queue, filtered by that name - or by ``jobName`` when a request gives one)
and skips a name already present on the queue in any state but FAILED. This is best effort (two concurrent
duplicates can both pass the check, and ListJobs only sees recent jobs), so jobs should still be idempotent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import urllib.parse
from typing import Any

import boto3

LOGGER = logging.getLogger()
LOGGER.setLevel(logging.INFO)

NAME_MAX = 128
HASH_LENGTH = 16
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")

_client: Any = None


def _batch() -> Any:
    global _client  # noqa: PLW0603 - one client per execution environment, created lazily (tests patch AWS first)
    if _client is None:
        _client = boto3.client("batch")
    return _client


class BadRequest(ValueError):
    """An event the handler cannot turn into a job (not retried: the same event would fail again)."""


def sanitize(text: str, max_length: int = NAME_MAX) -> str:
    """Letters, digits, '-' and '_' only, starting with a letter or digit (AWS Batch's job-name rule)."""
    cleaned = _UNSAFE.sub("-", text).strip("-_")
    cleaned = re.sub(r"[-_]{2,}", "-", cleaned)
    return cleaned[:max_length].rstrip("-_")


def job_name(prefix: str, readable: str, identity: str) -> str:
    """``<prefix>-<readable>-<hash of identity>``: at most 128 characters, the same for the same identity."""
    digest = hashlib.sha256(identity.encode()).hexdigest()[:HASH_LENGTH]
    head = sanitize(prefix, 40) or "job"
    room = NAME_MAX - len(head) - len(digest) - 2
    middle = sanitize(readable, room)
    return f"{head}-{middle}-{digest}" if middle else f"{head}-{digest}"


def _parameters(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} must be a JSON object of parameter name -> value, got {type(value).__name__}")
    result = {}
    for name, item in value.items():
        if isinstance(item, bool):
            result[str(name)] = "true" if item else "false"
        elif isinstance(item, (str, int, float)):
            result[str(name)] = str(item)
        else:
            raise BadRequest(f"{where}[{name!r}] must be a string or number, got {type(item).__name__}")
    return result


def _s3_request(
    bucket: str, key: str, version: str | None, sequencer: str | None, config: dict[str, str]
) -> dict[str, Any]:
    basename = key.rstrip("/").rsplit("/", 1)[-1]
    return {
        "parameters": {config["bucket_parameter"]: bucket, config["key_parameter"]: key},
        "readable": basename.rsplit(".", 1)[0] if "." in basename else basename,
        "identity": json.dumps(["s3", bucket, key, version or "", sequencer or ""]),
    }


def requests_from(event: Any, config: dict[str, str]) -> list[dict[str, Any]]:
    """The job requests in ``event``: each {parameters, readable, identity, and optionally jobName/arraySize/...}."""
    if not isinstance(event, dict):
        raise BadRequest(f"the event must be a JSON object, got {type(event).__name__}")
    if event.get("Event") == "s3:TestEvent":
        return []
    records = event.get("Records")
    if isinstance(records, list):
        found: list[dict[str, Any]] = []
        for record in records:
            found += _from_record(record, config)
        return found
    if event.get("source") == "aws.s3" and isinstance(event.get("detail"), dict):
        detail = event["detail"]
        try:
            bucket, obj = detail["bucket"]["name"], detail["object"]
            key = obj["key"]
        except (KeyError, TypeError) as error:
            raise BadRequest(f"S3 EventBridge event without detail.bucket.name / detail.object.key: {error}") from None
        return [_s3_request(bucket, key, obj.get("version-id"), obj.get("sequencer"), config)]
    if "detail-type" in event and isinstance(event.get("detail"), dict):
        detail = event["detail"]
        if "parameters" not in detail:
            raise BadRequest(f"EventBridge event {event.get('detail-type')!r} has no detail.parameters")
        return [
            {
                "parameters": _parameters(detail["parameters"], "detail.parameters"),
                "readable": str(event.get("detail-type", "")),
                "identity": json.dumps(["event", event.get("id") or json.dumps(detail, sort_keys=True)]),
            }
        ]
    if "parameters" in event:
        parameters = _parameters(event["parameters"], "parameters")
        request: dict[str, Any] = {
            "parameters": parameters,
            "readable": str(event.get("jobName") or ""),
            "identity": json.dumps(["request", event.get("idempotencyKey") or parameters], sort_keys=True),
        }
        for field in ("jobName", "arraySize", "shareIdentifier"):
            if field in event:
                request[field] = event[field]
        return [request]
    raise BadRequest(
        "unrecognised event: expected an S3 notification, an EventBridge event, an SQS batch of those, or "
        '{"parameters": {...}}'
    )


def _from_record(record: Any, config: dict[str, str]) -> list[dict[str, Any]]:
    if not isinstance(record, dict):
        raise BadRequest("a record must be a JSON object")
    source = record.get("eventSource") or record.get("EventSource")
    if source == "aws:s3":
        s3 = record.get("s3") or {}
        try:
            bucket = s3["bucket"]["name"]
            key = urllib.parse.unquote_plus(s3["object"]["key"])
        except (KeyError, TypeError) as error:
            raise BadRequest(f"S3 record without s3.bucket.name / s3.object.key: {error}") from None
        obj = s3["object"]
        return [_s3_request(bucket, key, obj.get("versionId"), obj.get("sequencer"), config)]
    if source == "aws:sns":
        return requests_from(_json(record.get("Sns", {}).get("Message"), "SNS message"), config)
    if source == "aws:sqs":
        return requests_from(_json(record.get("body"), "SQS message body"), config)
    raise BadRequest(f"unsupported record source {source!r}")


def _json(text: Any, what: str) -> Any:
    if not isinstance(text, str):
        raise BadRequest(f"{what} is not a string")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadRequest(f"{what} is not JSON: {error}") from None


def _config() -> dict[str, str]:
    return {
        "queue": os.environ["JOB_QUEUE"],
        "definition": os.environ["JOB_DEFINITION"],
        "prefix": os.environ.get("JOB_NAME_PREFIX", "job"),
        "bucket_parameter": os.environ.get("BUCKET_PARAMETER", "bucket"),
        "key_parameter": os.environ.get("KEY_PARAMETER", "key"),
        "share_identifier": os.environ.get("SHARE_IDENTIFIER", ""),
        "deduplicate": os.environ.get("DEDUPLICATE", "false").lower(),
    }


def _already_queued(name: str, config: dict[str, str]) -> str | None:
    """The id of a job on the queue named ``name`` that did not fail, or None."""
    pages = (
        _batch()
        .get_paginator("list_jobs")
        .paginate(jobQueue=config["queue"], filters=[{"name": "JOB_NAME", "values": [name]}])
    )
    for page in pages:
        for summary in page.get("jobSummaryList", []):
            if summary.get("jobName") == name and summary.get("status") != "FAILED":
                return str(summary["jobId"])
    return None


def submit(request: dict[str, Any], config: dict[str, str]) -> dict[str, Any]:
    """Submit one request (or skip it as a duplicate); returns what was done."""
    explicit = request.get("jobName")
    name = sanitize(str(explicit)) if explicit else job_name(config["prefix"], request["readable"], request["identity"])
    if not name:
        raise BadRequest(f"jobName {explicit!r} has no letter or digit")
    if config["deduplicate"] == "true":
        existing = _already_queued(name, config)
        if existing is not None:
            LOGGER.info("skipped duplicate %s (job %s is already on the queue)", name, existing)
            return {"jobName": name, "jobId": existing, "duplicate": True}
    kwargs: dict[str, Any] = {
        "jobName": name,
        "jobQueue": config["queue"],
        "jobDefinition": config["definition"],
        "parameters": request["parameters"],
    }
    share = request.get("shareIdentifier") or config["share_identifier"]
    if share:
        kwargs["shareIdentifier"] = str(share)
    if "arraySize" in request:
        size = request["arraySize"]
        if not isinstance(size, int) or isinstance(size, bool) or not 2 <= size <= 10_000:
            raise BadRequest(f"arraySize must be an integer 2-10000, got {size!r}")
        kwargs["arrayProperties"] = {"size": size}
    response = _batch().submit_job(**kwargs)
    LOGGER.info("submitted %s as job %s with parameters %s", name, response["jobId"], json.dumps(kwargs["parameters"]))
    return {"jobName": name, "jobId": response["jobId"], "parameters": request["parameters"], "duplicate": False}


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    """Lambda entry point: submit one job per request in ``event``; returns the jobs submitted and skipped.

    For SQS events a failing message is reported in ``batchItemFailures`` (the others are not retried); for any other
    event a failure raises, so Lambda retries the invocation and finally sends it to the dead-letter queue (jobs
    already submitted are then recognised by name when DEDUPLICATE is on).
    """
    config = _config()
    records = event.get("Records") if isinstance(event, dict) else None
    if (
        isinstance(records, list)
        and records
        and all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records)
    ):
        return _handle_sqs(records, config)
    return _submit_all(requests_from(event, config), config)


def _submit_all(requests: list[dict[str, Any]], config: dict[str, str]) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = []
    seen: set[str] = set()
    for request in requests:
        identity = str(request["identity"])
        if identity in seen:
            continue  # the same object or request twice in one event: one job
        seen.add(identity)
        jobs.append(submit(request, config))
    return {"jobs": jobs}


def _handle_sqs(records: list[dict[str, Any]], config: dict[str, str]) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = []
    failures: list[dict[str, str]] = []
    for record in records:
        try:
            jobs += _submit_all(_from_record(record, config), config)["jobs"]
        except Exception:
            LOGGER.exception("message %s failed", record.get("messageId"))
            failures.append({"itemIdentifier": str(record.get("messageId", ""))})
    return {"jobs": jobs, "batchItemFailures": failures}
