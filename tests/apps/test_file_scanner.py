"""The FileScanner stack: what the file scanner app must contain (synthesized once, with the five cdk-nag packs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from ..conftest import SynthesizedApp
from ..helpers import resources

STACK = "FileScanner"


@pytest.fixture(scope="module")
def app(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    # Synthesized with AwsSolutions, NIST 800-53 R5, HIPAA, PCI DSS and Serverless: any finding fails this fixture.
    return synth_app("file_scanner")


@pytest.fixture(scope="module")
def tpl(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(STACK)


@pytest.fixture(scope="module")
def template(tpl: dict[str, Any]) -> Template:
    return Template.from_json(tpl)


def logical_id(tpl: dict[str, Any], resource_type: str, prefix: str) -> str:
    (found,) = [k for k in resources(tpl, resource_type) if k.startswith(prefix)]
    return found


def only(tpl: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    ((key, value),) = resources(tpl, resource_type).items()
    return key, value


def test_the_app_is_one_stack(app: SynthesizedApp) -> None:
    assert sorted(app.templates) == [STACK]


def test_the_queue_tries_spot_first_then_on_demand(tpl: dict[str, Any]) -> None:
    _, queue = only(tpl, "AWS::Batch::JobQueue")
    order = sorted(queue["Properties"]["ComputeEnvironmentOrder"], key=lambda o: o["Order"])
    environments = [tpl["Resources"][o["ComputeEnvironment"]["Fn::GetAtt"][0]] for o in order]
    assert [e["Properties"]["ComputeResources"]["Type"] for e in environments] == ["SPOT", "EC2"]
    spot = environments[0]["Properties"]["ComputeResources"]
    assert spot["AllocationStrategy"] == "SPOT_PRICE_CAPACITY_OPTIMIZED"
    assert len(spot["InstanceTypes"]) >= 6  # diversified pools: fewer interruptions
    for environment in environments:  # scale to zero: nothing billed while idle
        assert environment["Properties"]["ComputeResources"]["MinvCpus"] == 0


def test_the_job_retries_spot_reclaims_only_and_has_a_generous_timeout(tpl: dict[str, Any]) -> None:
    _, job = only(tpl, "AWS::Batch::JobDefinition")
    props = job["Properties"]
    assert props["PlatformCapabilities"] == ["EC2"]
    retry = props["RetryStrategy"]
    assert retry["Attempts"] == 5
    assert retry["EvaluateOnExit"][0] == {"Action": "RETRY", "OnStatusReason": "Host EC2*"}
    assert retry["EvaluateOnExit"][-1] == {"Action": "EXIT", "OnReason": "*"}  # anything else fails at once
    assert props["Timeout"]["AttemptDurationSeconds"] == 2 * 3600


def test_the_job_reads_its_parameters_and_knows_its_outputs(tpl: dict[str, Any]) -> None:
    _, job = only(tpl, "AWS::Batch::JobDefinition")
    container = job["Properties"]["ContainerProperties"]
    assert container["Command"] == [
        *("python", "/app/scanner.py", "--bucket", "Ref::bucket", "--key", "Ref::key"),
        *("--version-id", "Ref::version_id"),  # the exact version of the upload (issue 16)
    ]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    assert env == {
        "RESULTS_BUCKET": {"Ref": logical_id(tpl, "AWS::S3::Bucket", "Results")},
        "STATUS_TABLE": {"Ref": logical_id(tpl, "AWS::DynamoDB::Table", "ScanStatus")},
    }
    requirements = {r["Type"]: r["Value"] for r in container["ResourceRequirements"]}
    assert requirements == {"VCPU": "1", "MEMORY": "2048"}


def test_uploads_under_incoming_submit_the_scanner_with_bucket_and_key(tpl: dict[str, Any]) -> None:
    uploads = logical_id(tpl, "AWS::S3::Bucket", "Uploads")
    rules = [
        r
        for r in resources(tpl, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"]["source"] == ["aws.s3"]
    ]
    (rule,) = rules
    assert rule["Properties"]["EventPattern"]["detail"] == {
        "bucket": {"name": [{"Ref": uploads}]},
        "object": {"key": [{"prefix": "incoming/"}]},
    }
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(tpl, "AWS::Batch::JobQueue", "Queue"), "JobQueueArn"]}
    assert target["BatchParameters"]["JobDefinition"] == {"Ref": logical_id(tpl, "AWS::Batch::JobDefinition", "")}
    template = json.loads(target["InputTransformer"]["InputTemplate"].replace("<", '"<').replace(">", '>"'))
    assert template == {
        "Parameters": {
            "bucket": "<detail-bucket-name>",
            "key": "<detail-object-key>",
            "version_id": "<detail-object-version-id>",
        }
    }
    assert "DeadLetterConfig" in target
    bucket = tpl["Resources"][uploads]["Properties"]
    assert bucket["NotificationConfiguration"]["EventBridgeConfiguration"]["EventBridgeEnabled"] is True


def test_failed_jobs_of_this_queue_alert_an_encrypted_topic(tpl: dict[str, Any]) -> None:
    queue = logical_id(tpl, "AWS::Batch::JobQueue", "Queue")
    topic_id, topic = only(tpl, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in topic["Properties"]
    failed = [
        r
        for r in resources(tpl, "AWS::Events::Rule").values()
        if r["Properties"]["EventPattern"].get("detail", {}).get("status") == ["FAILED"]
    ]
    (rule,) = failed
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.batch"] and pattern["detail-type"] == ["Batch Job State Change"]
    assert pattern["detail"]["jobQueue"] == [{"Fn::GetAtt": [queue, "JobQueueArn"]}]
    (target,) = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Ref": topic_id}
    assert tpl["Outputs"]["AlertsTopicArn"]["Value"] == {"Ref": topic_id}


def test_results_go_to_another_bucket_so_the_job_never_triggers_itself(tpl: dict[str, Any]) -> None:
    assert logical_id(tpl, "AWS::S3::Bucket", "Results") != logical_id(tpl, "AWS::S3::Bucket", "Uploads")


def test_the_job_role_may_do_exactly_what_the_scanner_calls(tpl: dict[str, Any]) -> None:
    uploads = logical_id(tpl, "AWS::S3::Bucket", "Uploads")
    results = logical_id(tpl, "AWS::S3::Bucket", "Results")
    role = logical_id(tpl, "AWS::IAM::Role", "ScannerJobRole")
    (policy,) = [
        p
        for p in resources(tpl, "AWS::IAM::ManagedPolicy").values()
        if {"Ref": role} in p["Properties"].get("Roles", [])
    ]
    # the table key's statement (through DynamoDB only) is tests/apps/test_tables.py's
    statements = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "dynamodb." not in json.dumps(s)]
    actions = sorted(a for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"]))
    assert actions == sorted(
        [
            "s3:GetObject",
            "s3:GetObjectVersion",
            "s3:ListBucket",
            "s3:PutObject",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
        ]
    )
    by_action = {
        a: s["Resource"] for s in statements for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    }
    assert by_action["s3:GetObject"] == {"Fn::Join": ["", [{"Fn::GetAtt": [uploads, "Arn"]}, "/incoming/*"]]}
    assert by_action["s3:PutObject"] == {"Fn::Join": ["", [{"Fn::GetAtt": [results, "Arn"]}, "/results/*"]]}
    assert all(s["Effect"] == "Allow" for s in statements)
    assert not resources(tpl, "AWS::IAM::Policy") or all(
        {"Ref": role} not in p["Properties"].get("Roles", []) for p in resources(tpl, "AWS::IAM::Policy").values()
    )


def test_stateful_resources_are_retained_encrypted_and_recoverable(tpl: dict[str, Any], template: Template) -> None:
    buckets = resources(tpl, "AWS::S3::Bucket")
    assert len(buckets) == 3  # uploads, results, access logs
    for name, bucket in buckets.items():
        assert bucket["DeletionPolicy"] == "Retain", name
        assert bucket["Properties"]["VersioningConfiguration"] == {"Status": "Enabled"}, name
    for prefix in ("Uploads", "Results"):
        props = buckets[logical_id(tpl, "AWS::S3::Bucket", prefix)]["Properties"]
        sse = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
        assert sse["SSEAlgorithm"] == "aws:kms"
        assert props["LoggingConfiguration"]["DestinationBucketName"] == {
            "Ref": logical_id(tpl, "AWS::S3::Bucket", "AccessLogs")
        }
    _, table = only(tpl, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain"
    assert table["Properties"]["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["Properties"]["KeySchema"] == [{"AttributeName": "key", "KeyType": "HASH"}]
    assert table["Properties"]["BillingMode"] == "PAY_PER_REQUEST"
    # every bucket refuses plain HTTP
    template.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )
    assert len(resources(tpl, "AWS::S3::BucketPolicy")) == 3
