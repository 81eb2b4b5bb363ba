"""S3UploadTrigger: the bucket's EventBridge switch, the rule and its filters, the Batch target's input transformer,
the dead-letter queue, the scoped role, warnings and validation.

One stack holds the default and every option and is synthesized once with the five cdk-nag packs registered (a
finding fails the fixture); the variants that need a second app (notifications through CDK's custom resource) build
their own small one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Annotations, Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from batch_constructs import BatchConfigurationError, BatchQueue, ContainerJob, S3UploadTrigger
from batch_constructs._internal.compliance import acknowledge
from batch_constructs._internal.compliance import nag_text as flatten_cfn_reference
from batch_constructs.triggers.s3_upload import key_filter

from ..helpers import new_app
from ..unit_stacks import Synthesized, fargate_queue, imported_vpc, logical_id, nag_stack

IMAGE = "public.ecr.aws/docker/library/python:3.13-slim"
COMMAND = ["python", "-m", "convert", "--bucket", "Ref::bucket", "--key", "Ref::key"]

#: Findings on the test's own upload bucket, which is not under test (an app chooses its bucket's logging,
#: replication and versioning); acknowledged on that bucket only.
BUCKET_FINDINGS = (
    "AwsSolutions::AwsSolutions-S1",
    "NIST.800.53.R5::NIST.800.53.R5-S3BucketLoggingEnabled",
    "NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled",
    "HIPAA.Security::HIPAA.Security-S3BucketLoggingEnabled",
    "HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled",
    "PCI.DSS.321::PCI.DSS.321-S3BucketLoggingEnabled",
    "PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled",
)


def upload_bucket(stack: cdk.Stack, construct_id: str = "Uploads") -> s3.Bucket:
    """A bucket as an app would make it: KMS, TLS only, versioned, no public access, retained."""
    bucket = s3.Bucket(
        stack,
        construct_id,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=kms.Key(stack, f"{construct_id}Key", enable_key_rotation=True),
        enforce_ssl=True,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        removal_policy=RemovalPolicy.RETAIN,
    )
    for finding in BUCKET_FINDINGS:
        acknowledge(bucket, finding, "test fixture: the upload bucket itself is not under test")
    return bucket


@dataclass
class Built(Synthesized):
    queue: BatchQueue
    other_queue: BatchQueue
    job: ContainerJob
    bucket: s3.Bucket
    default: S3UploadTrigger
    options: S3UploadTrigger
    imported: S3UploadTrigger
    shared_dlq: sqs.Queue

    def target(self, trigger: S3UploadTrigger) -> dict[str, Any]:
        (target,) = self.resource(trigger.rule)["Properties"]["Targets"]
        return target  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    stack = nag_stack(tmp_path_factory, "S3TriggerTest")
    vpc = imported_vpc(stack)
    queue = fargate_queue(stack, vpc)
    other_queue = fargate_queue(stack, vpc, "OtherQueue")
    job = ContainerJob(stack, "Convert", image=IMAGE, queue=queue, command=COMMAND)
    other_job = ContainerJob(
        stack,
        "Thumbnail",
        image=IMAGE,
        queue=queue,
        command=["python", "-m", "thumb", "Ref::src_bucket", "Ref::src_key", "Ref::etag", "Ref::mode"],
        parameters={"mode": "fast"},
    )
    bucket = upload_bucket(stack)
    default = S3UploadTrigger(stack, "OnUpload", bucket=bucket, job=job, prefixes=["incoming/"])
    shared_dlq = sqs.Queue(stack, "SharedDlq", enforce_ssl=True, encryption=sqs.QueueEncryption.KMS_MANAGED)
    for finding in ("AwsSolutions::AwsSolutions-SQS3", "Serverless::Serverless-SQSRedrivePolicy"):
        acknowledge(shared_dlq, finding, "test fixture: a dead-letter queue passed in by the app")
    options = S3UploadTrigger(
        stack,
        "OnImage",
        bucket=bucket,
        job=other_job,
        queue=other_queue,
        prefixes=["images/", "photos/"],
        suffixes=[".jpg", ".png"],
        bucket_parameter="src_bucket",
        key_parameter="src_key",
        extra_parameters={"etag": events.EventField.from_path("$.detail.object.etag")},
        dead_letter_queue=shared_dlq,
        job_name="thumbnail",
        retry_attempts=3,
        max_event_age=Duration.hours(2),
        enabled=False,
    )
    imported_bucket = s3.Bucket.from_bucket_name(stack, "Partner", "partner-drop-bucket")
    imported = S3UploadTrigger(stack, "OnPartnerDrop", bucket=imported_bucket, job=job, suffixes=[".csv"])
    Annotations.of(imported).acknowledge_warning(
        "batch-constructs:imported-bucket-eventbridge", "test: the warning itself is asserted below"
    )
    return Built.synthesize(  # raises on any cdk-nag finding
        stack,
        queue=queue,
        other_queue=other_queue,
        job=job,
        bucket=bucket,
        default=default,
        options=options,
        imported=imported,
        shared_dlq=shared_dlq,
    )


# ------------------------------------------------------------------------------------------------ the bucket


def test_bucket_sends_events_to_eventbridge_without_a_custom_resource(built: Built) -> None:
    bucket = built.resource(built.bucket)["Properties"]
    assert bucket["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    types = {r["Type"] for r in built.template["Resources"].values()}
    assert "Custom::S3BucketNotifications" not in types
    assert "AWS::Lambda::Function" not in types
    assert built.default.event_bridge_enabled is True


# Small valid stacks that tests synthesize without the packs: one app, a stack per case, synthesized once.


def _imported(stack: cdk.Stack) -> S3UploadTrigger:
    queue = fargate_queue(stack, imported_vpc(stack))
    job = ContainerJob(stack, "Job", image=IMAGE, queue=queue, command=COMMAND)
    return S3UploadTrigger(
        stack, "T", bucket=s3.Bucket.from_bucket_name(stack, "B", "someone-elses"), job=job, prefixes=["a/"]
    )


def _mixed(stack: cdk.Stack) -> s3.Bucket:
    """A bucket that also notifies an SQS queue through the L2 (CDK's notifications custom resource, which replaces
    the bucket's whole notification configuration when it runs)."""
    queue = fargate_queue(stack, imported_vpc(stack))
    job = ContainerJob(stack, "Job", image=IMAGE, queue=queue, command=COMMAND)
    bucket = s3.Bucket(stack, "B")
    S3UploadTrigger(stack, "T", bucket=bucket, job=job, prefixes=["a/"])
    bucket.add_event_notification(s3.EventType.OBJECT_REMOVED, s3n.SqsDestination(sqs.Queue(stack, "Q")))
    return bucket


def _versions(stack: cdk.Stack) -> S3UploadTrigger:
    queue = fargate_queue(stack, imported_vpc(stack))
    job = ContainerJob(
        stack, "Scan", image=IMAGE, queue=queue, command=["scan", "Ref::bucket", "Ref::key", "Ref::version_id"]
    )
    trigger = S3UploadTrigger(
        stack, "ExactVersion", bucket=upload_bucket(stack), job=job, prefixes=["in/"], version_parameter="version_id"
    )
    plain = s3.Bucket(stack, "Plain")
    S3UploadTrigger(stack, "NoVersions", bucket=plain, job=job, prefixes=["in/"], version_parameter="version_id")
    return trigger


def _warned(stack: cdk.Stack) -> None:
    """An unfiltered trigger, and a trigger of a job whose command reads only ``Ref::key``."""
    queue = fargate_queue(stack, imported_vpc(stack))
    job = ContainerJob(stack, "Job", image=IMAGE, queue=queue, command=COMMAND)
    bucket = s3.Bucket(stack, "B")
    S3UploadTrigger(stack, "Everything", bucket=bucket, job=job)
    ignores = ContainerJob(stack, "Ignores", image=IMAGE, queue=queue, command=["python", "-m", "x", "Ref::key"])
    S3UploadTrigger(stack, "KeyOnly", bucket=bucket, job=ignores, prefixes=["in/"])


@dataclass
class Probes:
    stacks: dict[str, cdk.Stack]
    imported: S3UploadTrigger
    exact_version: S3UploadTrigger


@pytest.fixture(scope="module")
def probes() -> Probes:
    app = new_app()
    stacks = {name: cdk.Stack(app, name) for name in ("Imported", "Mixed", "Versions", "Warned")}
    imported = _imported(stacks["Imported"])
    _mixed(stacks["Mixed"])
    exact_version = _versions(stacks["Versions"])
    _warned(stacks["Warned"])
    app.synth()
    return Probes(stacks, imported, exact_version)


def test_imported_bucket_is_left_alone_with_a_warning(probes: Probes) -> None:
    stack, trigger = probes.stacks["Imported"], probes.imported
    assert trigger.event_bridge_enabled is False
    assert any(
        "imported-bucket-eventbridge" in w and "owner must enable them" in w for w in _warnings(stack, "/Imported/T")
    )
    assert not any(r["Type"] == "AWS::S3::Bucket" for r in Template.from_stack(stack).to_json()["Resources"].values())


def test_other_notifications_keep_eventbridge_on(probes: Probes) -> None:
    # GIVEN a bucket that also notifies an SQS queue through the L2 (CDK's notifications custom resource, which
    # replaces the bucket's whole notification configuration when it runs): _mixed
    # WHEN synthesized
    template = Template.from_stack(probes.stacks["Mixed"])
    # THEN the custom resource also turns EventBridge on
    template.has_resource_properties(
        "Custom::S3BucketNotifications",
        {"NotificationConfiguration": Match.object_like({"EventBridgeConfiguration": {}})},
    )


# ---------------------------------------------------------------------------------------------------- the rule


def test_rule_matches_object_created_in_this_bucket_under_the_prefix(built: Built) -> None:
    assert built.default.rule.node.id == "Rule"
    pattern = built.resource(built.default.rule)["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {
            "bucket": {"name": [{"Ref": logical_id(built.bucket)}]},
            "object": {"key": [{"prefix": "incoming/"}]},
        },
    }
    assert built.resource(built.default.rule)["Properties"]["State"] == "ENABLED"


