"""The default LambdaSubmitter handler, run in-process against moto's AWS Batch (no Docker: ``use_docker`` off).

GIVEN a real (mocked) compute environment, queue and job definition, WHEN the handler gets a realistic event payload,
THEN describe_jobs / list_jobs show the job on that queue, with that definition and those parameters.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import pathlib
import re
import sys
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ..aws_mock import mocked_aws_for_module, unique_name

HANDLER = pathlib.Path(__file__).resolve().parents[2] / "batch_constructs" / "_lambda" / "submitter" / "index.py"
REGION = "us-east-1"


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submitter_index", HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


index = _load_handler()


class BatchAccount:
    """What the tests share, built once per module: a compute environment, a job definition, and the handler's clients.

    Each test gets its own queues on this environment (:class:`BatchWorld`), so ``list_jobs`` shows it only its own
    jobs whatever ran before it. Nothing a test does changes the environment, the definition or the role.
    """

    def __init__(self) -> None:
        index._clients.clear()
        self.batch = index._client("batch")  # made by the handler, with the handler's client configuration
        self.sqs = index._client("sqs")
        self.clients = dict(index._clients)
        ec2 = boto3.client("ec2", region_name=REGION)
        iam = boto3.client("iam", region_name=REGION)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        group = ec2.create_security_group(GroupName="jobs", Description="jobs", VpcId=vpc)["GroupId"]
        role = iam.create_role(
            RoleName="batch-service",
            AssumeRolePolicyDocument=json.dumps(
                {"Statement": [{"Effect": "Allow", "Principal": {"Service": "batch.amazonaws.com"}, "Action": "*"}]}
            ),
        )["Role"]["Arn"]
        self.environment_arn = self.batch.create_compute_environment(
            computeEnvironmentName="fargate",
            type="MANAGED",
            state="ENABLED",
            computeResources={"type": "FARGATE", "maxvCpus": 16, "subnets": [subnet], "securityGroupIds": [group]},
            serviceRole=role,
        )["computeEnvironmentArn"]
        self.definition_arn = self.batch.register_job_definition(
            jobDefinitionName="convert",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["echo", "Ref::bucket", "Ref::key"],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
            },
        )["jobDefinitionArn"]

    def new_queue(self, prefix: str) -> str:
        """The ARN of a new, empty queue on the shared compute environment."""
        return str(
            self.batch.create_job_queue(
                jobQueueName=unique_name(prefix),
                state="ENABLED",
                priority=1,
                computeEnvironmentOrder=[{"order": 1, "computeEnvironment": self.environment_arn}],
            )["jobQueueArn"]
        )


class BatchWorld:
    """Two fresh queues and the shared job definition in moto, and the handler configured for them."""

    def __init__(self, account: BatchAccount) -> None:
        self.batch = account.batch
        self.sqs = account.sqs
        self.queue_arn = account.new_queue("work")
        self.other_queue_arn = account.new_queue("other")
        self.definition_arn = account.definition_arn
        self.cleanups: list[Callable[[], None]] = []  # run after the test (undo changes to the shared clients)

    def jobs(self, queue: str | None = None) -> list[dict[str, Any]]:
        """Every job on the queue (moto finishes them at once, so any status), described."""
        ids = [
            s["jobId"]
            for s in self.batch.list_jobs(
                jobQueue=queue or self.queue_arn, filters=[{"name": "JOB_NAME", "values": ["*"]}]
            )["jobSummaryList"]
        ]
        return self.batch.describe_jobs(jobs=ids)["jobs"] if ids else []


@pytest.fixture(scope="module")
def account() -> Iterator[BatchAccount]:
    """moto entered once for the module (see ``mocked_aws_for_module``), with the shared resources and clients."""
    with mocked_aws_for_module(REGION) as patch:
        patch.setattr(index, "_clients", {})
        yield BatchAccount()


@pytest.fixture
def world(account: BatchAccount, monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchWorld]:
    built = BatchWorld(account)
    monkeypatch.setenv("JOB_QUEUE", built.queue_arn)
    monkeypatch.setenv("JOB_DEFINITION", built.definition_arn)
    monkeypatch.setenv("JOB_NAME_PREFIX", "Convert")
    monkeypatch.setattr(index, "_clients", dict(account.clients))  # a test may replace one (monkeypatch.setitem)
    yield built
    for cleanup in built.cleanups:
        cleanup()


def s3_notification(*objects: tuple[str, str], sequencer: str = "0055AED6DCD90281E5") -> dict[str, Any]:
    """An S3 event notification as Lambda receives it (keys URL-encoded, as S3 sends them)."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": REGION,
                "eventTime": "2026-11-22T03:00:00.000Z",
                "eventName": "ObjectCreated:Put",
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "upload",
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": {
                        "key": key,
                        "size": 1024,
                        "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                        "sequencer": sequencer,
                    },
                },
            }
            for bucket, key in objects
        ]
    }


