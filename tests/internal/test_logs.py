"""Log groups: retention and KMS by default, one shared key per stack, and the logs service allowed on the key."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs

from batch_constructs._internal import logs as _logs

from ..core_stacks import Built, _build
from ..helpers import new_app

LOGS_SID = "AllowCloudWatchLogsInThisAccount"
#: The shared key's logical id: stable, because changing it would replace the key (and orphan what it encrypted).
DEFAULT_KEY = "BatchConstructsKey996A7547"


@pytest.fixture(scope="module")
def defaults() -> Built:
    # GIVEN a stack WHEN two log groups are created with the defaults
    stack = cdk.Stack(new_app(), "LogDefaults")
    first = _logs.new_log_group(stack, "First")
    second = _logs.new_log_group(stack, "Second")
    return _build(stack, first=first, second=second, key=_logs.default_key(stack))


@pytest.fixture(scope="module")
def explicit() -> Built:
    # GIVEN a key of the user's WHEN two log groups use it, with a retention of one month
    stack = cdk.Stack(new_app(), "LogExplicit")
    key = kms.Key(stack, "UserKey", enable_key_rotation=True)
    first = _logs.new_log_group(stack, "First", encryption_key=key, retention=logs.RetentionDays.ONE_MONTH)
    second = _logs.new_log_group(stack, "Second", encryption_key=key)
    return _build(stack, first=first, second=second, key=key)


def _logs_statements(built: Built) -> list[dict[str, Any]]:
    statements = built.resource(built.parts["key"])["Properties"]["KeyPolicy"]["Statement"]
    return [s for s in statements if s.get("Sid") == LOGS_SID]


@pytest.mark.parametrize("name", ["first", "second"])
def test_default_log_group_keeps_a_year_and_uses_the_stack_key(defaults: Built, name: str) -> None:
    group = defaults.resource(defaults.parts[name])
    assert group["Properties"]["RetentionInDays"] == 365
    assert group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [DEFAULT_KEY, "Arn"]}
    assert "LogGroupName" not in group["Properties"]
    assert group["DeletionPolicy"] == "Retain"


def test_the_stack_has_one_shared_key_with_rotation_kept_on_delete(defaults: Built) -> None:
    keys = defaults.of_type("AWS::KMS::Key")
    assert list(keys) == [DEFAULT_KEY]
    key = keys[DEFAULT_KEY]
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"
    assert defaults.parts["key"].node.path == "LogDefaults/BatchConstructsKey"


def test_cloudwatch_logs_of_this_account_and_region_may_use_the_key(defaults: Built) -> None:
    (statement,) = _logs_statements(defaults)
    region = {"Ref": "AWS::Region"}
    assert statement["Principal"] == {"Service": {"Fn::Join": ["", ["logs.", region, ".amazonaws.com"]]}}
    assert "kms:GenerateDataKey*" in statement["Action"]
    assert "kms:Decrypt*" in statement["Action"]
    condition = statement["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition == {
        "Fn::Join": [
            "",
            ["arn:", {"Ref": "AWS::Partition"}, ":logs:", region, ":", {"Ref": "AWS::AccountId"}, ":*"],
        ]
    }


def test_a_given_key_and_retention_are_used_and_no_default_key_is_created(explicit: Built) -> None:
    key_ref = {"Fn::GetAtt": [explicit.logical_id(explicit.parts["key"]), "Arn"]}
    first = explicit.resource(explicit.parts["first"])["Properties"]
    second = explicit.resource(explicit.parts["second"])["Properties"]
    assert first["KmsKeyId"] == key_ref
    assert second["KmsKeyId"] == key_ref
    assert first["RetentionInDays"] == 30
    assert second["RetentionInDays"] == 365
    assert len(explicit.of_type("AWS::KMS::Key")) == 1


def test_a_given_key_gets_the_logs_statement_once(explicit: Built) -> None:
    assert len(_logs_statements(explicit)) == 1
