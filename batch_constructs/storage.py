"""S3 buckets for the data of Batch jobs, and exact object-prefix grants for the roles that read and write it.

Plain functions, not constructs: each bucket is created at the caller's scope under the caller's construct id (its
logical id is what it would be with ``s3.Bucket(scope, construct_id, ...)``), and each function returns the
``s3.Bucket`` or ``iam.Grant`` it made, so nothing is wrapped and every CDK API stays available.

* :func:`access_logs_bucket`: the destination of S3 server access logs (SSE-S3, because S3 delivers access logs only
  to SSE-S3 buckets).
* :func:`data_bucket`: a bucket for job input or output, KMS-encrypted with the stack's key by default, logging to an
  access-logs bucket.
* :func:`grant_read_objects` / :func:`grant_write_objects`: exact S3 and KMS actions on the objects under one key
  prefix, instead of ``bucket.grant_read`` / ``grant_write`` (which grant ``s3:GetObject*``, ``s3:List*``,
  ``s3:DeleteObject*`` and ``kms:*`` wildcards on every object).

Every bucket is private (Block Public Access on), TLS-only (a bucket policy denies plain HTTP), versioned and, by
default, retained when the stack is deleted. The cdk-nag findings these choices leave are acknowledged on the
resource they are about, with the reason (see ``docs/compliance.md``).
"""

from __future__ import annotations

from typing import Literal

from aws_cdk import Duration, FeatureFlags, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct, IConstruct

from ._internal import defaults as _defaults
from ._internal.compliance import acknowledge, acknowledge_all, acknowledge_in_packs, in_packs
from ._internal.iam import ManagedPolicyRole, grant_key_via
from ._internal.logs import default_key
from ._internal.memo import adopt_stack, node_of, stack_of
from ._internal.s3 import enable_event_bridge
from ._internal.validation import raise_if_any
from .model import registry

__all__ = [
    "Listing",
    "access_logs_bucket",
    "data_bucket",
    "grant_read_objects",
    "grant_write_objects",
    "stack_encryption_key",
]

#: How :func:`grant_read_objects` grants ``s3:ListBucket``: on the whole bucket (``"bucket"``), only for listings
#: under the prefix (``"prefix"``), or not at all (``"none"``).
Listing = Literal["bucket", "prefix", "none"]

_REPLICATION_COST = (
    "Cross-region replication would need a destination bucket in a second region (a region-bound stack) and double "
    "the storage cost; add a replication rule to this bucket when a second-region copy is required."
)


def stack_encryption_key(scope: Construct) -> kms.IKey:
    """The stack's shared customer-managed KMS key, created on first use as the stack child ``BatchConstructsKey``.

    The same key encrypts the log groups, topics and queues the library creates, and :func:`data_bucket`'s buckets
    by default: one key per stack (about 1 USD a month), with yearly rotation on, retained on stack deletion (data
    encrypted with it may outlive the stack). CloudWatch Logs of this account and region may use it.
    """
    return default_key(scope)


def access_logs_bucket(
    scope: Construct,
    construct_id: str,
    *,
    retention: Duration = _defaults.ACCESS_LOG_RETENTION,
    noncurrent_version_expiration: Duration = _defaults.ACCESS_LOG_NONCURRENT_EXPIRATION,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    replication_reason: str | None = None,
) -> s3.Bucket:
    """A bucket that receives S3 server access logs: ``s3.Bucket(scope, construct_id, ...)`` with these settings.

    * Encryption: SSE-S3 (Amazon S3 managed keys, AES-256), always. S3 server access logging delivers only to
      SSE-S3 buckets, not SSE-KMS ones; the cdk-nag ``S3DefaultEncryptionKMS`` finding (NIST, HIPAA, PCI) is
      acknowledged on the bucket for that reason.
    * Private (Block Public Access: all), TLS-only, versioned, object ownership "bucket owner enforced" (ACLs
      disabled: S3 delivers the logs through a bucket policy that CDK adds for the logging service).
    * No replication: the ``S3BucketReplicationEnabled`` finding (NIST, HIPAA, PCI) is acknowledged on the bucket.

    Args:
        retention: how long a log object is kept. Default: 365 days (an audit of the last year's access, with
            bounded storage).
        noncurrent_version_expiration: how long a deleted or replaced log object version is kept. Default: 30 days
            (logs are never rewritten; a month is time to notice and undo a deletion).
        removal_policy: what happens to the bucket when it leaves the stack. Default: ``RETAIN`` (the logs outlive
            the stack; a non-empty versioned bucket could not be deleted anyway).
        replication_reason: why one region is enough for these logs, recorded as the replication acknowledgement's
            reason (how to add replication is appended). Default: access logs are an audit aid that S3 itself
            delivers best effort.

    Returns:
        The bucket, for ``data_bucket(..., access_logs=...)`` or ``s3.Bucket(server_access_logs_bucket=...)``.
    """
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.S3_MANAGED,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=[
            s3.LifecycleRule(expiration=retention, noncurrent_version_expiration=noncurrent_version_expiration)
        ],
        removal_policy=removal_policy,
    )
    setattr(bucket, _ACLS_DISABLED, True)
    resource = _remember_resource(scope, construct_id, bucket)
    why = replication_reason or (
        "The bucket holds S3 server access logs, an audit aid that S3 itself delivers best effort, kept for "
        f"{retention.to_human_string()}."
    )
    acknowledge_all(  # one call for both rules
        resource,
        in_packs("S3BucketReplicationEnabled", f"{why} {_REPLICATION_COST}")
        + in_packs(
            "S3DefaultEncryptionKMS",
            "S3 server access logging delivers only to buckets encrypted with SSE-S3 (Amazon S3 managed keys), not "
            "SSE-KMS; the objects are encrypted at rest (AES-256), the bucket is private and TLS-only.",
        ),
    )
    return bucket


