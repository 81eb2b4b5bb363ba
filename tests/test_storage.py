"""Storage helpers: access-logs and data buckets (defaults, options, acknowledgements, logical ids) and the exact
prefix grants (statements, listing modes, KMS, the IAM5 acknowledgement and where it is not placed).

One stack holds the defaults and every option and is synthesized once with the five cdk-nag packs registered (a
finding fails the fixture); the cases that need no packs (plain and imported roles, other-stack buckets) build small
apps of their own.
"""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3

from batch_constructs import (
    JobRole,
    access_logs_bucket,
    data_bucket,
    grant_read_objects,
    grant_write_objects,
    stack_encryption_key,
)
from batch_constructs.compliance import acknowledge

from .helpers import cfn_lint, nag_violations, new_app, synth_with_packs

STACK = "StorageTest"
CONTROL_PACKS = ("NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321")
#: What cdk-nag names the prefix wildcard of an imported bucket (the helpers leave it to the caller).
IMPORTED_FINDING = "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::team-archive/reports/*]"

#: kms:ViaService of S3 in the stack's region: the condition on every KMS grant of the object grants.
VIA_S3 = {"StringEquals": {"kms:ViaService": {"Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]}}}


def logical_id(construct: Any) -> str:
    child = construct.node.default_child if not isinstance(construct, cdk.CfnElement) else construct
    stack = cdk.Stack.of(child)
    return str(stack.resolve(stack.get_logical_id(child)))


def acknowledged(outdir: pathlib.Path, stack: str) -> dict[str, dict[str, str]]:
    """Construct path below the stack -> {acknowledged finding id: reason}."""
    found: dict[str, dict[str, str]] = {}
    for path, entries in json.loads((outdir / f"{stack}.metadata.json").read_text()).items():
        for entry in entries:
            if entry["type"] == "aws:cdk:acknowledged-rules":
                found.setdefault(path.removeprefix(f"/{stack}/"), {}).update(entry["data"])
    return found


@dataclass
class Built:
    stack: cdk.Stack
    template: dict[str, Any]
    outdir: pathlib.Path
    logs: s3.Bucket
    short_logs: s3.Bucket
    uploads: s3.Bucket
    options: s3.Bucket
    own_key: kms.Key
    roles: dict[str, JobRole]
    grants: dict[str, iam.Grant]

    def props(self, construct: Any) -> dict[str, Any]:
        return self.template["Resources"][logical_id(construct)]["Properties"]  # type: ignore[no-any-return]

    def resource(self, construct: Any) -> dict[str, Any]:
        return self.template["Resources"][logical_id(construct)]  # type: ignore[no-any-return]

    def statements(self, role_name: str) -> list[dict[str, Any]]:
        policy = self.roles[role_name].managed_policy
        assert policy is not None
        return self.props(policy)["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]

    def acks(self, path: str) -> dict[str, str]:
        return acknowledged(self.outdir, STACK).get(path, {})


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return action if isinstance(action, list) else [action]


def _by_action(statements: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {a: s for s in statements for a in _actions(s)}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    app = new_app(outdir=str(tmp_path_factory.mktemp("cdk.out.storage")))
    stack = cdk.Stack(app, STACK)
    logs = access_logs_bucket(stack, "AccessLogs")
    short_logs = access_logs_bucket(
        stack,
        "ShortLogs",
        retention=Duration.days(90),
        noncurrent_version_expiration=Duration.days(7),
        removal_policy=RemovalPolicy.DESTROY,
        replication_reason="Test logs of a sandbox account, worthless after three months.",
    )
    uploads = data_bucket(stack, "Uploads", access_logs=logs)
    own_key = kms.Key(stack, "OwnKey", enable_key_rotation=True)
    options = data_bucket(
        stack,
        "Options",
        access_logs=short_logs,
        access_logs_prefix="custom/",
        encryption_key=own_key,
        noncurrent_version_expiration=None,
        abort_incomplete_uploads_after=Duration.days(2),
        event_bridge=True,
        removal_policy=RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
        replication_reason="Test fixture data, rebuilt by every test run.",
    )
    roles = {name: JobRole(stack, name) for name in ("Reader", "Versions", "NoList", "Writer", "LogReader", "External")}
    archive = s3.Bucket.from_bucket_name(stack, "Archive", "team-archive")
    grants = {
        "Reader": grant_read_objects(roles["Reader"], uploads, "incoming/"),
        "Versions": grant_read_objects(roles["Versions"], uploads, "incoming/", versions=True, listing="prefix"),
        "NoList": grant_read_objects(roles["NoList"], options, "", listing="none"),
        "Writer": grant_write_objects(roles["Writer"], options, "results/"),
        "WriterReads": grant_read_objects(roles["Writer"], options, "results/"),
        "LogReader": grant_read_objects(roles["LogReader"], logs, "uploads/"),
        "External": grant_read_objects(roles["External"], archive, "reports/"),
    }
    # Documented behaviour: for an imported bucket the caller acknowledges the wildcard, named with the literal ARN.
    external_policy = roles["External"].managed_policy
    assert external_policy is not None
    acknowledge(external_policy, IMPORTED_FINDING, "test: reports of the archive bucket, keys chosen at run time")
    assembly, outdir = synth_with_packs(app)  # raises on any cdk-nag finding
    return Built(
        stack=stack,
        template=assembly.get_stack_by_name(STACK).template,
        outdir=outdir,
        logs=logs,
        short_logs=short_logs,
        uploads=uploads,
        options=options,
        own_key=own_key,
        roles=roles,
        grants=grants,
    )


# ---------------------------------------------------------------------------------------------- access logs bucket


def test_access_logs_bucket_defaults(built: Built) -> None:
    bucket = built.resource(built.logs)
    props = bucket["Properties"]
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["LifecycleConfiguration"] == {
        "Rules": [{"ExpirationInDays": 365, "NoncurrentVersionExpiration": {"NoncurrentDays": 30}, "Status": "Enabled"}]
    }
    assert "LoggingConfiguration" not in props and "BucketName" not in props
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_access_logs_bucket_options(built: Built) -> None:
    bucket = built.resource(built.short_logs)
    assert bucket["Properties"]["LifecycleConfiguration"] == {
        "Rules": [{"ExpirationInDays": 90, "NoncurrentVersionExpiration": {"NoncurrentDays": 7}, "Status": "Enabled"}]
    }
    assert bucket["DeletionPolicy"] == "Delete"


def test_buckets_refuse_plain_http(built: Built) -> None:
    tls_only = {
        json.dumps(policy["Properties"]["Bucket"])
        for policy in built.template["Resources"].values()
        if policy["Type"] == "AWS::S3::BucketPolicy"
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    }
    buckets = (built.logs, built.short_logs, built.uploads, built.options)
    assert tls_only == {json.dumps({"Ref": logical_id(b)}) for b in buckets}


def test_access_logs_bucket_acknowledges_sse_s3_and_replication_in_the_control_packs(built: Built) -> None:
    acks = built.acks("AccessLogs/Resource")
    assert set(acks) == {
        f"{pack}::{pack}-{rule}"
        for pack in CONTROL_PACKS
        for rule in ("S3DefaultEncryptionKMS", "S3BucketReplicationEnabled")
    }
    assert (
        "delivers only to buckets encrypted with SSE-S3"
        in acks["NIST.800.53.R5::NIST.800.53.R5-S3DefaultEncryptionKMS"]
    )
    replication = acks["HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled"]
    assert "server access logs" in replication and "365 days" in replication
    assert replication.endswith("add a replication rule to this bucket when a second-region copy is required.")


def test_access_logs_bucket_takes_the_callers_replication_reason(built: Built) -> None:
    reason = built.acks("ShortLogs/Resource")["PCI.DSS.321::PCI.DSS.321-S3BucketReplicationEnabled"]
    assert reason.startswith("Test logs of a sandbox account, worthless after three months. Cross-region replication")


# ---------------------------------------------------------------------------------------------------- data bucket


def test_data_bucket_defaults(built: Built) -> None:
    bucket = built.resource(built.uploads)
    props = bucket["Properties"]
    key = logical_id(stack_encryption_key(built.stack))
    assert key.startswith("BatchConstructsKey")
    assert props["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {
                "BucketKeyEnabled": True,
                "ServerSideEncryptionByDefault": {
                    "KMSMasterKeyID": {"Fn::GetAtt": [key, "Arn"]},
                    "SSEAlgorithm": "aws:kms",
                },
            }
        ]
    }
    assert all(props["PublicAccessBlockConfiguration"].values()) and len(props["PublicAccessBlockConfiguration"]) == 4
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    # logs under the construct id in lower case
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logical_id(built.logs)},
        "LogFilePrefix": "uploads/",
    }
    assert props["LifecycleConfiguration"] == {
        "Rules": [
            {
                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                "NoncurrentVersionExpiration": {"NoncurrentDays": 90},
                "Status": "Enabled",
            }
        ]
    }
    assert "NotificationConfiguration" not in props and "BucketName" not in props
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"
    assert built.uploads.encryption_key is stack_encryption_key(built.stack)


def test_data_bucket_options(built: Built) -> None:
    bucket = built.resource(built.options)
    props = bucket["Properties"]
    encryption = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]
    assert encryption["KMSMasterKeyID"] == {"Fn::GetAtt": [logical_id(built.own_key), "Arn"]}
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logical_id(built.short_logs)},
        "LogFilePrefix": "custom/",
    }
    assert props["LifecycleConfiguration"] == {
        "Rules": [{"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}, "Status": "Enabled"}]
    }
    # EventBridge on through the bucket's own property: no notifications custom resource (and no Lambda) deployed
    assert props["NotificationConfiguration"] == {"EventBridgeConfiguration": {"EventBridgeEnabled": True}}
    assert not [r for r in built.template["Resources"].values() if r["Type"] in ("Custom::S3BucketNotifications",)]
    assert bucket["DeletionPolicy"] == "RetainExceptOnCreate"


def test_data_bucket_without_access_logs_or_lifecycle() -> None:
    stack = cdk.Stack(new_app(), "Bare")
    bucket = data_bucket(
        stack, "Bare", access_logs=None, noncurrent_version_expiration=None, abort_incomplete_uploads_after=None
    )
    props = cdk.assertions.Template.from_stack(stack).to_json()["Resources"][logical_id(bucket)]["Properties"]
    assert "LoggingConfiguration" not in props and "LifecycleConfiguration" not in props


def test_data_bucket_acknowledges_replication_with_the_default_judgement_or_the_callers_reason(built: Built) -> None:
    default = built.acks("Uploads/Resource")
    assert set(default) == {f"{p}::{p}-S3BucketReplicationEnabled" for p in CONTROL_PACKS}
    reason = default["NIST.800.53.R5::NIST.800.53.R5-S3BucketReplicationEnabled"]
    assert reason.startswith("Judged as example or derived data")
    assert "add a replication rule to this bucket when a second-region copy is required" in reason
    given = built.acks("Options/Resource")["HIPAA.Security::HIPAA.Security-S3BucketReplicationEnabled"]
    assert given.startswith("Test fixture data, rebuilt by every test run. Cross-region replication")


def test_buckets_keep_the_logical_id_of_a_plain_bucket_with_the_same_scope_and_id(built: Built) -> None:
    plain = cdk.Stack(new_app(), "Plain")
    for helper_bucket, construct_id in ((built.logs, "AccessLogs"), (built.uploads, "Uploads")):
        assert helper_bucket.node.scope is built.stack and helper_bucket.node.id == construct_id
        assert logical_id(helper_bucket) == logical_id(s3.Bucket(plain, construct_id))


def test_stack_encryption_key_is_one_rotating_retained_key_per_stack(built: Built) -> None:
    key = stack_encryption_key(built.stack)
    assert stack_encryption_key(built.uploads) is key  # any construct of the stack finds the same key
    resource = built.resource(key)
    assert resource["Properties"]["EnableKeyRotation"] is True
    assert resource["DeletionPolicy"] == "Retain"
    assert len([r for r in built.template["Resources"].values() if r["Type"] == "AWS::KMS::Key"]) == 2  # + OwnKey


# ---------------------------------------------------------------------------------------------------------- grants


def test_read_grant_is_get_object_on_the_prefix_list_bucket_and_decrypt(built: Built) -> None:
    uploads, key = logical_id(built.uploads), logical_id(stack_encryption_key(built.stack))
    by_action = _by_action(built.statements("Reader"))
    assert set(by_action) == {"s3:GetObject", "s3:ListBucket", "kms:Decrypt"}
    assert by_action["s3:GetObject"]["Resource"] == {
        "Fn::Join": ["", [{"Fn::GetAtt": [uploads, "Arn"]}, "/incoming/*"]]
    }
    # the whole bucket, unconditioned: S3 then answers 404 for a missing key (see the docstring)
    assert by_action["s3:ListBucket"]["Resource"] == {"Fn::GetAtt": [uploads, "Arn"]}
    assert "Condition" not in by_action["s3:ListBucket"]
    assert by_action["kms:Decrypt"]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}
    assert by_action["kms:Decrypt"]["Condition"] == VIA_S3  # the key only through S3
    assert all(s["Effect"] == "Allow" for s in built.statements("Reader"))
    assert built.grants["Reader"].success


def test_read_grant_with_versions_and_prefix_listing(built: Built) -> None:
    by_action = _by_action(built.statements("Versions"))
    assert set(by_action) == {"s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket", "kms:Decrypt"}
    assert by_action["s3:GetObjectVersion"] is by_action["s3:GetObject"]
    assert by_action["s3:ListBucket"]["Condition"] == {"StringLike": {"s3:prefix": ["incoming/*"]}}


def test_read_grant_without_listing_on_the_whole_bucket(built: Built) -> None:
    options, key = logical_id(built.options), logical_id(built.own_key)
    by_action = _by_action(built.statements("NoList"))
    assert set(by_action) == {"s3:GetObject", "kms:Decrypt"}
    assert by_action["s3:GetObject"]["Resource"] == {"Fn::Join": ["", [{"Fn::GetAtt": [options, "Arn"]}, "/*"]]}
    assert by_action["kms:Decrypt"]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}


