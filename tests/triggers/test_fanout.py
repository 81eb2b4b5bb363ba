"""S3FanOut: the Distributed Map (reader, selector, batching, concurrency, tolerated failures), IAM, nag, validation.

One app holds every variant (plus a stack pinned to an account and region, where acknowledgement ids differ) and is
synthesized once with the five cdk-nag packs registered (a finding fails the fixture); the assertions share it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from batch_constructs import (
    BatchConfigurationError,
    BatchQueue,
    ContainerJob,
    FargateEnvironment,
    JobOverrides,
    S3FanOut,
)
from batch_constructs._internal.iam import ManagedPolicyRole
from batch_constructs.triggers.fanout import (
    DEFAULT_EXECUTION_TIMEOUT,
    MAX_BATCH_INPUT_BYTES,
    UNKNOWN_QUEUE_CONCURRENCY,
    default_max_concurrency,
    inventory_data_prefix,
)

from .. import unit_stacks
from ..helpers import nag_violations
from ..unit_stacks import Synthesized, actions, definition_of, imported_vpc, logical_id, nag_stack

IMAGE = "public.ecr.aws/docker/library/python:3.12-slim"
PER_OBJECT = ["python", "-m", "convert", "Ref::bucket", "Ref::key", "--mode", "Ref::mode"]
PER_BATCH = ["python", "-m", "convert", "Ref::keys"]
INVENTORY = "inventory/my-data/daily/2026-12-01T01-00Z/manifest.json"


@dataclass
class Variant:
    fan_out: S3FanOut
    template: dict[str, Any]

    def logical_id(self, construct: Any) -> str:
        return logical_id(construct)

    def resource(self, construct: Any) -> dict[str, Any]:
        return self.template["Resources"][logical_id(construct)]  # type: ignore[no-any-return]

    @property
    def definition(self) -> dict[str, Any]:
        return definition_of(self.resource(self.fan_out.state_machine))

    @property
    def map_state(self) -> dict[str, Any]:
        return self.definition["States"]["FanOut"]  # type: ignore[no-any-return]

    @property
    def submit(self) -> dict[str, Any]:
        return self.map_state["ItemProcessor"]["States"]["SubmitJob"]  # type: ignore[no-any-return]

    def statements(self) -> list[dict[str, Any]]:
        role = self.fan_out.role
        assert isinstance(role, ManagedPolicyRole) and role.managed_policy is not None
        return self.resource(role.managed_policy)["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]

    def s3_statements(self) -> list[dict[str, Any]]:
        return [s for s in self.statements() if any(a.startswith("s3:") for a in actions(s))]


@dataclass
class Built(Synthesized):
    variants: dict[str, Variant]
    queue: BatchQueue
    job: ContainerJob

    def __getitem__(self, name: str) -> Variant:
        return self.variants[name]


def _job(stack: cdk.Stack, construct_id: str, queue: BatchQueue, command: list[str], **kwargs: Any) -> ContainerJob:
    return ContainerJob(stack, construct_id, image=IMAGE, queue=queue, command=command, **kwargs)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    stack = nag_stack(tmp_path_factory, "FanOutTest")
    pinned = cdk.Stack(stack.node.root, "FanOutPinned", env=cdk.Environment(account="123456789012", region="eu-west-1"))
    vpc = imported_vpc(stack)
    queue = BatchQueue(stack, "Queue", environments=[FargateEnvironment(stack, "Fargate", vpc=vpc, max_vcpus=64)])
    fair = BatchQueue(
        stack,
        "Fair",
        environments=[FargateEnvironment(stack, "FairFargate", vpc=vpc)],
        fair_share={"teamA": 1, "teamB": 1},
    )
    job = _job(stack, "Convert", queue, PER_OBJECT, vcpus=2, memory=Size.gibibytes(4))
    batch_job = _job(stack, "ConvertMany", queue, PER_BATCH)
    fair_job = _job(stack, "FairConvert", fair, ["convert", "Ref::bucket", "Ref::key"], scheduling_priority=5)
    data = s3.Bucket.from_bucket_name(stack, "Data", "my-data")
    key = kms.Key(stack, "DataKey", enable_key_rotation=True)
    encrypted = s3.Bucket.from_bucket_attributes(stack, "Encrypted", bucket_name="my-encrypted", encryption_key=key)
    fan_outs = {
        "default": S3FanOut(stack, "Default", job=job, bucket=data, prefix="input/", parameters={"mode": "fast"}),
        "batched": S3FanOut(
            stack,
            "Batched",
            job=batch_job,
            bucket=data,
            manifest_key=INVENTORY,
            items_per_job=25,
            max_concurrency=40,
            tolerated_failure_percentage=5,
            tolerated_failure_count=3,
            timeout=Duration.days(2),
        ),
        "csv": S3FanOut(
            stack,
            "Csv",
            job=job,
            bucket=encrypted,
            manifest_key="lists/todo.csv",
            manifest_format="csv",
            key_field="object_key",
            parameters={"mode": "fast"},
        ),
        "json": S3FanOut(
            stack,
            "Json",
            job=fair_job,
            bucket=data,
            manifest_key="lists/todo.json",
            manifest_format="json",
            overrides=JobOverrides(environment={"LEVEL": "debug"}),
            share_identifier="teamA",
            scheduling_priority_override=7,
        ),
    }
    pinned_vpc = imported_vpc(pinned)
    pinned_queue = BatchQueue(pinned, "Queue", environments=[FargateEnvironment(pinned, "Fargate", vpc=pinned_vpc)])
    pinned_fan_out = S3FanOut(
        pinned,
        "Pinned",
        job=_job(pinned, "Convert", pinned_queue, PER_BATCH),
        bucket=s3.Bucket.from_bucket_name(pinned, "Data", "my-data"),
        items_per_job=10,
    )
    built = Built.synthesize(stack, variants={}, queue=queue, job=job)  # raises on any cdk-nag finding
    built.variants.update({name: Variant(f, built.template) for name, f in fan_outs.items()})
    pinned_template = json.loads((built.outdir / "FanOutPinned.template.json").read_text())
    built.variants["whole"] = Variant(pinned_fan_out, pinned_template)
    return built


# ------------------------------------------------------------------------------------------------- the map


def test_default_lists_the_prefix_and_submits_one_job_per_object_with_submit_job_sync(built: Built) -> None:
    state = built["default"].map_state
    assert built["default"].definition["StartAt"] == "FanOut"
    assert state["Type"] == "Map"
    assert state["ItemReader"] == {
        "Resource": "arn:<Ref:AWS::Partition>:states:::s3:listObjectsV2",
        "Parameters": {"Bucket": "my-data", "Prefix": "input/"},
    }
    assert state["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert state["ItemSelector"] == {"key.$": "$$.Map.Item.Value.Key", "bucket": "my-data"}
    submit = built["default"].submit
    assert submit["Resource"] == "arn:<Ref:AWS::Partition>:states:::batch:submitJob.sync"
    assert submit["Parameters"]["Parameters"] == {"bucket.$": "$.bucket", "key.$": "$.key", "mode": "fast"}
    assert "ArrayProperties" not in submit["Parameters"]
    assert "ItemBatcher" not in state


def test_whole_bucket_lists_without_a_prefix(built: Built) -> None:
    assert built["whole"].map_state["ItemReader"]["Parameters"] == {"Bucket": "my-data"}
    # 256 max vCPUs (FargateEnvironment's default) / 1 vCPU (ContainerJob's default)
    assert built["whole"].map_state["MaxConcurrency"] == 256


def test_default_concurrency_is_what_the_queue_can_run_at_once(built: Built) -> None:
    # 64 max vCPUs / 2 vCPUs per job
    assert built["default"].fan_out.max_concurrency == 32
    assert built["default"].map_state["MaxConcurrency"] == 32
    assert default_max_concurrency(built.job, built.queue) == 32


def test_default_concurrency_on_a_queue_imported_by_arn_is_bounded(scratch: Scratch) -> None:
    stack = scratch.stack
    imported = batch.JobQueue.from_job_queue_arn(
        stack, scratch.id("Q"), "arn:aws:batch:us-east-1:123456789012:job-queue/q"
    )
    job = ContainerJob(stack, scratch.id("J"), image=IMAGE, queue=imported, platform="FARGATE")
    assert default_max_concurrency(job, imported) == UNKNOWN_QUEUE_CONCURRENCY == 100


def test_no_failure_is_tolerated_by_default(built: Built) -> None:
    state = built["default"].map_state
    assert "ToleratedFailurePercentage" not in state and "ToleratedFailureCount" not in state  # ASL default: 0


def test_map_results_are_discarded_and_a_failed_map_alerts(built: Built) -> None:
    state = built["default"].map_state
    assert state["ResultPath"] is None
    assert state["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "NotifyFailure"}]
    # inside the item processor there is no Catch (its graph cannot reach NotifyFailure) but the throttling retry
    assert "Catch" not in built["default"].submit
    assert built["default"].submit["Retry"][0]["ErrorEquals"][0] == "Batch.AWSBatchException"


def test_execution_and_job_state_timeouts(built: Built) -> None:
    assert built["default"].definition["TimeoutSeconds"] == DEFAULT_EXECUTION_TIMEOUT.to_seconds()
    assert built["batched"].definition["TimeoutSeconds"] == 2 * 86400
    # ContainerJob defaults: 1 hour x 5 attempts + 4 hours in the queue
    assert built["default"].submit["TimeoutSeconds"] == 9 * 3600


def test_batched_inventory_fan_out(built: Built) -> None:
    state = built["batched"].map_state
    assert state["ItemReader"] == {
        "Resource": "arn:<Ref:AWS::Partition>:states:::s3:getObject",
        "ReaderConfig": {"InputType": "MANIFEST"},
        "Parameters": {"Bucket": "my-data", "Key": INVENTORY},
    }
    assert state["ItemSelector"] == {"key.$": "$$.Map.Item.Value.Key", "bucket.$": "$$.Map.Item.Value.Bucket"}
    assert state["ItemBatcher"] == {"MaxItemsPerBatch": 25, "MaxInputBytesPerBatch": MAX_BATCH_INPUT_BYTES}
    assert state["MaxConcurrency"] == 40
    assert state["ToleratedFailurePercentage"] == 5
    assert state["ToleratedFailureCount"] == 3
    assert built["batched"].submit["Parameters"]["Parameters"] == {"keys.$": "States.JsonToString($.Items)"}


def test_csv_and_json_manifests_read_the_named_key_field(built: Built) -> None:
    csv = built["csv"].map_state
    assert csv["ItemReader"]["ReaderConfig"] == {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW"}
    assert csv["ItemReader"]["Parameters"] == {"Bucket": "my-encrypted", "Key": "lists/todo.csv"}
    assert csv["ItemSelector"]["key.$"] == "$$.Map.Item.Value.object_key"
    json_state = built["json"].map_state
    assert json_state["ItemReader"]["ReaderConfig"] == {"InputType": "JSON"}
    assert json_state["ItemSelector"]["key.$"] == "$$.Map.Item.Value.Key"


def test_overrides_and_fair_share_reach_the_submission(built: Built) -> None:
    assert built["json"].submit["Parameters"]["ContainerOverrides"]["Environment"] == [
        {"Name": "LEVEL", "Value": "debug"}
    ]
    fair = built["json"].submit["Parameters"]
    assert fair["ShareIdentifier"] == "teamA"
    assert fair["SchedulingPriorityOverride"] == 7
    assert "ShareIdentifier" not in built["default"].submit["Parameters"]


def test_state_machine_logs_and_traces(built: Built) -> None:
    props = built["default"].resource(built["default"].fan_out.state_machine)["Properties"]
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    log_group = built["default"].resource(built["default"].fan_out.log_group)
    assert log_group["Properties"]["RetentionInDays"] == 365


# ------------------------------------------------------------------------------------------------- IAM


def test_listing_is_limited_to_the_prefix_and_objects_are_not_read(built: Built) -> None:
    assert built["default"].s3_statements() == [
        {
            "Action": "s3:ListBucket",
            "Condition": {"StringEquals": {"s3:prefix": "input/"}},
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::my-data"]]},
        }
    ]
    assert "Condition" not in built["whole"].s3_statements()[0]  # the whole bucket, as asked


def test_manifest_reads_only_the_manifest_and_the_inventory_data_files(built: Built) -> None:
    (statement,) = built["batched"].s3_statements()
    assert statement["Action"] == "s3:GetObject"
    resources = [json.dumps(r) for r in statement["Resource"]]
    assert any(INVENTORY in r for r in resources)
    assert any("inventory/my-data/daily/data/*" in r for r in resources)
    assert len(resources) == 2
    (json_statement,) = built["json"].s3_statements()
    assert "lists/todo.json" in json.dumps(json_statement["Resource"]) and "*" not in json.dumps(json_statement)


def test_later_grants_on_the_role_are_kept(scratch: Scratch) -> None:
    fan_out = _fan_out(scratch, prefix="in/")
    extra = iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::other/config.json"])
    assert fan_out.role.add_to_principal_policy(extra).statement_added


def test_encrypted_manifest_bucket_grants_decrypt_on_its_key(built: Built) -> None:
    decrypt = [s for s in built["csv"].statements() if actions(s) == ["kms:Decrypt"]]
    assert len(decrypt) == 1


def test_child_executions_are_granted_on_this_state_machine_only_in_a_managed_policy(built: Built) -> None:
    variant = built["default"]
    machine_id = variant.logical_id(variant.fan_out.state_machine)
    policy = variant.resource(variant.fan_out.distributed_map_policy)
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert policy["Properties"]["Roles"] == [{"Ref": variant.logical_id(variant.fan_out.role)}]
    start, watch = policy["Properties"]["PolicyDocument"]["Statement"]
    assert start == {"Action": "states:StartExecution", "Effect": "Allow", "Resource": {"Ref": machine_id}}
    assert watch["Action"] == ["states:DescribeExecution", "states:StopExecution"]
    rendered = json.dumps(watch["Resource"])
    assert rendered.count(f'"Fn::GetAtt": ["{machine_id}", "Name"]') == 2
    # no inline policy anywhere (the L2's DistributedMapPolicy is replaced)
    assert not [r for r in variant.template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]


def test_submit_job_is_scoped_to_the_queue_and_job_definition(built: Built) -> None:
    submit = [s for s in built["default"].statements() if actions(s) == ["batch:SubmitJob"]]
    assert len(submit) == 1
    assert "*" not in json.dumps(submit[0]["Resource"]).replace("job-definition/", "").replace(':*"', "")


def test_zero_cdk_nag_findings_also_when_pinned_to_an_account(built: Built) -> None:
    assert nag_violations(built.outdir) == []
    acknowledged = json.dumps(json.loads((built.outdir / "FanOutPinned.metadata.json").read_text()))
    assert "arn:aws:states:eu-west-1:123456789012:execution:" in acknowledged


def test_cfn_lint_clean(built: Built) -> None:
    assert built.template_file.name == "FanOutTest.template.json"
    assert built.cfn_lint() == []


def test_inventory_data_prefix() -> None:
    assert inventory_data_prefix(INVENTORY) == "inventory/my-data/daily/data/"
    assert inventory_data_prefix("lists/manifest.csv") is None
    assert inventory_data_prefix("manifest.json") is None


# ------------------------------------------------------------------------------------------------- validation


class Scratch(unit_stacks.Scratch):
    """The error cases' stack: a plain and a fair-share queue, a job and a bucket."""

    def __init__(self) -> None:
        super().__init__("Test")
        stack, vpc = self.stack, self.vpc
        self.queue = BatchQueue(stack, "Queue", environments=[FargateEnvironment(stack, "Fargate", vpc=vpc)])
        self.fair = BatchQueue(
            stack, "Fair", environments=[FargateEnvironment(stack, "FairFargate", vpc=vpc)], fair_share={"teamA": 1}
        )
        self.job = _job(stack, "Convert", self.queue, ["convert", "Ref::bucket", "Ref::key"])
        self.bucket = s3.Bucket.from_bucket_name(stack, "Data", "my-data")


