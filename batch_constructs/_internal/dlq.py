"""Dead-letter queues for EventBridge targets: KMS-encrypted, TLS-only, 14 days to look at what failed.

Retained on stack deletion (a decision): a dead-letter queue holds the only copy of the events that never reached
their target (job submissions that never happened, alerts nobody received) for up to 14 days, and deleting the stack
is exactly when someone may still need to read or redrive them. A retained queue costs nothing at rest (SQS bills per
request); after a deliberate tear-down, delete it by hand once it is empty (it empties itself after 14 days).
"""

from __future__ import annotations

import hashlib

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import logs as _logs
from .compliance import acknowledge
from .memo import account_id


def allow_events(key: kms.IKey) -> None:
    """Let EventBridge in this account put messages into queues encrypted with ``key`` (once per key)."""
    if getattr(key, "_batch_constructs_events_allowed", False):
        return
    key._batch_constructs_events_allowed = True  # type: ignore[attr-defined]
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowEventBridgeInThisAccount",
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["kms:Decrypt", "kms:GenerateDataKey"],
            resources=["*"],
            conditions={"StringEquals": {"aws:SourceAccount": account_id()}},
        )
    )


def new_dead_letter_queue(scope: Construct, construct_id: str, *, encryption_key: kms.IKey | None = None) -> sqs.Queue:
    """A queue for events a target could not deliver, encrypted with ``encryption_key`` (default: the stack's key),
    retained when the stack is deleted (see the module docstring)."""
    key = encryption_key or _logs.default_key(scope)
    allow_events(key)
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.KMS,
        encryption_master_key=key,
        enforce_ssl=True,
        retention_period=Duration.days(14),
        removal_policy=RemovalPolicy.RETAIN,
    )
    acknowledge(
        queue,
        "AwsSolutions::AwsSolutions-SQS3",
        "This queue is itself a dead-letter queue (for an EventBridge target); a DLQ of a DLQ would only move the "
        "same undeliverable events once more.",
    )
    acknowledge(
        queue,
        "Serverless::Serverless-SQSRedrivePolicy",
        "This queue is itself a dead-letter queue (of an EventBridge target, a Lambda function or a subscription); "
        "a redrive policy would only move the same undeliverable events to yet another queue.",
    )
    return queue


def allow_rule_to_send(queue: sqs.IQueue, rule: events.IRule) -> None:
    """Let ``rule`` (and only it) send undeliverable events to ``queue``."""
    queue.add_to_resource_policy(
        iam.PolicyStatement(
            sid="AllowRule" + hashlib.sha256(rule.node.path.encode()).hexdigest()[:8],
            principals=[iam.ServicePrincipal("events.amazonaws.com")],
            actions=["sqs:SendMessage"],
            resources=[queue.queue_arn],
            conditions={"ArnEquals": {"aws:SourceArn": rule.rule_arn}},
        )
    )