def test_read_grant_on_an_sse_s3_bucket_has_no_kms_statement(built: Built) -> None:
    assert {a for s in built.statements("LogReader") for a in _actions(s)} == {"s3:GetObject", "s3:ListBucket"}


def test_write_grant_is_put_object_on_the_prefix_and_the_data_key_actions(built: Built) -> None:
    options, key = logical_id(built.options), logical_id(built.own_key)
    statements = built.statements("Writer")  # also read back under the same prefix
    by_action = _by_action(statements)
    assert set(by_action) == {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "kms:GenerateDataKey", "kms:Decrypt"}
    results = {"Fn::Join": ["", [{"Fn::GetAtt": [options, "Arn"]}, "/results/*"]]}
    assert by_action["s3:PutObject"]["Resource"] == results
    assert by_action["kms:GenerateDataKey"]["Resource"] == by_action["kms:Decrypt"]["Resource"]
    assert by_action["kms:GenerateDataKey"]["Resource"] == {"Fn::GetAtt": [key, "Arn"]}
    assert by_action["kms:GenerateDataKey"]["Condition"] == VIA_S3
    assert built.grants["Writer"].success


def test_no_grant_uses_an_action_wildcard_or_deletes(built: Built) -> None:
    for name in built.roles:
        for statement in built.statements(name):
            for action in _actions(statement):
                assert "*" not in action and "Delete" not in action and action != "kms:Encrypt", (name, action)