def eventbridge_object_created(
    bucket: str, key: str, event_id: str = "17793124-05d4-b198-2fde-7ededc63b103"
) -> dict[str, Any]:
    """An S3 "Object Created" event as EventBridge delivers it to a Lambda target."""
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": "123456789012",
        "time": "2026-11-22T03:00:00Z",
        "region": REGION,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {
                "key": key,
                "size": 5,
                "etag": "b1946ac92492d2347c6235b4d2611184",
                "sequencer": "00617F08299329D189",
            },
            "request-id": "N4N7GDK58NMKJ12R",
            "requester": "123456789012",
            "reason": "PutObject",
        },
    }


def test_s3_notification_submits_one_job_per_object(world: BatchWorld) -> None:
    result = index.handler(
        s3_notification(("uploads", "incoming/a.csv"), ("uploads", "incoming/my+report+%282%29.csv"))
    )

    jobs = world.jobs()
    assert len(jobs) == 2 == len(result["jobs"])
    by_key = {j["parameters"]["key"]: j for j in jobs}
    assert set(by_key) == {"incoming/a.csv", "incoming/my report (2).csv"}  # URL-decoded
    for job in jobs:
        assert job["jobQueue"] == world.queue_arn
        assert job["jobDefinition"] == world.definition_arn
        assert job["parameters"]["bucket"] == "uploads"
        assert job["jobName"].startswith("Convert-")
    assert {j["jobId"] for j in jobs} == {r["jobId"] for r in result["jobs"]}


def test_eventbridge_s3_event_submits_bucket_and_key(world: BatchWorld) -> None:
    index.handler(eventbridge_object_created("uploads", "in/2026/scan.tif"))

    (job,) = world.jobs()
    assert job["parameters"] == {"bucket": "uploads", "key": "in/2026/scan.tif"}
    assert job["jobQueue"] == world.queue_arn
    assert job["jobDefinition"] == world.definition_arn
    assert job["jobName"].startswith("Convert-scan-")


def test_plain_request_passes_its_parameters_and_name(world: BatchWorld) -> None:
    index.handler({"parameters": {"date": "2026-11-22", "limit": 100, "dry": False}, "jobName": "nightly report"})

    (job,) = world.jobs()
    assert job["parameters"] == {"date": "2026-11-22", "limit": "100", "dry": "false"}
    # the name the user chose, then the hash of the request's identity (so that two requests never share a name)
    assert re.fullmatch(r"nightly-report-[0-9a-f]{16}", job["jobName"])


def test_sqs_batch_of_s3_notifications_reports_only_bad_messages(world: BatchWorld) -> None:
    event = {
        "Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": json.dumps(s3_notification(("uploads", "x.csv")))},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "not json"},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": json.dumps({"Event": "s3:TestEvent"})},
        ]
    }

    result = index.handler(event)

    assert result["batchItemFailures"] == [{"itemIdentifier": "m2"}]
    (job,) = world.jobs()
    assert job["parameters"] == {"bucket": "uploads", "key": "x.csv"}


def test_same_object_twice_in_one_event_is_one_job(world: BatchWorld) -> None:
    index.handler(s3_notification(("uploads", "a.csv"), ("uploads", "a.csv")))

    assert len(world.jobs()) == 1


def test_job_names_are_deterministic_per_upload(world: BatchWorld) -> None:
    first = index.handler(s3_notification(("uploads", "a.csv")))["jobs"][0]["jobName"]
    again = index.handler(s3_notification(("uploads", "a.csv")))["jobs"][0]["jobName"]
    new_upload = index.handler(s3_notification(("uploads", "a.csv"), sequencer="0055AED6DCD90281F9"))["jobs"][0]

    assert first == again
    assert new_upload["jobName"] != first


