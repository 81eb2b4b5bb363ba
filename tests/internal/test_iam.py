"""ManagedPolicyRole: every grant, from the library or from any CDK construct, lands in one managed policy."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns

from batch_constructs._internal.iam import ManagedPolicyRole

from ..core_stacks import Built, _build
from ..helpers import new_app

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/example"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:example"


@pytest.fixture(scope="module")
def built() -> Built:
    # GIVEN a ManagedPolicyRole and a topic
    stack = cdk.Stack(new_app(), "Iam")
    role = ManagedPolicyRole(
        stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"), description="test role"
    )
    before = role.managed_policy
    topic = sns.Topic(stack, "Topic")
    # WHEN an L2 grants to it, and a statement is added directly
    topic.grant_publish(role)
    added = role.add_to_policy(iam.PolicyStatement(actions=["dynamodb:GetItem"], resources=[TABLE]))
    result = role.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[QUEUE]))
    return _build(stack, role=role, topic=topic, before=before, added=added, result=result)


def _policy(built: Built) -> dict[str, Any]:
    policies = list(built.of_type("AWS::IAM::ManagedPolicy").values())
    assert len(policies) == 1
    return policies[0]


def test_there_is_no_policy_before_the_first_grant(built: Built) -> None:
    assert built.parts["before"] is None


def test_an_l2_grant_and_direct_statements_share_one_managed_policy(built: Built) -> None:
    statements = _policy(built)["Properties"]["PolicyDocument"]["Statement"]
    assert statements == [
        {"Action": "sns:Publish", "Effect": "Allow", "Resource": {"Ref": built.logical_id(built.parts["topic"])}},
        {"Action": "dynamodb:GetItem", "Effect": "Allow", "Resource": TABLE},
        {"Action": "sqs:SendMessage", "Effect": "Allow", "Resource": QUEUE},
    ]


def test_the_managed_policy_is_attached_to_the_role_and_no_inline_policy_exists(built: Built) -> None:
    role: ManagedPolicyRole = built.parts["role"]
    assert _policy(built)["Properties"]["Roles"] == [{"Ref": built.logical_id(role)}]
    assert built.of_type("AWS::IAM::Policy") == {}
    assert "Policies" not in built.resource(role)["Properties"]


def test_the_policy_is_the_child_policy_and_the_dependable_of_each_grant(built: Built) -> None:
    role: ManagedPolicyRole = built.parts["role"]
    assert role.managed_policy is not None
    assert role.managed_policy.node.id == "Policy"
    assert role.managed_policy.node.scope is role
    assert built.parts["added"] is True
    result: iam.AddToPrincipalPolicyResult = built.parts["result"]
    assert result.statement_added is True
    assert result.policy_dependable is role.managed_policy


def test_role_props_pass_through(built: Built) -> None:
    props = built.resource(built.parts["role"])["Properties"]
    assert props["Description"] == "test role"
    assert props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_statements_added_at_once_or_through_python_equal_the_grant_api() -> None:
    # GIVEN two ManagedPolicyRoles: one given statements through the Grant API, one through the library's shortcuts
    from aws_cdk.assertions import Template

    from batch_constructs._internal.iam import add_key_statement, grant_key_via, known_statement

    stack = cdk.Stack(new_app(), "Shortcuts")
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/example"
    roles = [
        ManagedPolicyRole(stack, name, assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
        for name in ("ByGrant", "ByShortcut")
    ]
    by_grant, by_shortcut = roles
    iam.Grant.add_to_principal(grantee=by_grant, actions=["dynamodb:GetItem"], resource_arns=[TABLE])
    by_grant.add_to_principal_policy(iam.PolicyStatement(actions=["sqs:SendMessage"], resources=[QUEUE]))
    grant_key_via(by_grant, key_arn, "sqs", "kms:Decrypt")
    # WHEN the same statements go in as one add_statements call (creating the policy) and an add_key_statement
    by_shortcut.add_statements(
        known_statement(actions=["dynamodb:GetItem"], resources=[TABLE]),
        known_statement(actions=["sqs:SendMessage"], resources=[QUEUE]),
    )
    add_key_statement(by_shortcut, key_arn, "sqs", "kms:Decrypt")
    # THEN both policies hold the same document, in the same order
    policies = Template.from_stack(stack).find_resources("AWS::IAM::ManagedPolicy")
    documents = {
        "grant" if logical_id.startswith("ByGrant") else "shortcut": policy["Properties"]["PolicyDocument"]
        for logical_id, policy in policies.items()
    }
    assert len(policies) == 2 and documents["grant"] == documents["shortcut"]
    assert len(documents["grant"]["Statement"]) == 3