@pytest.fixture(scope="module")
def scratch() -> Scratch:
    """One stack for the error cases (constructs refused at synth add nothing that later cases would trip over)."""
    return Scratch()


def _fan_out(s: Scratch, **kwargs: Any) -> S3FanOut:
    kwargs.setdefault("job", s.job)
    return S3FanOut(s.stack, s.id("FanOut"), bucket=s.bucket, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "rule", "text"),
    [
        ({"max_concurrency": 0}, "fan-out-concurrency", "max_concurrency=0; allowed 1-10000"),
        ({"max_concurrency": 10_001}, "fan-out-concurrency", "max_concurrency=10001"),
        ({"tolerated_failure_percentage": 101}, "fan-out-tolerated-failures", "tolerated_failure_percentage=101"),
        ({"tolerated_failure_count": -1}, "fan-out-tolerated-failures", "tolerated_failure_count=-1"),
        ({"items_per_job": 0}, "fan-out-batching", "items_per_job=0"),
        ({"prefix": "in/", "manifest_key": "m.csv"}, "fan-out-source", "both prefix='in/' and manifest_key"),
        ({"manifest_key": "m.csv", "manifest_format": "xml"}, "fan-out-source", "manifest_format='xml'"),
        ({"manifest_key": "m.csv", "key_field": "object key"}, "fan-out-source", "key_field='object key'"),
        ({"timeout": Duration.seconds(30)}, "state-machine-timeout", "timeout=30 s"),
        ({"key_parameter": "bucket"}, "trigger-parameters", "are both 'bucket'"),
        ({"parameters": {"mdoe": "x"}}, "trigger-unread-parameter", "'mdoe'"),
        ({"key_parameter": "object"}, "trigger-unread-parameter", "'object'"),
        ({"share_identifier": "teamA"}, "share-identifier", "no scheduling policy"),
    ],
)
def test_invalid_configurations_are_refused(scratch: Scratch, kwargs: dict[str, Any], rule: str, text: str) -> None:
    with pytest.raises(BatchConfigurationError) as caught:
        _fan_out(scratch, **kwargs)
    message = str(caught.value)
    assert f"[{rule}]" in message and text in message and "Fix:" in message
    assert "Test/FanOut" in message  # the construct path


def test_batched_job_must_read_the_keys_parameter(scratch: Scratch) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-unset-parameter\].*Ref::bucket, Ref::key"):
        _fan_out(scratch, items_per_job=10)


def test_fair_share_queue_without_share_identifier_is_refused(scratch: Scratch) -> None:
    job = _job(
        scratch.stack,
        scratch.id("FairJob"),
        scratch.fair,
        ["convert", "Ref::bucket", "Ref::key"],
        scheduling_priority=1,
    )
    with pytest.raises(BatchConfigurationError, match=r"\[share-identifier\].*Test/Fair"):
        _fan_out(scratch, job=job)
    _fan_out(scratch, job=job, share_identifier="teamA")


def test_limits_are_accepted_at_their_edges(scratch: Scratch) -> None:
    job = _job(scratch.stack, scratch.id("Many"), scratch.queue, PER_BATCH)
    fan_out = _fan_out(scratch, job=job, max_concurrency=10_000, tolerated_failure_percentage=100, items_per_job=1)
    assert fan_out.max_concurrency == 10_000
