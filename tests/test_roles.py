"""IAM roles for Batch: trust, managed policies, grants in customer-managed policies, and the acknowledgements."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_iam as iam

from batch_constructs import CustomServiceRole, ExecutionRole, InstanceRole, JobRole, SpotFleetRole

from .core_stacks import Built
from .helpers import new_app

BUCKET_OBJECTS = "arn:aws:s3:::example-bucket/*"
INSTANCE_PARAMETER = "arn:aws:ssm:us-east-1:123456789012:parameter/agent"
ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def _managed_policy_arn(name: str) -> dict[str, Any]:
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::aws:policy/{name}"]]}


@pytest.fixture(scope="module")
def roles() -> tuple[Built, dict[str, Any]]:
    """The five roles in one stack, a grant to each of the job and execution roles, synthesized to a cloud assembly.

    Returns the built stack and the stack's ``<Stack>.metadata.json`` (where acknowledgements land).
    """
    # GIVEN one of each role
    app = new_app()
    stack = cdk.Stack(app, "Roles")
    parts: dict[str, Any] = {
        "job": JobRole(stack, "JobRole"),
        "execution": ExecutionRole(stack, "ExecutionRole"),
        "idle": JobRole(stack, "IdleJobRole"),
        "instance": InstanceRole(stack, "InstanceRole"),
        "fleet": SpotFleetRole(stack, "SpotFleetRole"),
        "service": CustomServiceRole(stack, "ServiceRole"),
    }
    # WHEN the job role and the execution role are granted something
    iam.Grant.add_to_principal(grantee=parts["job"], actions=["s3:GetObject"], resource_arns=[BUCKET_OBJECTS])
    parts["execution"].add_to_principal_policy(
        iam.PolicyStatement(
            actions=["ecr:BatchGetImage"], resources=["arn:aws:ecr:us-east-1:123456789012:repository/r"]
        )
    )
    # AND the instance role is extended as a user would (e.g. for an agent on the instances)
    parts["instance"].add_to_policy(iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[INSTANCE_PARAMETER]))
    assembly = app.synth()
    artifact = assembly.get_stack_by_name("Roles")
    metadata = json.loads((pathlib.Path(assembly.directory) / "Roles.metadata.json").read_text())
    return Built(stack, artifact.template, parts), metadata


@pytest.fixture(scope="module")
def built(roles: tuple[Built, dict[str, Any]]) -> Built:
    return roles[0]


def _role(built: Built, name: str) -> dict[str, Any]:
    props: dict[str, Any] = built.resource(built.parts[name])["Properties"]
    return props


@pytest.mark.parametrize("name", ["job", "execution"])
def test_job_and_execution_roles_trust_ecs_tasks_and_carry_no_managed_policy(built: Built, name: str) -> None:
    props = _role(built, name)
    statements = props["AssumeRolePolicyDocument"]["Statement"]
    assert statements == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
            "Effect": "Allow",
            "Principal": {"Service": "ecs-tasks.amazonaws.com"},
        }
    ]
    assert "ManagedPolicyArns" not in props
    assert "Policies" not in props


@pytest.mark.parametrize(
    ("name", "action", "resource"),
    [
        ("job", "s3:GetObject", BUCKET_OBJECTS),
        ("execution", "ecr:BatchGetImage", "arn:aws:ecr:us-east-1:123456789012:repository/r"),
        ("instance", "ssm:GetParameter", INSTANCE_PARAMETER),
    ],
)
def test_grants_land_in_a_customer_managed_policy_attached_to_the_role(
    built: Built, name: str, action: str, resource: str
) -> None:
    role = built.parts[name]
    assert role.managed_policy is not None
    policy = built.resource(role.managed_policy)
    assert policy["Type"] == "AWS::IAM::ManagedPolicy"
    assert policy["Properties"]["Roles"] == [{"Ref": built.logical_id(role)}]
    assert policy["Properties"]["PolicyDocument"]["Statement"] == [
        {"Action": action, "Effect": "Allow", "Resource": resource}
    ]


def test_no_inline_policy_exists(built: Built) -> None:
    # THEN every grant went to a managed policy: the NIST/HIPAA/PCI packs reject AWS::IAM::Policy
    assert built.of_type("AWS::IAM::Policy") == {}
    assert len(built.of_type("AWS::IAM::ManagedPolicy")) == 3


def test_a_role_never_granted_anything_has_no_policy(built: Built) -> None:
    idle = built.parts["idle"]
    assert idle.managed_policy is None
    attached = [p["Properties"]["Roles"] for p in built.of_type("AWS::IAM::ManagedPolicy").values()]
    assert [{"Ref": built.logical_id(idle)}] not in attached


@pytest.mark.parametrize(
    ("name", "service", "policy"),
    [
        ("instance", "ec2.amazonaws.com", "service-role/AmazonEC2ContainerServiceforEC2Role"),
        ("fleet", "spotfleet.amazonaws.com", "service-role/AmazonEC2SpotFleetTaggingRole"),
        ("service", "batch.amazonaws.com", "service-role/AWSBatchServiceRole"),
    ],
)
def test_service_roles_trust_their_service_and_carry_the_documented_aws_managed_policy(
    built: Built, name: str, service: str, policy: str
) -> None:
    props = _role(built, name)
    assert props["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": service}
    assert props["ManagedPolicyArns"] == [_managed_policy_arn(policy)]


def test_custom_service_role_trusts_batch_for_this_accounts_resources_only(built: Built) -> None:
    (trust,) = _role(built, "service")["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {
            "aws:SourceArn": {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":batch:",
                        {"Ref": "AWS::Region"},
                        ":",
                        {"Ref": "AWS::AccountId"},
                        ":*",
                    ],
                ]
            }
        },
    }


@pytest.mark.parametrize("name", ["instance", "fleet"])
def test_ec2_and_spot_fleet_trusts_carry_no_condition_their_services_do_not_document(built: Built, name: str) -> None:
    (trust,) = _role(built, name)["AssumeRolePolicyDocument"]["Statement"]
    assert "Condition" not in trust


@pytest.mark.parametrize(
    ("name", "policy"),
    [
        ("instance", "service-role/AmazonEC2ContainerServiceforEC2Role"),
        ("fleet", "service-role/AmazonEC2SpotFleetTaggingRole"),
        ("service", "service-role/AWSBatchServiceRole"),
    ],
)
def test_aws_managed_policy_findings_are_acknowledged_on_the_role_in_the_cloud_assembly(
    roles: tuple[Built, dict[str, Any]], name: str, policy: str
) -> None:
    built, metadata = roles
    path = "/" + built.parts[name].node.path
    acknowledged: dict[str, str] = {}
    for entry in metadata.get(path, []):
        if entry["type"] == ACKNOWLEDGED:
            acknowledged.update(entry["data"])
    finding = f"AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{policy}]"
    assert list(acknowledged) == [finding]
    assert len(acknowledged[finding]) > 40  # a reason a reviewer can read, not a placeholder


def test_job_and_execution_roles_need_no_acknowledgement(roles: tuple[Built, dict[str, Any]]) -> None:
    built, metadata = roles
    for name in ("job", "execution"):
        role_path = "/" + built.parts[name].node.path
        entries = [e for p, es in metadata.items() if p.startswith(role_path) for e in es if e["type"] == ACKNOWLEDGED]
        assert entries == []