def test_deduplicate_skips_a_name_already_on_the_queue(world: BatchWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUPLICATE", "true")
    event = eventbridge_object_created("uploads", "a.csv")

    first = index.handler(event)["jobs"][0]
    repeat = index.handler(event)["jobs"][0]

    assert len(world.jobs()) == 1
    assert repeat == {"jobName": first["jobName"], "jobId": first["jobId"], "duplicate": True}


def test_queue_comes_from_the_environment(world: BatchWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JOB_QUEUE", world.other_queue_arn)

    index.handler({"parameters": {"x": "1"}})

    assert world.jobs() == []
    (job,) = world.jobs(world.other_queue_arn)
    assert job["jobQueue"] == world.other_queue_arn


def test_custom_parameter_names(world: BatchWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUCKET_PARAMETER", "input_bucket")
    monkeypatch.setenv("KEY_PARAMETER", "input_key")

    index.handler(eventbridge_object_created("uploads", "a.csv"))

    (job,) = world.jobs()
    assert job["parameters"] == {"input_bucket": "uploads", "input_key": "a.csv"}


def test_array_size_is_passed(world: BatchWorld) -> None:
    index.handler({"parameters": {"x": "1"}, "arraySize": 4})

    parent = next(j for j in world.jobs() if "arrayProperties" in j and "size" in j["arrayProperties"])
    assert parent["arrayProperties"]["size"] == 4


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"hello": "world"}, "unrecognised event"),
        ({"parameters": ["a"]}, "must be a JSON object"),
        ({"parameters": {"a": {"b": 1}}}, "must be a string or number"),
        ({"parameters": {"a": "1"}, "arraySize": 1}, "arraySize must be an integer 2-10000"),
        ({"detail-type": "Custom", "source": "my.app", "detail": {}}, "has no detail.parameters"),
    ],
)
def test_bad_events_raise_without_submitting(world: BatchWorld, event: dict[str, Any], message: str) -> None:
    with pytest.raises(index.BadRequest, match=message):
        index.handler(event)
    assert world.jobs() == []


@pytest.mark.parametrize(
    ("readable", "expected_start"),
    [("my report (final).csv", "p-my-report-final-csv-"), ("__x__", "p-x-"), ("", "p-"), ("é" * 300, "p-")],
)
def test_job_name_rules(readable: str, expected_start: str) -> None:
    name = index.job_name("p", readable, "identity")
    assert name.startswith(expected_start)
    assert len(name) <= 128
    assert name[0].isalnum()
    assert all(c.isalnum() or c in "-_" for c in name)
    assert name == index.job_name("p", readable, "identity")


def test_long_keys_keep_names_within_128_characters() -> None:
    name = index.job_name("Convert", "k" * 500, "id")
    assert len(name) == 128
    assert name.startswith("Convert-kkk")


def test_two_requests_with_the_same_display_name_are_two_jobs(world: BatchWorld) -> None:
    event = {
        "Records": [
            {
                "messageId": f"m{i}",
                "eventSource": "aws:sqs",
                "body": json.dumps({"parameters": {"n": str(i)}, "jobName": "report"}),
            }
            for i in range(2)
        ]
    }

    result = index.handler(event)

    assert result["batchItemFailures"] == []
    assert sorted(j["parameters"]["n"] for j in world.jobs()) == ["0", "1"]


# ------------------------------------------------------------------------------- hostile and unlucky input (issue 16)


@pytest.fixture
def dead_letters(world: BatchWorld, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An SQS queue as the function's dead-letter queue (DEAD_LETTER_QUEUE_URL, as the construct sets it)."""
    sqs = world.sqs
    url = sqs.create_queue(QueueName=unique_name("submitter-dlq"))["QueueUrl"]  # empty: this test's letters only
    monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", url)

    def messages() -> list[dict[str, Any]]:
        found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in found]

    return messages