def test_the_prefix_wildcard_is_acknowledged_once_on_the_roles_managed_policy(built: Built) -> None:
    uploads, options = logical_id(built.uploads), logical_id(built.options)
    expected = {
        "Reader": f"<{uploads}.Arn>/incoming/*",
        "Versions": f"<{uploads}.Arn>/incoming/*",
        "NoList": f"<{options}.Arn>/*",
        "Writer": f"<{options}.Arn>/results/*",  # read and write of one prefix: one acknowledgement
        "LogReader": f"<{logical_id(built.logs)}.Arn>/uploads/*",
    }
    metadata = json.loads((built.outdir / f"{STACK}.metadata.json").read_text())
    for name, resource in expected.items():
        entries = [e["data"] for e in metadata[f"/{STACK}/{name}/Policy"] if e["type"] == "aws:cdk:acknowledged-rules"]
        assert [list(e) for e in entries] == [[f"AwsSolutions::AwsSolutions-IAM5[Resource::{resource}]"]], name
        assert "keys a job reads or writes are chosen at run time" in next(iter(entries[0].values()))
    assert built.acks("Reader/Resource") == {}  # on the policy, not on the role


def test_imported_bucket_gets_the_grant_but_no_acknowledgement(built: Built) -> None:
    by_action = _by_action(built.statements("External"))
    assert set(by_action) == {"s3:GetObject", "s3:ListBucket"}  # imported without a key: no KMS statement
    assert by_action["s3:GetObject"]["Resource"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::team-archive/reports/*"]]
    }
    # only the caller's own acknowledgement (the fixture's synthesis with the packs proves it is the finding's id)
    assert list(built.acks("External/Policy")) == [IMPORTED_FINDING]


def test_zero_cdk_nag_findings(built: Built) -> None:
    assert nag_violations(built.outdir) == []


def test_cfn_lint_clean(built: Built) -> None:
    assert cfn_lint(built.outdir / f"{STACK}.template.json") == []


# ------------------------------------------------------------------------------------------ roles, other stacks


@pytest.fixture(scope="module")
def other_cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, dict[str, str]], dict[str, iam.Grant]]:
    """No packs: a plain iam.Role (inline policy), an immutable imported role, and a bucket of another stack."""
    app = new_app(outdir=str(tmp_path_factory.mktemp("cdk.out.storage_other")))
    data_stack = cdk.Stack(app, "Data")
    bucket = data_bucket(data_stack, "Shared", access_logs=None)
    stack = cdk.Stack(app, "Jobs")
    local = data_bucket(stack, "Local", access_logs=None)
    plain = iam.Role(stack, "Plain", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    immutable = iam.Role.from_role_arn(stack, "Immutable", "arn:aws:iam::123456789012:role/ops", mutable=False)
    consumer = JobRole(stack, "Consumer")
    grants = {
        "plain": grant_read_objects(plain, local, "in/"),
        "immutable": grant_write_objects(immutable, local, "out/"),
        "cross_stack": grant_read_objects(consumer, bucket, "in/"),
    }
    assembly = app.synth()
    policies = [r for r in assembly.get_stack_by_name("Jobs").template["Resources"] if r.startswith("Immutable")]
    assert policies == []  # CDK drops statements for an immutable role (and reports the grant as a success)
    # cfn-lint, not the built-in validation engine, checks these templates against CloudFormation (see new_app)
    assert cfn_lint(*(pathlib.Path(app.outdir) / f"{name}.template.json" for name in ("Data", "Jobs"))) == []
    return acknowledged(pathlib.Path(app.outdir), "Jobs"), grants


def test_plain_role_is_acknowledged_on_its_default_policy(
    other_cases: tuple[dict[str, dict[str, str]], dict[str, iam.Grant]],
) -> None:
    acks, grants = other_cases
    (finding,) = acks["Plain/DefaultPolicy"]
    assert finding.startswith("AwsSolutions::AwsSolutions-IAM5[Resource::<Local") and finding.endswith(".Arn>/in/*]")
    assert grants["plain"].success


def test_immutable_role_and_other_stack_bucket_get_no_acknowledgement(
    other_cases: tuple[dict[str, dict[str, str]], dict[str, iam.Grant]],
) -> None:
    acks, grants = other_cases
    assert not [path for path in acks if path.startswith(("Immutable", "Consumer"))]
    assert grants["cross_stack"].success