def test_prefixes_and_suffixes_must_both_match(built: Built) -> None:
    pattern = built.resource(built.options.rule)["Properties"]["EventPattern"]
    assert pattern["detail"]["object"]["key"] == [
        {"wildcard": "images/*.jpg"},
        {"wildcard": "images/*.png"},
        {"wildcard": "photos/*.jpg"},
        {"wildcard": "photos/*.png"},
    ]
    assert built.resource(built.options.rule)["Properties"]["State"] == "DISABLED"


@pytest.mark.parametrize(
    ("prefixes", "suffixes", "expected"),
    [
        ((), (), None),
        ((), (".csv",), [{"suffix": ".csv"}]),
        (("a/",), (), [{"prefix": "a/"}]),
        (("we*ird\\",), (".x",), [{"wildcard": "we\\*ird\\\\*.x"}]),
    ],
)
def test_key_filter(prefixes: tuple[str, ...], suffixes: tuple[str, ...], expected: Any) -> None:
    assert cdk.Stack().resolve(key_filter(prefixes, suffixes)) == expected


def test_imported_bucket_rule_filters_by_its_name(built: Built) -> None:
    pattern = built.resource(built.imported.rule)["Properties"]["EventPattern"]
    assert pattern["detail"] == {"bucket": {"name": ["partner-drop-bucket"]}, "object": {"key": [{"suffix": ".csv"}]}}