def data_bucket(
    scope: Construct,
    construct_id: str,
    *,
    access_logs: s3.IBucket | None,
    access_logs_prefix: str | None = None,
    encryption_key: kms.IKey | None = None,
    noncurrent_version_expiration: Duration | None = _defaults.DATA_NONCURRENT_EXPIRATION,
    abort_incomplete_uploads_after: Duration | None = _defaults.ABORT_INCOMPLETE_UPLOADS_AFTER,
    event_bridge: bool = False,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
    replication_reason: str | None = None,
) -> s3.Bucket:
    """A bucket for job input or output: ``s3.Bucket(scope, construct_id, ...)`` with these settings.

    * Encryption: SSE-KMS with ``encryption_key`` and an S3 Bucket Key (S3 then calls KMS about once per object
      rather than once per request, which keeps the KMS bill negligible).
    * Private (Block Public Access: all), TLS-only, versioned, no physical name (CloudFormation names it).
    * No replication: the ``S3BucketReplicationEnabled`` finding (NIST, HIPAA, PCI) is acknowledged on the bucket,
      with ``replication_reason``.

    Args:
        access_logs: the bucket that receives this bucket's S3 server access logs (see :func:`access_logs_bucket`);
            required, so that leaving logging off is a visible choice. ``None``: no access logging, and cdk-nag
            reports ``AwsSolutions-S1`` and ``S3BucketLoggingEnabled`` for the caller to fix or acknowledge.
        access_logs_prefix: the key prefix of this bucket's logs in ``access_logs``. Default: ``construct_id`` in
            lower case plus ``/`` (``Uploads`` -> ``uploads/``), so several buckets can share one logs bucket.
        encryption_key: the KMS key. Default: the stack's shared key (:func:`stack_encryption_key`); the NIST, HIPAA
            and PCI packs ask for a customer-managed key, and one key per stack keeps the cost at about 1 USD a month.
        noncurrent_version_expiration: how long a replaced or deleted object version is kept. Default: 90 days
            (three months to recover from an overwrite or a deletion, with bounded storage). ``None``: kept forever.
        abort_incomplete_uploads_after: when the parts of a multipart upload that never completed are removed.
            Default: 7 days (such parts are billed as storage but invisible in listings). ``None``: never.
        event_bridge: send the bucket's events to EventBridge (``NotificationConfiguration`` set on the bucket
            itself, without the custom resource ``event_bridge_enabled=True`` would deploy). Default: ``False``;
            :class:`~batch_constructs.S3UploadTrigger` turns it on for the buckets it watches.
        removal_policy: what happens to the bucket when it leaves the stack. Default: ``RETAIN`` (the data outlives
            the stack; a non-empty versioned bucket could not be deleted anyway).
        replication_reason: why one region is enough for this bucket's data, recorded as the replication
            acknowledgement's reason (how to add replication is appended). Default: a judgement that the bucket
            holds example or derived data that can be uploaded or computed again; pass the real reason for your data.

    Returns:
        The bucket (``bucket.encryption_key`` is the key).
    """
    raise_if_any(scope, [_access_logs_flag_problem(scope, construct_id, access_logs)])
    key = encryption_key if encryption_key is not None else default_key(scope)
    lifecycle = (
        [
            s3.LifecycleRule(
                noncurrent_version_expiration=noncurrent_version_expiration,
                abort_incomplete_multipart_upload_after=abort_incomplete_uploads_after,
            )
        ]
        if noncurrent_version_expiration is not None or abort_incomplete_uploads_after is not None
        else None  # a lifecycle rule needs at least one action
    )
    bucket = s3.Bucket(
        scope,
        construct_id,
        encryption=s3.BucketEncryption.KMS,
        encryption_key=key,
        bucket_key_enabled=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        versioned=True,
        server_access_logs_bucket=access_logs,
        server_access_logs_prefix=(
            (access_logs_prefix if access_logs_prefix is not None else f"{construct_id.lower()}/")
            if access_logs is not None
            else None
        ),
        lifecycle_rules=lifecycle,
        removal_policy=removal_policy,
    )
    if event_bridge:
        enable_event_bridge(scope, bucket)
    resource = _remember_resource(scope, construct_id, bucket)
    why = replication_reason or (
        "Judged as example or derived data: its producers can upload it again or a job can recompute it, and "
        "versioning keeps earlier versions."
    )
    acknowledge_in_packs(resource, "S3BucketReplicationEnabled", f"{why} {_REPLICATION_COST}")
    return bucket