class Throttled:
    """The Batch client, except that SubmitJob is throttled (once) for the keys in ``throttle``."""

    def __init__(self, client: Any, throttle: set[str]) -> None:
        self.client, self.throttle, self.calls = client, set(throttle), 0

    def submit_job(self, **kwargs: Any) -> Any:
        self.calls += 1
        key = kwargs["parameters"].get("key")
        if key in self.throttle:
            self.throttle.discard(key)
            raise ClientError({"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "SubmitJob")
        return self.client.submit_job(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def sqs_record(message_id: str, body: Any) -> dict[str, Any]:
    return {"messageId": message_id, "eventSource": "aws:sqs", "body": json.dumps(body)}


def test_two_requests_sharing_a_job_name_both_run_with_deduplication_on(
    world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Old code: the second request was taken for a duplicate of the first because both were named "report".
    monkeypatch.setenv("DEDUPLICATE", "true")
    index.handler({"parameters": {"day": "mon"}, "jobName": "report", "idempotencyKey": "a"})
    index.handler({"parameters": {"day": "tue"}, "jobName": "report", "idempotencyKey": "b"})

    assert sorted(j["parameters"]["day"] for j in world.jobs()) == ["mon", "tue"]


def test_retry_after_a_throttled_record_does_not_resubmit_the_others(
    world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Old code (deduplicate off by default): the retry submitted a.csv a second time.
    event = s3_notification(("uploads", "a.csv"), ("uploads", "b.csv"))
    throttled = Throttled(world.batch, {"b.csv"})
    monkeypatch.setitem(index._clients, "batch", throttled)

    with pytest.raises(index.SubmitFailed, match="1 job"):
        index.handler(event)  # a.csv submitted, b.csv throttled: Lambda retries the event
    retried = index.handler(event)

    assert sorted(j["parameters"]["key"] for j in world.jobs()) == ["a.csv", "b.csv"]
    assert [j["duplicate"] for j in retried["jobs"]] == [True, False]
    assert throttled.calls == 3


def test_sqs_redelivery_of_a_partly_failed_message_submits_only_what_failed(
    world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = {"Records": [sqs_record("m1", s3_notification(("uploads", "a.csv"), ("uploads", "b.csv")))]}
    monkeypatch.setitem(index._clients, "batch", Throttled(world.batch, {"b.csv"}))

    assert index.handler(event)["batchItemFailures"] == [{"itemIdentifier": "m1"}]
    assert index.handler(event)["batchItemFailures"] == []
    assert sorted(j["parameters"]["key"] for j in world.jobs()) == ["a.csv", "b.csv"]


def test_the_same_s3_event_in_two_sqs_messages_of_one_batch_is_one_job(world: BatchWorld) -> None:
    # Old code: de-duplication was per message, so S3's duplicate delivery gave two jobs.
    body = s3_notification(("uploads", "a.csv"))
    result = index.handler({"Records": [sqs_record("m1", body), sqs_record("m2", body)]})

    assert len(world.jobs()) == 1
    assert [j["duplicate"] for j in result["jobs"]] == [False, True]


def test_two_sqs_messages_with_one_plain_body_are_two_requests_a_redelivery_is_not(world: BatchWorld) -> None:
    body = {"parameters": {"n": "1"}}
    index.handler({"Records": [sqs_record("m1", body), sqs_record("m2", body)]})
    index.handler({"Records": [sqs_record("m1", body)]})  # SQS delivers m1 again

    assert len(world.jobs()) == 2


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (
            {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "u"}, "object": {"key": 7}}}]},
            "key must be a string, got int",
        ),
        (
            {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "u"}, "object": {"key": ["a"]}}}]},
            "key must be a string, got list",
        ),
        (
            {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": ["u"]}, "object": {"key": "a"}}}]},
            "bucket name must be a string",
        ),
        ({"Records": [{"eventSource": "aws:s3", "s3": "x"}]}, "s3 must be a JSON object"),
        ({"Records": {"a": 1}}, "Records must be a list"),
        ({"source": "aws.s3", "detail": {"bucket": {"name": "u"}, "object": {"key": 1.5}}}, "key must be a string"),
        ({"source": "aws.s3", "detail": []}, "detail must be a JSON object"),
        ({"parameters": {"a": "1"}, "jobName": 5}, "jobName must be a string"),
        ({"parameters": {"a": "1"}, "arraySize": "4"}, "arraySize must be an integer"),
        ({"parameters": {"a": "1"}, "arraySize": True}, "arraySize must be an integer"),
        ({"parameters": {"a": "1"}, "shareIdentifier": "team a"}, "shareIdentifier"),
        ({"parameters": {"a": "1"}, "schedulingPriorityOverride": 10_000}, "schedulingPriorityOverride must be"),
        ({"parameters": {"a": "1"}, "schedulingPriorityOverride": -1}, "schedulingPriorityOverride must be"),
        ({"parameters": {"a": "1"}, "schedulingPriorityOverride": "5"}, "schedulingPriorityOverride must be"),
        ({"parameters": {"a": "1"}, "schedulingPriorityOverride": True}, "schedulingPriorityOverride must be"),
        ({"parameters": {"a-b": "1"}}, "cannot be used as Ref::name"),
        ({"parameters": {"a": "x" * 9000}}, "ECS allows 8192 characters"),
        ({"parameters": {"a": float("nan")}}, "not a finite number"),
        ({"Records": [{"eventSource": "aws:sns", "Sns": {"Message": 3}}]}, "Message must be a string"),
        (
            {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "u"}, "object": {"key": "%ff"}}}]},
            "not URL-encoded UTF-8",
        ),
    ],
)
def test_type_confused_events_are_bad_requests(world: BatchWorld, event: dict[str, Any], message: str) -> None:
    # Old code: AttributeError, TypeError or botocore's ParamValidationError (retried), or a submitted job.
    with pytest.raises(index.BadRequest, match=message):
        index.handler(event)
    assert world.jobs() == []