# ------------------------------------------------------------------------------------------------- the target


def test_target_submits_the_job_with_bucket_and_key_as_parameters(built: Built) -> None:
    target = built.target(built.default)
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(built.queue.job_queue), "JobQueueArn"]}
    assert target["BatchParameters"] == {
        "JobDefinition": {"Ref": logical_id(built.job.job_definition)},
        "JobName": "OnUpload",
    }
    transformer = target["InputTransformer"]
    paths = transformer["InputPathsMap"]
    assert sorted(paths.values()) == ["$.detail.bucket.name", "$.detail.object.key"]
    bucket_var = next(k for k, v in paths.items() if v == "$.detail.bucket.name")
    key_var = next(k for k, v in paths.items() if v == "$.detail.object.key")
    assert transformer["InputTemplate"] == f'{{"Parameters":{{"bucket":<{bucket_var}>,"key":<{key_var}>}}}}'
    assert target["RoleArn"] == {"Fn::GetAtt": [logical_id(built.default.role), "Arn"]}


def test_options_rename_parameters_add_extra_ones_and_pick_the_queue(built: Built) -> None:
    target = built.target(built.options)
    assert target["Arn"] == {"Fn::GetAtt": [logical_id(built.other_queue.job_queue), "JobQueueArn"]}
    assert target["BatchParameters"]["JobName"] == "thumbnail"
    transformer = target["InputTransformer"]
    assert set(transformer["InputPathsMap"].values()) == {
        "$.detail.bucket.name",
        "$.detail.object.key",
        "$.detail.object.etag",
    }
    template = transformer["InputTemplate"]
    for name in ('"src_bucket":<', '"src_key":<', '"etag":<'):
        assert name in template
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 7200}


