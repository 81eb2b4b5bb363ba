"""Property-based tests (hypothesis) of the submitter's event parsing and submission.

GIVEN generated events (arbitrary JSON, type-confused variants of real event shapes, valid S3 notifications and SQS
batches) and an in-memory Batch that throttles some calls, THEN the handler never raises anything but its own errors,
never submits a wrong job, and loses no valid record: after SQS redelivers the failed messages, every distinct request
has exactly one job. An in-memory fake keeps the examples fast (moto's Batch costs tens of ms a call); the moto-backed
tests in test_submitter_handler.py check the same handler against the real API shapes.
"""

from __future__ import annotations

import itertools
import json
import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ..properties import examples
from .test_submitter_handler import index

FAST = settings(max_examples=examples(60), deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
ENVIRONMENT = {"JOB_QUEUE": "work", "JOB_DEFINITION": "convert", "JOB_NAME_PREFIX": "Convert"}


class FakeBatch:
    """SubmitJob and ListJobs of one queue, in memory; ``throttle(kwargs)`` decides which SubmitJob calls fail."""

    def __init__(self, throttle: Any = None) -> None:
        self.jobs: list[dict[str, Any]] = []
        self.throttle = throttle or (lambda kwargs: False)
        self._ids = itertools.count(1)

    def submit_job(self, **kwargs: Any) -> dict[str, Any]:
        assert set(kwargs) <= {
            "jobName",
            "jobQueue",
            "jobDefinition",
            "parameters",
            "shareIdentifier",
            "arrayProperties",
        }
        assert len(kwargs["jobName"]) <= 128 and kwargs["jobName"][0].isalnum()
        assert all(c.isascii() and (c.isalnum() or c in "-_") for c in kwargs["jobName"])
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in kwargs["parameters"].items())
        if self.throttle(kwargs):
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "SubmitJob")
        job = {"jobId": f"job-{next(self._ids)}", "status": "SUBMITTED", **kwargs}
        self.jobs.append(job)
        return {"jobId": job["jobId"], "jobName": job["jobName"]}

    def get_paginator(self, operation: str) -> Any:
        assert operation == "list_jobs"
        fake = self

        class Paginator:
            def paginate(self, jobQueue: str, filters: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
                (name,) = filters[0]["values"]
                yield {"jobSummaryList": [j for j in fake.jobs if j["jobName"] == name]}

        return Paginator()


class FakeSqs:
    def __init__(self) -> None:
        self.bodies: list[str] = []

    def send_message(self, QueueUrl: str, MessageBody: str) -> dict[str, str]:
        assert len(MessageBody.encode()) <= 256 * 1024
        json.loads(MessageBody)
        self.bodies.append(MessageBody)
        return {"MessageId": str(len(self.bodies))}


@contextmanager
def handler_with(batch: FakeBatch, sqs: FakeSqs | None = None, **environment: str) -> Iterator[None]:
    env = {**ENVIRONMENT, **environment}
    if sqs is not None:
        env["DEAD_LETTER_QUEUE_URL"] = "https://sqs.us-east-1.amazonaws.com/123456789012/dlq"
    clients = {"batch": batch, "sqs": sqs or FakeSqs()}
    with mock.patch.dict(os.environ, env, clear=False), mock.patch.object(index, "_clients", clients):
        for name in ("DEAD_LETTER_QUEUE_URL", "DEDUPLICATE"):
            if name not in env:
                os.environ.pop(name, None)
        yield


# ------------------------------------------------------------------------------------------------ strategies

json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def spelled(first: str, rest: str = "", last: str = "", *, size: tuple[int, int] = (0, 0)) -> st.SearchStrategy[str]:
    """The strings of the regex ``[first][rest]{size}[last]`` (either end optional), drawn with ``st.text``.

    The same language as ``st.from_regex(..., fullmatch=True)``; hypothesis's regex strategy draws such strings
    about three times slower, and these tests draw thousands of them.
    """
    middle = st.text(rest, min_size=size[0], max_size=size[1]) if rest else st.just("")
    ends = [st.sampled_from(first) if first else st.just(""), middle, st.sampled_from(last) if last else st.just("")]
    return st.tuples(*ends).map("".join)


LOWER = "abcdefghijklmnopqrstuvwxyz"
ALNUM = LOWER + LOWER.upper() + "0123456789"

keys = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=60)
buckets = spelled(LOWER + "0123456789", LOWER + "0123456789.-", LOWER + "0123456789", size=(2, 20))
versions = st.none() | spelled("", ALNUM + "._", size=(8, 32))


def s3_record(bucket: str, key: str, version: str | None, sequencer: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"key": urllib.parse.quote_plus(key, safe="/"), "size": 1, "sequencer": sequencer}
    if version is not None:
        obj["versionId"] = version
    return {
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": obj},
    }