def test_malformed_request_goes_to_the_dead_letter_queue_and_is_not_retried(
    world: BatchWorld, dead_letters: Any
) -> None:
    event = {"Records": [{"eventSource": "aws:s3", "s3": {"bucket": {"name": "u"}, "object": {"key": 7}}}]}

    result = index.handler(event)  # returns: Lambda does not retry it

    assert result["rejected"] == [{"error": "Records[0].s3.object.key must be a string, got int"}]
    (letter,) = dead_letters()
    assert letter["event"] == event
    assert letter["rejected"] == result["rejected"]


def test_malformed_sqs_message_is_dead_lettered_not_returned_to_the_queue(world: BatchWorld, dead_letters: Any) -> None:
    # Old code: reported in batchItemFailures, so SQS delivered it again until its redrive policy gave up.
    event = {
        "Records": [
            sqs_record("m1", s3_notification(("uploads", "x.csv"))),
            {"messageId": "m2", "eventSource": "aws:sqs", "body": "not json"},
            sqs_record("m3", {"parameters": {"k": ["list"]}}),
        ]
    }

    result = index.handler(event)

    assert result["batchItemFailures"] == []
    assert [r["messageId"] for r in result["rejected"]] == ["m2", "m3"]
    assert sorted(d["event"]["messageId"] for d in dead_letters()) == ["m2", "m3"]
    (job,) = world.jobs()
    assert job["parameters"] == {"bucket": "uploads", "key": "x.csv"}


def test_good_records_of_a_partly_malformed_event_are_submitted(world: BatchWorld, dead_letters: Any) -> None:
    event = s3_notification(("uploads", "good.csv"))
    event["Records"].append({"eventSource": "aws:s3", "s3": {"bucket": {"name": "u"}, "object": {"key": None}}})

    result = index.handler(event)

    assert [j["parameters"]["key"] for j in result["jobs"]] == ["good.csv"]
    assert len(result["rejected"]) == 1 and len(dead_letters()) == 1


def test_logs_never_print_parameter_values(world: BatchWorld, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        index.handler({"parameters": {"token": "s3cr3t-" + "v" * 50, "n": "1"}})

    assert "s3cr3t" not in caplog.text
    assert "token (57 chars), n (1 chars)" in caplog.text


def test_sqs_source_dedup_is_skipped_when_turned_off(world: BatchWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEDUPLICATE", "false")
    event = s3_notification(("uploads", "a.csv"))

    index.handler(event)
    index.handler(event)  # a second invocation: not looked up on the queue

    assert len(world.jobs()) == 2


# ------------------------------------------------------------------------------------------------ scheduling priority


def _submitted_requests(world: BatchWorld) -> list[dict[str, Any]]:
    """Record every SubmitJob request the handler's client sends (moto does not keep fair-share fields)."""
    sent: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    events = index._client("batch").meta.events
    events.register("provide-client-params.batch.SubmitJob", record)
    world.cleanups.append(lambda: events.unregister("provide-client-params.batch.SubmitJob", record))
    return sent


def test_request_scheduling_priority_override_reaches_submit_job(world: BatchWorld) -> None:
    sent = _submitted_requests(world)
    index.handler({"parameters": {"bucket": "b", "key": "k"}, "schedulingPriorityOverride": 9999})
    assert [r.get("schedulingPriorityOverride") for r in sent] == [9999]
    assert len(world.jobs()) == 1


def test_construct_default_scheduling_priority_applies_unless_the_request_sets_one(
    world: BatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SCHEDULING_PRIORITY", "3")
    sent = _submitted_requests(world)
    index.handler({"parameters": {"bucket": "b", "key": "k1"}})
    index.handler({"parameters": {"bucket": "b", "key": "k2"}, "schedulingPriorityOverride": 0})
    assert [r.get("schedulingPriorityOverride") for r in sent] == [3, 0]


def test_no_scheduling_priority_override_by_default(world: BatchWorld) -> None:
    sent = _submitted_requests(world)
    index.handler({"parameters": {"bucket": "b", "key": "k"}})
    assert len(sent) == 1 and "schedulingPriorityOverride" not in sent[0]