def test_default_dead_letter_queue_is_encrypted_and_only_this_rule_may_send(built: Built) -> None:
    dlq = built.default.dead_letter_queue
    assert isinstance(dlq, sqs.Queue) and dlq.node.id == "DeadLetterQueue"
    assert built.target(built.default)["DeadLetterConfig"] == {"Arn": {"Fn::GetAtt": [logical_id(dlq), "Arn"]}}
    props = built.resource(dlq)["Properties"]
    assert "KmsMasterKeyId" in props and props["MessageRetentionPeriod"] == 14 * 24 * 3600
    statements = [
        s
        for r in built.template["Resources"].values()
        if r["Type"] == "AWS::SQS::QueuePolicy" and {"Ref": logical_id(dlq)} in r["Properties"]["Queues"]
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    send = [s for s in statements if s["Action"] == "sqs:SendMessage"]
    assert len(send) == 1
    assert send[0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert send[0]["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": [logical_id(built.default.rule), "Arn"]}}
    }
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for s in statements
    )


def test_given_dead_letter_queue_is_used(built: Built) -> None:
    assert built.options.dead_letter_queue is built.shared_dlq
    assert built.target(built.options)["DeadLetterConfig"] == {
        "Arn": {"Fn::GetAtt": [logical_id(built.shared_dlq), "Arn"]}
    }
    assert built.options.node.try_find_child("DeadLetterQueue") is None


# --------------------------------------------------------------------------------------------------------- IAM


def test_role_trusts_eventbridge_and_may_submit_only_this_job_to_this_queue(built: Built) -> None:
    role = built.resource(built.default.role)["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "events.amazonaws.com"},
        }
    ]
    assert "Policies" not in role and "ManagedPolicyArns" not in role
    (statement,) = built.statements(built.default.role)
    assert statement["Action"] == "batch:SubmitJob"
    queue_arn, definition = statement["Resource"]
    assert queue_arn == {"Fn::GetAtt": [logical_id(built.queue.job_queue), "JobQueueArn"]}
    flat = flatten_cfn_reference(definition)
    assert ":job-definition/" in flat and flat.endswith(":*")
    assert logical_id(built.job.job_definition) in flat


def test_no_inline_policies_and_never_star_for_submit_job(built: Built) -> None:
    resources = built.template["Resources"].values()
    assert not [r for r in resources if r["Type"] == "AWS::IAM::Policy"]
    for policy in (r for r in resources if r["Type"] == "AWS::IAM::ManagedPolicy"):
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if "batch:SubmitJob" in statement["Action"]:
                assert "*" not in statement["Resource"]
                assert not any(isinstance(r, str) and r.endswith("job-definition/*") for r in statement["Resource"])


# ------------------------------------------------------------------------------------------------- warnings


def test_job_missing_required_parameter_warning_is_acknowledged_by_the_trigger(built: Built) -> None:
    # The job's command reads Ref::bucket/Ref::key without defaults; the trigger passes both on every submission.
    metadata = json.loads((built.outdir / "S3TriggerTest.metadata.json").read_text())
    job_entries = metadata.get("/S3TriggerTest/Convert", [])
    assert not any(e["type"] == "aws:cdk:warning" and "required-parameters" in str(e["data"]) for e in job_entries)
    thumb_entries = metadata.get("/S3TriggerTest/Thumbnail", [])
    assert not any(e["type"] == "aws:cdk:warning" for e in thumb_entries)


@pytest.fixture(scope="module")
def scratch() -> tuple[cdk.Stack, ContainerJob, s3.Bucket]:
    """A stack that is never synthesized: constructs that raise stay half-built in it."""
    stack = cdk.Stack(new_app(), "Scratch")
    queue = fargate_queue(stack, imported_vpc(stack))
    job = ContainerJob(stack, "Job", image=IMAGE, queue=queue, command=COMMAND)
    return stack, job, s3.Bucket(stack, "B")


def _warnings(stack: cdk.Stack, path: str) -> list[str]:
    from aws_cdk.assertions import Annotations as AssertAnnotations

    return [str(m.entry.data) for m in AssertAnnotations.from_stack(stack).find_warning(path, Match.any_value())]


# The two warning cases are synthesized (the warnings are read from the assembly), so they live in a stack of
# their own (_warned), not in the scratch stack, which holds the error cases' half-built constructs.


def test_unfiltered_trigger_warns_about_loops(probes: Probes) -> None:
    assert any("trigger-unfiltered" in w for w in _warnings(probes.stacks["Warned"], "/Warned/Everything"))


def test_command_that_ignores_the_parameters_warns(probes: Probes) -> None:
    warnings = _warnings(probes.stacks["Warned"], "/Warned/KeyOnly")
    assert any("trigger-parameters" in w and "Ref::bucket" in w for w in warnings)
    assert not any("Ref::key" in w and "trigger-parameters" in w and "Ref::bucket or" in w for w in warnings)


