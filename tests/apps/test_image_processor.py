"""The ImageProcessor stack: what the app must contain, from the session's one synthesis (five cdk-nag packs on)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template

from apps._tables import WRITER_KEY_ACTIONS
from apps.image_processor.stack import IMAGE_SUFFIXES, UPLOAD_PREFIX

from ..conftest import SynthesizedApp
from ..helpers import one, resources

STACK = "ImageProcessor"
#: The three packs that share the bucket and table rules.
PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")


@pytest.fixture(scope="module")
def app(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    return synth_app("image_processor")


@pytest.fixture(scope="module")
def tpl(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(STACK)


@pytest.fixture(scope="module")
def template(tpl: dict[str, Any]) -> Template:
    return Template.from_json(tpl)


def logical_id(tpl: dict[str, Any], resource_type: str, prefix: str) -> str:
    ids = [k for k in resources(tpl, resource_type) if k.startswith(prefix)]
    assert len(ids) == 1, ids
    return ids[0]


def test_the_app_adds_one_stack_named_image_processor(app: SynthesizedApp) -> None:
    assert sorted(app.templates) == [STACK]


def test_jobs_run_on_an_on_demand_ec2_environment_that_scales_to_zero(tpl: dict[str, Any], template: Template) -> None:
    env_id, env = one(tpl, "AWS::Batch::ComputeEnvironment")
    assert env["Properties"]["Type"] == "managed"
    compute = env["Properties"]["ComputeResources"]
    assert compute["Type"] == "EC2"  # not SPOT, not FARGATE
    assert compute["MinvCpus"] == 0
    assert compute["MaxvCpus"] == 16
    template.has_resource_properties(
        "AWS::Batch::JobQueue",
        {
            "ComputeEnvironmentOrder": [
                {"ComputeEnvironment": {"Fn::GetAtt": [env_id, "ComputeEnvironmentArn"]}, "Order": 1}
            ]
        },
    )


def test_the_job_definition_reads_bucket_key_and_table_as_parameters(tpl: dict[str, Any]) -> None:
    _, job = one(tpl, "AWS::Batch::JobDefinition")
    props = job["Properties"]
    assert props["PlatformCapabilities"] == ["EC2"]
    command = props["ContainerProperties"]["Command"]
    assert command[:2] == ["python", "/app/detect_labels.py"]
    for name in ("bucket", "key", "table"):
        assert command[command.index(f"--{name}") + 1] == f"Ref::{name}"
    # The table is a default parameter (the real table, not the bucket as in the tutorial); bucket and key come from
    # each upload event.
    assert props["Parameters"] == {"table": {"Ref": logical_id(tpl, "AWS::DynamoDB::Table", "Labels")}}
    assert props["Timeout"] == {"AttemptDurationSeconds": 600}


def test_uploads_reach_the_job_through_an_eventbridge_rule_with_an_input_transformer(tpl: dict[str, Any]) -> None:
    images = logical_id(tpl, "AWS::S3::Bucket", "Images")
    queue_id, _ = one(tpl, "AWS::Batch::JobQueue")
    job_id, _ = one(tpl, "AWS::Batch::JobDefinition")
    # GIVEN the images bucket, which sends its events to EventBridge
    bucket = tpl["Resources"][images]["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    # THEN one rule matches Object Created for images under uploads/ of that bucket only
    _, rule = one(tpl, "AWS::Events::Rule")
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.s3"] and pattern["detail-type"] == ["Object Created"]
    assert pattern["detail"]["bucket"]["name"] == [{"Ref": images}]
    assert pattern["detail"]["object"]["key"] == [{"wildcard": f"{UPLOAD_PREFIX}*{s}"} for s in IMAGE_SUFFIXES]
    # AND its target submits the job to the queue, bucket and key as job parameters, with a dead-letter queue
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [queue_id, "JobQueueArn"]}
    assert target["BatchParameters"]["JobDefinition"] == {"Ref": job_id}
    transformer = target["InputTransformer"]
    paths = {v: k for k, v in transformer["InputPathsMap"].items()}
    assert json.loads(
        transformer["InputTemplate"]
        .replace(f"<{paths['$.detail.bucket.name']}>", '"BUCKET"')
        .replace(f"<{paths['$.detail.object.key']}>", '"KEY"')
    ) == {"Parameters": {"bucket": "BUCKET", "key": "KEY"}}
    dlq_id, _ = one(tpl, "AWS::SQS::Queue")
    assert target["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [dlq_id, "Arn"]}}


def _statements(tpl: dict[str, Any], policy_prefix: str) -> list[dict[str, Any]]:
    policy = tpl["Resources"][logical_id(tpl, "AWS::IAM::ManagedPolicy", policy_prefix)]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def test_the_job_role_may_read_the_upload_prefix_label_and_write_the_one_table(tpl: dict[str, Any]) -> None:
    images = logical_id(tpl, "AWS::S3::Bucket", "Images")
    table = logical_id(tpl, "AWS::DynamoDB::Table", "Labels")
    key = logical_id(tpl, "AWS::KMS::Key", "BatchConstructsKey")
    statements = {json.dumps(s["Action"]): s["Resource"] for s in _statements(tpl, "PlatformLabelJobJobRolePolicy")}
    # the table key's statement (exact actions, through DynamoDB only) is checked in tests/apps/test_tables.py
    statements.pop(json.dumps(sorted(WRITER_KEY_ACTIONS)))
    statements = {json.loads(action): resource for action, resource in statements.items()}
    assert statements == {
        "s3:GetObject": {"Fn::Join": ["", [{"Fn::GetAtt": [images, "Arn"]}, f"/{UPLOAD_PREFIX}*"]]},
        "s3:ListBucket": {"Fn::GetAtt": [images, "Arn"]},
        "kms:Decrypt": {"Fn::GetAtt": [key, "Arn"]},
        "rekognition:DetectLabels": "*",  # no resource-level permission exists for DetectLabels
        "dynamodb:PutItem": {"Fn::GetAtt": [table, "Arn"]},
    }
    # No managed or inline policy anywhere grants S3 or DynamoDB on '*', nor a wildcard action.
    for policy_type in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(tpl, policy_type).values():
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
                targets = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
                if "*" in targets:
                    assert not any(a.startswith(("s3:", "dynamodb:")) for a in actions), statement
                if any(a.startswith(("s3:", "dynamodb:", "rekognition:")) for a in actions):
                    assert not any(a.endswith("*") for a in actions), statement


def test_stateful_resources_are_retained_and_recoverable(tpl: dict[str, Any]) -> None:
    stateful = {**resources(tpl, "AWS::S3::Bucket"), **resources(tpl, "AWS::DynamoDB::Table")}
    assert len(stateful) == 3
    for logical, resource in stateful.items():
        assert resource.get("DeletionPolicy") == "Retain", logical
        assert resource.get("UpdateReplacePolicy") == "Retain", logical
    _, table = one(tpl, "AWS::DynamoDB::Table")
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "image", "KeyType": "HASH"}]


def test_the_images_bucket_is_private_encrypted_versioned_and_access_logged(tpl: dict[str, Any]) -> None:
    images = tpl["Resources"][logical_id(tpl, "AWS::S3::Bucket", "Images")]["Properties"]
    logs = logical_id(tpl, "AWS::S3::Bucket", "AccessLogs")
    key = logical_id(tpl, "AWS::KMS::Key", "BatchConstructsKey")
    encryption = images["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]}}
    assert images["VersioningConfiguration"] == {"Status": "Enabled"}
    assert images["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs}
    assert all(images["PublicAccessBlockConfiguration"].values())
    for policy in resources(tpl, "AWS::S3::BucketPolicy").values():  # TLS only, on both buckets
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def _acknowledged(app: SynthesizedApp) -> set[tuple[str, str]]:
    metadata = json.loads((app.outdir / f"{STACK}.metadata.json").read_text())
    return {
        (path.removeprefix(f"/{STACK}/"), rule)
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule in entry["data"]
    }


def test_the_app_acknowledges_only_the_inherent_findings_on_the_narrowest_constructs(app: SynthesizedApp) -> None:
    # GIVEN the synthesis passed all five packs (a finding fails it); WHEN we list what this app itself acknowledged
    placed_by_app = {
        (path, rule)
        for path, rule in _acknowledged(app)
        if path.startswith(("Images", "AccessLogs", "Labels", "Platform/LabelJob/"))
    }
    replication = {
        (f"{b}/Resource", f"{p}::{p}-S3BucketReplicationEnabled") for b in ("Images", "AccessLogs") for p in PACKS
    }
    # THEN it is exactly this list (a new acknowledgement must be reviewed and added here)
    assert placed_by_app == {
        ("Platform/LabelJob/JobRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
        (
            "Platform/LabelJob/JobRole/Policy",
            "AwsSolutions::AwsSolutions-IAM5[Resource::<Images2D38C313.Arn>/uploads/*]",
        ),
        # placed by the library's ExecutionRole (ecr:GetAuthorizationToken has no resource-level permission)
        ("Platform/LabelJob/ExecutionRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
        *replication,
        *{("AccessLogs/Resource", f"{p}::{p}-S3DefaultEncryptionKMS") for p in PACKS},
        *{("Labels/Resource", f"{p}::{p}-DynamoDBInBackupPlan") for p in PACKS[:2]},
    }
