"""Log groups and the KMS key that encrypts them, created the same way everywhere in the library."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import defaults as _defaults
from .memo import account_id, node_of, partition, region, stack_of

#: Construct id of the per-stack default key (public API: changing it would replace the key).
DEFAULT_KEY_ID = "BatchConstructsKey"
#: Where the stack's Python object remembers its key (a construct never leaves its stack: found once, kept).
_KEY_ATTRIBUTE = "_batch_constructs_default_key"


def default_key(scope: Construct) -> kms.IKey:
    """The stack's shared customer-managed key for logs, topics and queues the library creates.

    One key per stack (about 1 USD a month), with rotation on, created on first use as the stack child
    ``BatchConstructsKey``. The NIST, HIPAA and PCI packs require log groups and topics to use a customer-managed key.
    """
    stack = stack_of(scope)
    remembered: kms.IKey | None = getattr(stack, _KEY_ATTRIBUTE, None)
    if remembered is not None:
        return remembered
    existing = node_of(stack).try_find_child(DEFAULT_KEY_ID)
    if existing is not None:
        setattr(stack, _KEY_ATTRIBUTE, existing)
        return existing  # type: ignore[return-value]
    key = kms.Key(
        stack,
        DEFAULT_KEY_ID,
        description="batch-constructs: encrypts the log groups, topics and queues of this stack's Batch platform",
        enable_key_rotation=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    allow_logs(key)
    setattr(stack, _KEY_ATTRIBUTE, key)
    return key


def allow_logs(key: kms.IKey) -> None:
    """Let CloudWatch Logs in this account and region use ``key`` for log groups (once per key)."""
    if getattr(key, "_batch_constructs_logs_allowed", False):
        return
    key._batch_constructs_logs_allowed = True  # type: ignore[attr-defined]
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowCloudWatchLogsInThisAccount",
            principals=[iam.ServicePrincipal(f"logs.{region()}.amazonaws.com")],
            actions=["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
            resources=["*"],
            conditions={
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{partition()}:logs:{region()}:{account_id()}:*"}
            },
        )
    )


def new_log_group(
    scope: Construct,
    construct_id: str,
    *,
    retention: logs.RetentionDays | None = None,
    encryption_key: kms.IKey | None = None,
) -> logs.LogGroup:
    """A log group with retention (default one year) and KMS encryption (default: the stack's shared key).

    No physical name: CloudFormation names it, so it can be replaced. Retained on stack deletion (CDK's default for
    log groups), so logs outlive the stack that wrote them.
    """
    key = encryption_key if encryption_key is not None else default_key(scope)
    if encryption_key is not None:
        allow_logs(key)
    return logs.LogGroup(
        scope,
        construct_id,
        retention=retention if retention is not None else _defaults.LOG_RETENTION,
        encryption_key=key,
    )