# ----------------------------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"prefixes": "incoming/"}, r"\[trigger-filters\] prefixes='incoming/' is a string"),
        ({"suffixes": [""]}, r"\[trigger-filters\] suffixes contains an empty string"),
        ({"prefixes": ["/in/"]}, r"\[trigger-filters\] prefix '/in/' starts with '/'.*Fix: use 'in/'"),
        (
            {"prefixes": [f"p{i}/" for i in range(11)], "suffixes": [f".s{i}" for i in range(10)]},
            r"\[trigger-filters\] 11 prefixes x 10 suffixes = 110 key patterns; at most 100",
        ),
        ({"key_parameter": "object-key"}, r"\[trigger-parameters\] key_parameter='object-key' cannot be referenced"),
        ({"bucket_parameter": "key"}, r"\[trigger-parameters\] key_parameter and bucket_parameter are both 'key'"),
        ({"extra_parameters": {"bucket": "x"}}, r"\[trigger-parameters\] .* are both 'bucket'"),
        ({"job_name": "bad name!"}, r"\[name\] job_name='bad name!'"),
        ({"job_name": "_underscore_first"}, r"\[name\] job_name='_underscore_first'.*first a letter or digit"),
    ],
)
def test_invalid_options(
    scratch: tuple[cdk.Stack, ContainerJob, s3.Bucket], kwargs: dict[str, Any], pattern: str
) -> None:
    stack, job, bucket = scratch
    construct_id = f"Bad{len(stack.node.children)}"
    with pytest.raises(BatchConfigurationError, match=pattern) as raised:
        S3UploadTrigger(stack, construct_id, bucket=bucket, job=job, **kwargs)
    assert f"Scratch/{construct_id}" in str(raised.value)


def test_job_without_queue(scratch: tuple[cdk.Stack, ContainerJob, s3.Bucket]) -> None:
    stack, _, bucket = scratch
    job = ContainerJob(stack, "NoQueue", image=IMAGE, command=COMMAND)
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-queue\] job Scratch/NoQueue has no queue"):
        S3UploadTrigger(stack, "NoQueueTrigger", bucket=bucket, job=job, prefixes=["a/"])


def test_job_without_queue_but_queue_given_is_fine(scratch: tuple[cdk.Stack, ContainerJob, s3.Bucket]) -> None:
    stack, _, bucket = scratch
    queue = stack.node.find_child("Queue")
    assert isinstance(queue, BatchQueue)
    job = ContainerJob(stack, "Queueless", image=IMAGE, command=COMMAND)
    trigger = S3UploadTrigger(stack, "QueueGiven", bucket=bucket, job=job, queue=queue, prefixes=["a/"])
    assert trigger.rule.node.id == "Rule"


# -------------------------------------------------------------------------------------------- compliance, lint


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert built.nag_violations() == []


def test_submit_revisions_acknowledgement_names_exactly_this_job_definition(built: Built) -> None:
    metadata = json.loads((built.outdir / "S3TriggerTest.metadata.json").read_text())
    acknowledged = [
        ack
        for entry in metadata["/S3TriggerTest/OnUpload/Role/Policy"]
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for ack in entry["data"]
    ]
    (ack,) = acknowledged
    assert ack.startswith("AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:batch:")
    assert logical_id(built.job.job_definition) in ack and ack.endswith(":*]")


def test_cfn_lint_clean(built: Built) -> None:
    assert built.template_file.name == "S3TriggerTest.template.json"
    assert built.cfn_lint() == []


def test_version_parameter_passes_the_events_version_id(probes: Probes) -> None:
    # Without it the job reads whatever the key holds when it starts (issue 16: an overwritten upload was never read).
    stack, trigger = probes.stacks["Versions"], probes.exact_version
    rules = Template.from_stack(stack).find_resources("AWS::Events::Rule")
    (target,) = rules[logical_id(trigger.rule)]["Properties"]["Targets"]
    paths = target["InputTransformer"]["InputPathsMap"]
    version_var = next(k for k, v in paths.items() if v == "$.detail.object.version-id")
    assert f'"version_id":<{version_var}>' in target["InputTransformer"]["InputTemplate"]
    assert not any("trigger-parameters" in w for w in _warnings(stack, "/Versions/ExactVersion"))
    assert any("is not versioned" in w for w in _warnings(stack, "/Versions/NoVersions"))


def test_version_parameter_is_a_parameter_name(scratch: tuple[cdk.Stack, ContainerJob, s3.Bucket]) -> None:
    stack, job, bucket = scratch
    with pytest.raises(BatchConfigurationError, match=r"\[trigger-parameters\] version_parameter='v-1'"):
        S3UploadTrigger(stack, "BadVersion", bucket=bucket, job=job, prefixes=["in/"], version_parameter="v-1")
