"""The default LambdaSubmitter handler, run in-process against moto's AWS Batch (no Docker: ``use_docker`` off).

GIVEN a real (mocked) compute environment, queue and job definition, WHEN the handler gets a realistic event payload,
THEN describe_jobs / list_jobs show the job on that queue, with that definition and those parameters.
"""

from __future__ import annotations

import importlib.util
import json
import pathlib
import sys
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto import mock_aws

HANDLER = pathlib.Path(__file__).resolve().parents[1] / "batch_constructs" / "_lambda" / "submitter" / "index.py"
REGION = "us-east-1"


def _load_handler() -> ModuleType:
    spec = importlib.util.spec_from_file_location("submitter_index", HANDLER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


index = _load_handler()


class BatchWorld:
    """A queue and a job definition in moto, and the handler configured for them."""

    def __init__(self) -> None:
        self.batch = boto3.client("batch", region_name=REGION)
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
        environment = self.batch.create_compute_environment(
            computeEnvironmentName="fargate",
            type="MANAGED",
            state="ENABLED",
            computeResources={"type": "FARGATE", "maxvCpus": 16, "subnets": [subnet], "securityGroupIds": [group]},
            serviceRole=role,
        )["computeEnvironmentArn"]
        self.queue_arn = self.batch.create_job_queue(
            jobQueueName="work",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
        self.other_queue_arn = self.batch.create_job_queue(
            jobQueueName="other",
            state="ENABLED",
            priority=1,
            computeEnvironmentOrder=[{"order": 1, "computeEnvironment": environment}],
        )["jobQueueArn"]
        self.definition_arn = self.batch.register_job_definition(
            jobDefinitionName="convert",
            type="container",
            containerProperties={
                "image": "busybox",
                "command": ["echo", "Ref::bucket", "Ref::key"],
                "resourceRequirements": [{"type": "VCPU", "value": "1"}, {"type": "MEMORY", "value": "2048"}],
            },
        )["jobDefinitionArn"]

    def jobs(self, queue: str | None = None) -> list[dict[str, Any]]:
        """Every job on the queue (moto finishes them at once, so any status), described."""
        ids = [
            s["jobId"]
            for s in self.batch.list_jobs(
                jobQueue=queue or self.queue_arn, filters=[{"name": "JOB_NAME", "values": ["*"]}]
            )["jobSummaryList"]
        ]
        return self.batch.describe_jobs(jobs=ids)["jobs"] if ids else []


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[BatchWorld]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(config={"batch": {"use_docker": False}}):
        built = BatchWorld()
        monkeypatch.setenv("JOB_QUEUE", built.queue_arn)
        monkeypatch.setenv("JOB_DEFINITION", built.definition_arn)
        monkeypatch.setenv("JOB_NAME_PREFIX", "Convert")
        monkeypatch.setattr(index, "_clients", {})
        yield built


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
    assert job["jobName"] == "nightly-report"


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