#: Marks a bucket made by :func:`access_logs_bucket` (object ownership "bucket owner enforced": ACLs disabled).
_ACLS_DISABLED = "_batch_constructs_acls_disabled"
#: The ``CfnBucket`` of a bucket this module created (its default child, fixed at creation), read by the grants.
_RESOURCE = "_batch_constructs_resource"


def _remember_resource(scope: Construct, construct_id: str, bucket: s3.Bucket) -> s3.CfnBucket:
    """The bucket's ``CfnBucket``, remembered on it with the stack both are in (``scope``'s)."""
    resource = node_of(bucket).default_child
    assert isinstance(resource, s3.CfnBucket)
    setattr(bucket, _RESOURCE, resource)
    adopt_stack(bucket, scope, construct_id)
    adopt_stack(resource, bucket, "Resource")
    return resource


#: The aws-cdk feature flag (set by ``cdk init``) that delivers S3 server access logs through a bucket policy.
_ACCESS_LOGS_FLAG = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"


def _access_logs_flag_problem(scope: Construct, construct_id: str, access_logs: s3.IBucket | None) -> str:
    """Without :data:`_ACCESS_LOGS_FLAG`, aws-cdk grants log delivery through an ACL, which an ACL-disabled bucket
    (``access_logs_bucket``'s "bucket owner enforced") rejects at synth with a raw error: name the flag instead."""
    if access_logs is None or FeatureFlags.of(scope).is_enabled(_ACCESS_LOGS_FLAG):
        return ""
    if not getattr(access_logs, _ACLS_DISABLED, False):
        return ""  # not an access_logs_bucket: an imported bucket's ACL is left alone, a user's bucket is theirs
    return registry.ACCESS_LOGS_FLAG.fix(
        f"data_bucket {construct_id!r} logs to {access_logs.node.path}, whose ACLs are disabled, but the app lacks the "
        f"feature flag {_ACCESS_LOGS_FLAG}, so aws-cdk would grant log delivery through an ACL",
        f'set context "{_ACCESS_LOGS_FLAG}": true in cdk.json (cdk init does), or build the app with '
        "batch_constructs.testing.new_app() in unit tests",
    )


def grant_read_objects(
    grantee: iam.IRole,
    bucket: s3.IBucket,
    prefix: str,
    *,
    versions: bool = False,
    listing: Listing = "bucket",
) -> iam.Grant:
    """Let ``grantee`` read the objects under ``prefix`` in ``bucket``, with exact actions and nothing else.

    Grants ``s3:GetObject`` (which is also what ``HeadObject`` needs) on ``<bucket>/<prefix>*``; ``s3:ListBucket``
    as ``listing`` says; and ``kms:Decrypt`` on ``bucket.encryption_key`` when the bucket has one (an imported bucket
    has one only if it was imported with ``encryption_key=``), usable only through S3 (``kms:ViaService``
    ``s3.REGION.amazonaws.com``): the role can decrypt objects, not call KMS with the key for anything else.

    The ``AwsSolutions-IAM5`` finding for the prefix wildcard is acknowledged on the policy that holds the grant (a
    :class:`~batch_constructs.JobRole`'s managed policy, or an ``iam.Role``'s default policy): the object keys a job
    reads are chosen at run time, and the actions are exact. It is not acknowledged, and cdk-nag reports it for the
    caller to acknowledge, when the bucket is imported or defined in another stack (the finding then names the ARN
    or the import rather than a logical id: for ``s3.Bucket.from_bucket_name(..., "NAME")`` it is
    ``AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::NAME/PREFIX*]``), or when the role is
    imported immutably (CDK then adds no statement at all).

    Args:
        grantee: the role, e.g. ``job.job_role``.
        bucket: the bucket; an ``s3.Bucket`` of this stack gets the acknowledgement described above.
        prefix: the key prefix, e.g. ``"uploads/"`` (``""``: every object). Written as is: no wildcard is escaped.
        versions: also grant ``s3:GetObjectVersion`` (reading a given version, e.g. the one an event named).
            Default: ``False``.
        listing: ``"bucket"`` (default): ``s3:ListBucket`` on the bucket, so a missing key answers 404 "not found"
            rather than 403 "access denied" (S3 answers 404 only to callers that may list the bucket); it also lets
            the role list every key name (not content) in the bucket. ``"prefix"``: listings limited to the prefix
            by an ``s3:prefix`` condition; AWS does not document whether S3's 404-or-403 check honours the
            condition, so a missing key may then answer 403. ``"none"``: no listing; a missing key answers 403.

    Returns:
        The combined grant of every statement added.
    """
    objects = ["s3:GetObject", "s3:GetObjectVersion"] if versions else ["s3:GetObject"]
    key = bucket.encryption_key
    grant = iam.Grant.add_to_principal(
        grantee=grantee, actions=objects, resource_arns=[bucket.arn_for_objects(f"{prefix}*")]
    )
    if listing != "none":
        grant = grant.combine(
            iam.Grant.add_to_principal(
                grantee=grantee,
                actions=["s3:ListBucket"],
                resource_arns=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [f"{prefix}*"]}} if listing == "prefix" else None,
            )
        )
    if key is not None:
        grant = grant.combine(grant_key_via(grantee, key.key_arn, "s3", "kms:Decrypt"))
    _acknowledge_prefix_wildcard(grantee, bucket, prefix)
    return grant