s3_objects = st.tuples(buckets, keys, versions, spelled("", "0123456789ABCDEF", size=(18, 18)))
shapes = st.sampled_from(
    [
        lambda v: {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": v}, "object": {"key": "a"}}}]},
        lambda v: {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "b"}, "object": {"key": v}}}]},
        lambda v: {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": v, "object": {"key": "a"}}}]},
        lambda v: {"Records": [{"eventSource": "aws:s3", "s3": v}]},
        lambda v: {"Records": v},
        lambda v: {"Records": [{"eventSource": "aws:sqs", "messageId": "m", "body": v}]},
        lambda v: {"Records": [{"eventSource": "aws:sqs", "messageId": v, "body": json.dumps({"parameters": {}})}]},
        lambda v: {"Records": [{"eventSource": "aws:sns", "Sns": {"Message": v, "MessageId": "x"}}]},
        lambda v: {"source": "aws.s3", "detail": {"bucket": {"name": "b"}, "object": {"key": v, "version-id": v}}},
        lambda v: {"source": "aws.s3", "detail": v},
        lambda v: {"detail-type": "x", "id": v, "detail": {"parameters": {"a": v}}},
        lambda v: {"parameters": v},
        lambda v: {"parameters": {"a": "1"}, "arraySize": v},
        lambda v: {"parameters": {"a": "1"}, "jobName": v, "shareIdentifier": v},
        lambda v: {"parameters": {"a": "1"}, "idempotencyKey": v},
    ]
)


# ------------------------------------------------------------------------------------------------ properties


@FAST
@given(event=json_values | shapes.flatmap(json_values.map))
def test_no_event_crashes_the_handler(event: Any) -> None:
    """Any JSON: jobs, rejected requests in the dead-letter queue, or a failure report; never another exception."""
    batch, sqs = FakeBatch(), FakeSqs()
    with handler_with(batch, sqs):
        result = index.handler(event)
    assert result.get("batchItemFailures", []) == []
    assert len(batch.jobs) == len([j for j in result["jobs"] if not j["duplicate"]])
    if result["rejected"]:
        assert sqs.bodies  # every rejected request reached the dead-letter queue


@FAST
@given(event=json_values | shapes.flatmap(json_values.map))
def test_without_a_dead_letter_queue_only_bad_request_escapes(event: Any) -> None:
    with handler_with(FakeBatch()):
        try:
            index.handler(event)
        except index.BadRequest:
            pass


@FAST
@given(objects=st.lists(s3_objects, min_size=1, max_size=6), repeat=st.lists(st.integers(0, 5), max_size=3))
def test_s3_notification_submits_each_object_once_with_its_bucket_and_key(
    objects: list[tuple[str, str, str | None, str]], repeat: list[int]
) -> None:
    records = [s3_record(*o) for o in objects] + [s3_record(*objects[i % len(objects)]) for i in repeat]
    batch = FakeBatch()
    with handler_with(batch):
        index.handler({"Records": records})
    submitted = sorted((j["parameters"]["bucket"], j["parameters"]["key"]) for j in batch.jobs)
    assert submitted == sorted({(b, k, v, s): (b, k) for b, k, v, s in objects}.values())
    assert all(set(j["parameters"]) == {"bucket", "key"} for j in batch.jobs)
    assert all(j["jobQueue"] == "work" and j["jobDefinition"] == "convert" for j in batch.jobs)


values = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30)  # what a command can carry
plain_parameters = st.dictionaries(spelled("", ALNUM + "_", size=(1, 12)), values)
job_names = st.none() | spelled(ALNUM, ALNUM + " _-", size=(0, 150))
messages = st.lists(
    st.one_of(
        st.tuples(st.just("plain"), plain_parameters, job_names, st.booleans()),
        st.tuples(st.just("s3"), st.lists(s3_objects, min_size=1, max_size=3)),
    ),
    min_size=1,
    max_size=8,
)


def _message(index_: int, spec: tuple[Any, ...]) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    """(the SQS record, {identity: the job's parameters}) for one generated message."""
    message_id = f"m{index_}"
    if spec[0] == "s3":
        objects = spec[1]
        body: dict[str, Any] = {"Records": [s3_record(*o) for o in objects]}
        expected = {json.dumps(["s3", *o]): {"bucket": o[0], "key": o[1]} for o in objects}
    else:
        _, parameters, name, keyed = spec
        body = {"parameters": parameters}
        if name is not None:
            body["jobName"] = name
        if keyed:
            body["idempotencyKey"] = f"key-{index_}"
        expected = {json.dumps(["request", message_id]): parameters}
    return {"messageId": message_id, "eventSource": "aws:sqs", "body": json.dumps(body)}, expected


@FAST
@given(specs=messages, duplicates=st.lists(st.integers(0, 7), max_size=3), seed=st.integers(0, 2**16))
def test_sqs_batches_lose_and_duplicate_nothing_under_throttling(
    specs: list[tuple[Any, ...]], duplicates: list[int], seed: int
) -> None:
    """Redeliver the failed messages until none fail: one job per distinct request, with its parameters."""
    records, expected = [], {}
    for i, spec in enumerate(specs):
        record, wanted = _message(i, spec)
        records.append(record)
        expected.update(wanted)
    records += [dict(records[i % len(records)]) for i in duplicates]  # SQS delivers some messages twice
    calls = itertools.count()
    # the first 16 SubmitJob calls fail where seed has a 1 bit; later ones succeed (SQS would keep redelivering)
    batch = FakeBatch(throttle=lambda kwargs: (call := next(calls)) < 16 and (seed >> call) & 1 == 1)
    pending = records
    with handler_with(batch):
        for _ in range(40):
            failed = {f["itemIdentifier"] for f in index.handler({"Records": pending})["batchItemFailures"]}
            pending = [r for r in pending if r["messageId"] in failed]
            if not pending:
                break
    assert not pending
    got = sorted(json.dumps(j["parameters"], sort_keys=True) for j in batch.jobs)
    assert got == sorted(json.dumps(p, sort_keys=True) for p in expected.values())
    names = [j["jobName"] for j in batch.jobs]
    assert len(set(names)) == len(names)
