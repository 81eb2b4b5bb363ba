"""What the MoviesImporter stack must contain, synthesized once (with the five cdk-nag packs: a finding fails it)."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from apps.movies_importer.job import importer
from apps.movies_importer.stack import DAILY_FILE

from ..conftest import SynthesizedApp
from ..helpers import one, resources

STACK = "MoviesImporter"


@pytest.fixture(scope="module")
def synthesized(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    return synth_app("movies_importer")


@pytest.fixture(scope="module")
def tpl(synthesized: SynthesizedApp) -> dict[str, Any]:
    return synthesized.template(STACK)


@pytest.fixture(scope="module")
def template(tpl: dict[str, Any]) -> Template:
    return Template.from_json(tpl)


def logical_id_by_prefix(tpl: dict[str, Any], resource_type: str, prefix: str) -> str:
    ids = [k for k in resources(tpl, resource_type) if k.startswith(prefix)]
    assert len(ids) == 1, ids
    return ids[0]


def test_app_adds_one_stack_named_movies_importer(synthesized: SynthesizedApp) -> None:
    assert list(synthesized.templates) == [STACK]


# --------------------------------------------------------------------------------------------- compute and job


def test_fargate_spot_and_fargate_environments_behind_one_queue(tpl: dict[str, Any], template: Template) -> None:
    envs = resources(tpl, "AWS::Batch::ComputeEnvironment")
    assert sorted(e["Properties"]["ComputeResources"]["Type"] for e in envs.values()) == ["FARGATE", "FARGATE_SPOT"]
    _, queue = one(tpl, "AWS::Batch::JobQueue")
    order = queue["Properties"]["ComputeEnvironmentOrder"]
    by_type = {k: e["Properties"]["ComputeResources"]["Type"] for k, e in envs.items()}
    in_order = sorted(order, key=lambda o: o["Order"])
    assert [by_type[o["ComputeEnvironment"]["Fn::GetAtt"][0]] for o in in_order] == [
        "FARGATE_SPOT",
        "FARGATE",
    ]


def test_job_definition_is_fargate_1_vcpu_2048_mib(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Batch::JobDefinition",
        {
            "PlatformCapabilities": ["FARGATE"],
            "ContainerProperties": Match.object_like(
                {
                    "ResourceRequirements": Match.array_equals(
                        [{"Type": "MEMORY", "Value": "2048"}, {"Type": "VCPU", "Value": "1"}]
                    ),
                    "NetworkConfiguration": {"AssignPublicIp": "DISABLED"},
                }
            ),
        },
    )


def test_job_parameters_reach_the_importer_as_its_options(tpl: dict[str, Any]) -> None:
    _, job = one(tpl, "AWS::Batch::JobDefinition")
    command: list[str] = job["Properties"]["ContainerProperties"]["Command"]
    defaults = job["Properties"]["Parameters"]
    bucket_id = logical_id_by_prefix(tpl, "AWS::S3::Bucket", "Uploads")
    table_id = logical_id_by_prefix(tpl, "AWS::DynamoDB::Table", "Movies")
    assert defaults == {"bucket": {"Ref": bucket_id}, "file_path": DAILY_FILE, "table_name": {"Ref": table_id}}
    # Substitute each Ref:: the way AWS Batch does: the importer's own parser accepts the result.
    values = {"bucket": "uploads-bucket", "file_path": "uploads/today.zip", "table_name": "movies-table"}
    argv = [values[a.removeprefix("Ref::")] if a.startswith("Ref::") else a for a in command]
    settings = importer.load_settings(argv, {})
    assert (settings.bucket, settings.file_path, settings.table_name) == tuple(values.values())


def test_job_image_is_built_from_the_job_directory(synthesized: SynthesizedApp) -> None:
    assets = json.loads((synthesized.outdir / f"{STACK}.assets.json").read_text())
    images = list(assets["dockerImages"].values())
    assert len(images) == 1
    source_dir = synthesized.outdir / images[0]["source"]["directory"]
    assert (source_dir / "Dockerfile").is_file()
    assert (source_dir / "importer.py").read_bytes() == pathlib.Path(importer.__file__).read_bytes()


# --------------------------------------------------------------------------------------------- triggers


def test_state_machine_runs_the_job_with_submit_job_sync(tpl: dict[str, Any]) -> None:
    _, machine = one(tpl, "AWS::StepFunctions::StateMachine")
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert ":states:::batch:submitJob.sync" in definition
    job_id, _ = one(tpl, "AWS::Batch::JobDefinition")
    assert job_id in definition


def test_daily_schedule_starts_the_state_machine_with_the_daily_file(tpl: dict[str, Any]) -> None:
    _, rule = one(tpl, "AWS::Events::Rule")
    assert rule["Properties"]["ScheduleExpression"] == "cron(0 3 * * ? *)"
    (target,) = rule["Properties"]["Targets"]
    machine_id, _ = one(tpl, "AWS::StepFunctions::StateMachine")
    assert target["Arn"] == {"Ref": machine_id}
    assert json.loads(target["Input"]) == {"parameters": {"file_path": DAILY_FILE}}
    assert "DeadLetterConfig" in target


# --------------------------------------------------------------------------------------------- state


def test_table_is_on_demand_with_pitr_encryption_and_retained(tpl: dict[str, Any]) -> None:
    _, table = one(tpl, "AWS::DynamoDB::Table")
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEType"] == "KMS"  # the stack key: tests/apps/test_tables.py
    assert props["KeySchema"] == [{"AttributeName": "movieId", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "movieId", "AttributeType": "N"}]


def test_uploads_bucket_is_private_tls_only_versioned_kms_logged_and_retained(tpl: dict[str, Any]) -> None:
    buckets = resources(tpl, "AWS::S3::Bucket")
    uploads_id = logical_id_by_prefix(tpl, "AWS::S3::Bucket", "Uploads")
    logs_id = logical_id_by_prefix(tpl, "AWS::S3::Bucket", "AccessLogs")
    for bucket in buckets.values():
        assert bucket["DeletionPolicy"] == "Retain"
        props = bucket["Properties"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
    uploads = buckets[uploads_id]["Properties"]
    (encryption,) = uploads["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert encryption["BucketKeyEnabled"] is True
    assert uploads["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": logs_id}
    policies = {p["Properties"]["Bucket"]["Ref"]: p for p in resources(tpl, "AWS::S3::BucketPolicy").values()}
    for bucket_id in (uploads_id, logs_id):
        statements = policies[bucket_id]["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


# --------------------------------------------------------------------------------------------- IAM


def job_role_statements(tpl: dict[str, Any]) -> list[dict[str, Any]]:
    _, job = one(tpl, "AWS::Batch::JobDefinition")
    role_id = job["Properties"]["ContainerProperties"]["JobRoleArn"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for kind in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
        for policy in resources(tpl, kind).values():
            if {"Ref": role_id} in policy["Properties"].get("Roles", []):
                statements += policy["Properties"]["PolicyDocument"]["Statement"]
    role = tpl["Resources"][role_id]
    assert "Policies" not in role["Properties"] and "ManagedPolicyArns" not in role["Properties"]
    return statements


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_job_role_may_do_exactly_what_the_importer_calls(tpl: dict[str, Any]) -> None:
    # the table key's statement (exact actions, through DynamoDB only) is checked in tests/apps/test_tables.py
    statements = [s for s in job_role_statements(tpl) if "dynamodb." not in json.dumps(s)]
    actions = sorted(a for s in statements for a in as_list(s["Action"]))
    assert actions == [
        "dynamodb:BatchWriteItem",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:GetObject",
        "s3:ListBucket",
        "s3:PutObject",
    ]
    assert "s3:ListObjectsInBucket" not in actions
    assert all(s["Effect"] == "Allow" for s in statements)
    for statement in statements:
        assert "*" not in as_list(statement["Resource"]), statement
    bucket_id = logical_id_by_prefix(tpl, "AWS::S3::Bucket", "Uploads")
    table_id = logical_id_by_prefix(tpl, "AWS::DynamoDB::Table", "Movies")
    by_action = {a: s["Resource"] for s in statements for a in as_list(s["Action"])}
    assert by_action["s3:GetObject"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/uploads/*"]]}
    assert by_action["s3:ListBucket"] == {"Fn::GetAtt": [bucket_id, "Arn"]}
    # the rejected rows of each import, outside uploads/ (importer.py's REJECTS_PREFIX)
    assert by_action["s3:PutObject"] == {"Fn::Join": ["", [{"Fn::GetAtt": [bucket_id, "Arn"]}, "/rejects/*"]]}
    assert by_action["dynamodb:BatchWriteItem"] == {"Fn::GetAtt": [table_id, "Arn"]}


# --------------------------------------------------------------------------------------------- compliance


#: Every cdk-nag acknowledgement the stack records (construct path, finding): the app's own and the library's.
EXPECTED_ACKNOWLEDGEMENTS = {
    # The app's (apps/movies_importer/stack.py).
    *(
        (path, f"{pack}::{pack}-S3BucketReplicationEnabled")
        for path in ("Uploads/Resource", "AccessLogs/Resource")
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    ),
    *(
        ("AccessLogs/Resource", f"{pack}::{pack}-S3DefaultEncryptionKMS")
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    ),
    *(("Movies/Resource", f"{pack}::{pack}-DynamoDBInBackupPlan") for pack in ("NIST.800.53.R5", "HIPAA.Security")),
    ("Platform/ImportJob/JobRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::<Uploads4F6EB0FD.Arn>/uploads/*]"),
    ("Platform/ImportJob/JobRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::<Uploads4F6EB0FD.Arn>/rejects/*]"),
    ("Platform/ImportJob/ExecutionRole/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    # The library's (BatchNetwork, the dead-letter queue, BatchJobStateMachine).
    *(
        (f"Platform/Network/Vpc/PublicSubnet{n}/DefaultRoute", f"{pack}::{pack}-VPCNoUnrestrictedRouteToIGW")
        for n in (1, 2)
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    ),
    ("DailyImport/DeadLetterQueue", "AwsSolutions::AwsSolutions-SQS3"),
    ("DailyImport/DeadLetterQueue", "Serverless::Serverless-SQSRedrivePolicy"),
    ("ImportStateMachine/Role/Policy", "AwsSolutions::AwsSolutions-IAM5[Resource::*]"),
    (
        "ImportStateMachine/Role/Policy",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:batch:<AWS::Region>:<AWS::AccountId>:job/*]",
    ),
    # aws-cdk's default-security-group restriction, for audits of the template alone (BatchNetwork).
    *(
        ("Platform/Network/Vpc/Resource", f"{pack}::{pack}-VPCDefaultSecurityGroupClosed")
        for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
    ),
    *(
        ("Custom::VpcRestrictDefaultSGCustomResourceProvider", finding)
        for finding in (
            "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]",
            *(
                f"{pack}::{pack}-{rule}"
                for pack in ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
                for rule in ("IAMNoInlinePolicy", "LambdaInsideVPC")
            ),
            *(f"{pack}::{pack}-LambdaDLQ" for pack in ("NIST.800.53.R5", "HIPAA.Security", "Serverless")),
            *(f"{pack}::{pack}-LambdaConcurrency" for pack in ("NIST.800.53.R5", "HIPAA.Security")),
            "Serverless::Serverless-LambdaTracing",
        )
    ),
}
PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "Serverless")


def test_only_the_reviewed_acknowledgements_are_recorded(synthesized: SynthesizedApp) -> None:
    metadata = json.loads((synthesized.outdir / f"{STACK}.metadata.json").read_text())
    recorded = {
        (path.removeprefix(f"/{STACK}/"), finding): reason
        for path, entries in metadata.items()
        for entry in entries
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for finding, reason in entry["data"].items()
        if finding.split("::")[0] in PACKS
    }
    # The job definition's one submit grant is acknowledged too; its id embeds the generated job definition name.
    submit = {k for k in recorded if k[0] == "ImportStateMachine/Role/Policy" and ":job-definition/" in k[1]}
    assert len(submit) == 1
    assert set(recorded) - submit == EXPECTED_ACKNOWLEDGEMENTS
    assert all(len(reason) >= 80 for reason in recorded.values())