def grant_write_objects(grantee: iam.IRole, bucket: s3.IBucket, prefix: str) -> iam.Grant:
    """Let ``grantee`` write objects under ``prefix`` in ``bucket``, with exact actions and nothing else.

    Grants ``s3:PutObject`` on ``<bucket>/<prefix>*`` and, when the bucket has a KMS key, ``kms:GenerateDataKey``
    (to encrypt each new object) and ``kms:Decrypt`` on it (S3 needs both for a multipart upload, which SDKs use
    for large files: boto3 above 8 MiB). No ``s3:DeleteObject``: versioning keeps what an overwrite replaces, and
    the role cannot remove versions. No ``kms:Encrypt``: S3 encrypts with the generated data key. Both KMS actions
    only through S3 (``kms:ViaService``).

    The ``AwsSolutions-IAM5`` finding for the prefix wildcard is acknowledged as :func:`grant_read_objects` does
    (and left to the caller for imported, other-stack buckets and immutable roles).

    Args:
        grantee: the role, e.g. ``job.job_role``.
        bucket: the bucket.
        prefix: the key prefix, e.g. ``"results/"`` (``""``: any key). Written as is: no wildcard is escaped.

    Returns:
        The combined grant of every statement added.
    """
    grant = iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:PutObject"], resource_arns=[bucket.arn_for_objects(f"{prefix}*")]
    )
    key = bucket.encryption_key
    if key is not None:
        grant = grant.combine(grant_key_via(grantee, key.key_arn, "s3", "kms:GenerateDataKey", "kms:Decrypt"))
    _acknowledge_prefix_wildcard(grantee, bucket, prefix)
    return grant


def _acknowledge_prefix_wildcard(grantee: iam.IRole, bucket: s3.IBucket, prefix: str) -> None:
    """Acknowledge ``AwsSolutions-IAM5[Resource::<BucketLogicalId.Arn>/<prefix>*]`` on the grantee's policy, once."""
    resource = getattr(bucket, _RESOURCE, None) or node_of(bucket).default_child
    policy = _policy_of(grantee)
    if not isinstance(resource, s3.CfnBucket) or policy is None or stack_of(policy) is not stack_of(resource):
        return
    logical_id = stack_of(resource).resolve(resource.logical_id)
    finding = f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id}.Arn>/{prefix}*]"
    done: set[str] = getattr(policy, "_batch_constructs_prefix_findings", set())
    if finding in done:
        return
    policy._batch_constructs_prefix_findings = done | {finding}  # type: ignore[attr-defined]
    acknowledge(
        policy,
        finding,
        f"Objects under the key prefix '{prefix}' of one bucket: the keys a job reads or writes are chosen at run "
        "time, so the resource ends in a prefix wildcard. batch-constructs grants only exact object actions on it "
        "(s3:GetObject, and s3:GetObjectVersion when asked, to read; s3:PutObject to write); an action wildcard "
        "would be a finding of its own.",
    )


def _policy_of(role: iam.IRole) -> IConstruct | None:
    """The policy construct that holds ``role``'s principal statements, if this app creates one."""
    if isinstance(role, ManagedPolicyRole):
        return role.managed_policy
    for child_id in ("DefaultPolicy", "Policy"):  # iam.Role's inline policy; an imported mutable role's policy
        child = role.node.try_find_child(child_id)
        if isinstance(child, iam.Policy):
            return child
    return None
