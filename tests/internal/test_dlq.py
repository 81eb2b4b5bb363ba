"""Dead-letter queues: the stack's key, TLS-only, 14 days, retained on stack deletion, EventBridge of this account."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from batch_constructs._internal import dlq as _dlq

from ..core_stacks import Built, _build
from ..helpers import new_app


@pytest.fixture(scope="module")
def built() -> Built:
    # GIVEN a stack WHEN a dead-letter queue is created with the defaults
    stack = cdk.Stack(new_app(), "DeadLetters")
    return _build(stack, queue=_dlq.new_dead_letter_queue(stack, "DeadLetterQueue"))


def test_dead_letter_queue_is_retained_when_the_stack_is_deleted(built: Built) -> None:
    queue = built.resource(built.parts["queue"])
    assert queue["DeletionPolicy"] == "Retain"
    assert queue["UpdateReplacePolicy"] == "Retain"


def test_dead_letter_queue_keeps_messages_14_days_encrypted_with_the_stack_key(built: Built) -> None:
    props = built.resource(built.parts["queue"])["Properties"]
    assert props["MessageRetentionPeriod"] == 14 * 24 * 3600
    (key_id,) = built.of_type("AWS::KMS::Key")
    assert props["KmsMasterKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
