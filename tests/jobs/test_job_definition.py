"""Job definitions: container jobs on Fargate and EC2, their options, grants, and multi-node jobs over EFA."""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import Size
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager

from batch_constructs import (
    BatchQueue,
    ContainerJob,
    Ec2Environment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    JobRole,
    MultiNodeJob,
    NodeGroup,
    RetryPolicy,
)

from ..core_stacks import IMAGE, Built, _build, efa_stack, imported_vpc
from ..helpers import new_app

SPOT_AWARE_RETRY = {
    "Attempts": 5,
    "EvaluateOnExit": [
        {"Action": "RETRY", "OnStatusReason": "Host EC2*"},
        {"Action": "RETRY", "OnStatusReason": "Your Spot Task was interrupted*"},
        {"Action": "EXIT", "OnReason": "*"},
    ],
}


@pytest.fixture(scope="module")
def built() -> Built:
    # GIVEN a Fargate queue, an EC2 queue and a GPU queue in an existing VPC, and two secrets
    stack = cdk.Stack(new_app(), "Jobs")
    vpc = imported_vpc(stack)
    fargate = BatchQueue(
        stack,
        "FargateQueue",
        environments=[
            FargateSpotEnvironment(stack, "FargateSpot", vpc=vpc),
            FargateEnvironment(stack, "Fargate", vpc=vpc),
        ],
    )
    ec2_queue = BatchQueue(stack, "Ec2Queue", environments=[Ec2Environment(stack, "OnDemand", vpc=vpc)])
    gpu_queue = BatchQueue(stack, "GpuQueue", environments=[GpuEnvironment(stack, "GpuEnvironment", vpc=vpc)])
    secret = secretsmanager.Secret(stack, "Token")
    secretsmanager.Secret(stack, "OtherSecret")
    # WHEN jobs are defined on them
    default = ContainerJob(stack, "Default", image=IMAGE, queue=fargate)
    submitter = JobRole(stack, "Submitter")
    grant = default.grant_submit_job(submitter)
    parts: dict[str, Any] = {
        "fargate_queue": fargate,
        "ec2_queue": ec2_queue,
        "secret": secret,
        "default": default,
        "submitter": submitter,
        "grant": grant,
        "on_ec2": ContainerJob(stack, "OnEc2", image=IMAGE, queue=ec2_queue),
        "gpu": ContainerJob(stack, "Gpu", image=IMAGE, queue=gpu_queue, gpus=1, vcpus=4, memory=Size.gibibytes(16)),
        "params": ContainerJob(
            stack,
            "Params",
            image=IMAGE,
            queue=fargate,
            command=["python", "-m", "job", "Ref::input", "Ref::output"],
            parameters={"input": "s3://in/a.csv", "output": "s3://out/"},
            environment={"STAGE": "test", "LOG_LEVEL": "INFO"},
        ),
        "secrets": ContainerJob(
            stack,
            "WithSecret",
            image=IMAGE,
            queue=fargate,
            secrets={"API_TOKEN": batch.Secret.from_secrets_manager(secret)},
        ),
        "hardened": ContainerJob(
            stack,
            "Hardened",
            image=IMAGE,
            queue=fargate,
            ephemeral_storage=Size.gibibytes(50),
            readonly_root_filesystem=True,
            user="1000:1000",
        ),
        "plain": ContainerJob(stack, "Plain", image=IMAGE, retry=RetryPolicy.none(), timeout=None),
        "mnp": MultiNodeJob(
            stack,
            "MultiNode",
            image=IMAGE,
            queue=ec2_queue,
            nodes=3,
            instance_type=ec2.InstanceType("m7i.4xlarge"),
            node_groups=[NodeGroup(0, 0, command=["main"]), NodeGroup(1, 2, environment={"ROLE": "worker"})],
        ),
    }
    return _build(stack, **parts)


def _props(built: Built, name: str) -> dict[str, Any]:
    props: dict[str, Any] = built.resource(built.parts[name].job_definition)["Properties"]
    return props


def _container(built: Built, name: str) -> dict[str, Any]:
    container: dict[str, Any] = _props(built, name)["ContainerProperties"]
    return container


def _managed_policy_statements(built: Built, role: Any) -> list[dict[str, Any]]:
    assert role.managed_policy is not None
    statements: list[dict[str, Any]] = built.resource(role.managed_policy)["Properties"]["PolicyDocument"]["Statement"]
    return statements


# --- container job defaults (Fargate) -------------------------------------------------------------------------------


def test_fargate_defaults_one_vcpu_two_gib_x86_linux_no_public_ip(built: Built) -> None:
    job: ContainerJob = built.parts["default"]
    assert job.platform == "FARGATE"
    props = _props(built, "default")
    assert props["Type"] == "container"
    assert props["PlatformCapabilities"] == ["FARGATE"]
    container = _container(built, "default")
    assert sorted(container["ResourceRequirements"], key=lambda r: r["Type"]) == [
        {"Type": "MEMORY", "Value": "2048"},
        {"Type": "VCPU", "Value": "1"},
    ]
    assert container["RuntimePlatform"] == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}
    assert container["NetworkConfiguration"] == {"AssignPublicIp": "DISABLED"}
    assert container["Image"] == IMAGE
    assert container["ReadonlyRootFilesystem"] is False
    assert "User" not in container
    assert "JobDefinitionName" not in props


def test_default_retry_is_spot_aware_and_ends_with_a_catch_all(built: Built) -> None:
    assert _props(built, "default")["RetryStrategy"] == SPOT_AWARE_RETRY


def test_default_timeout_is_an_hour_and_tags_propagate(built: Built) -> None:
    props = _props(built, "default")
    assert props["Timeout"] == {"AttemptDurationSeconds": 3600}
    assert props["PropagateTags"] is True


def test_no_retry_and_no_timeout(built: Built) -> None:
    props = _props(built, "plain")
    assert props["RetryStrategy"] == {"Attempts": 1}
    assert "AttemptDurationSeconds" not in props.get("Timeout", {})


def test_logs_go_to_the_job_s_own_log_group(built: Built) -> None:
    job: ContainerJob = built.parts["default"]
    group_id = built.logical_id(job.log_group)
    assert _container(built, "default")["LogConfiguration"] == {
        "LogDriver": "awslogs",
        "Options": {
            "awslogs-group": {"Ref": group_id},
            "awslogs-stream-prefix": "job",
            "awslogs-region": {"Ref": "AWS::Region"},
        },
    }
    group = built.template["Resources"][group_id]["Properties"]
    assert group["RetentionInDays"] == 365
    assert "KmsKeyId" in group


def test_roles_are_the_job_s_own_and_the_execution_role_writes_only_its_log_group(built: Built) -> None:
    job: ContainerJob = built.parts["default"]
    container = _container(built, "default")
    assert container["ExecutionRoleArn"] == {"Fn::GetAtt": [built.logical_id(job.execution_role), "Arn"]}
    assert container["JobRoleArn"] == {"Fn::GetAtt": [built.logical_id(job.job_role), "Arn"]}
    assert _managed_policy_statements(built, job.execution_role) == [
        {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [built.logical_id(job.log_group), "Arn"]},
        }
    ]
    assert job.job_role.managed_policy is None  # type: ignore[attr-defined]


# --- options --------------------------------------------------------------------------------------------------------


def test_platform_is_inferred_as_ec2_from_an_ec2_queue(built: Built) -> None:
    job: ContainerJob = built.parts["on_ec2"]
    assert job.platform == "EC2"
    props = _props(built, "on_ec2")
    assert props["PlatformCapabilities"] == ["EC2"]
    container = props["ContainerProperties"]
    assert "NetworkConfiguration" not in container
    assert "RuntimePlatform" not in container
    assert props["RetryStrategy"] == SPOT_AWARE_RETRY


def test_gpus_on_ec2(built: Built) -> None:
    requirements = {r["Type"]: r["Value"] for r in _container(built, "gpu")["ResourceRequirements"]}
    assert requirements == {"GPU": "1", "VCPU": "4", "MEMORY": "16384"}
    assert _props(built, "gpu")["PlatformCapabilities"] == ["EC2"]


def test_parameters_fill_the_ref_placeholders_of_the_command(built: Built) -> None:
    props = _props(built, "params")
    assert props["ContainerProperties"]["Command"] == ["python", "-m", "job", "Ref::input", "Ref::output"]
    assert props["Parameters"] == {"input": "s3://in/a.csv", "output": "s3://out/"}


def test_environment_variables(built: Built) -> None:
    environment = _container(built, "params")["Environment"]
    assert sorted(environment, key=lambda e: e["Name"]) == [
        {"Name": "LOG_LEVEL", "Value": "INFO"},
        {"Name": "STAGE", "Value": "test"},
    ]


def test_secret_is_injected_and_the_execution_role_reads_exactly_that_secret(built: Built) -> None:
    secret_ref = {"Ref": built.logical_id(built.parts["secret"])}
    assert _container(built, "secrets")["Secrets"] == [{"Name": "API_TOKEN", "ValueFrom": secret_ref}]
    statements = _managed_policy_statements(built, built.parts["secrets"].execution_role)
    secret_statements = [s for s in statements if any(str(a).startswith("secretsmanager:") for a in s["Action"])]
    assert secret_statements == [
        {
            "Action": ["secretsmanager:DescribeSecret", "secretsmanager:GetSecretValue"],
            "Effect": "Allow",
            "Resource": secret_ref,
        }
    ]
    # the job without secrets may read none
    default_statements = _managed_policy_statements(built, built.parts["default"].execution_role)
    assert "secretsmanager" not in json.dumps(default_statements)


def test_ephemeral_storage_readonly_root_filesystem_and_user(built: Built) -> None:
    container = _container(built, "hardened")
    assert container["EphemeralStorage"] == {"SizeInGiB": 50}
    assert container["ReadonlyRootFilesystem"] is True
    assert container["User"] == "1000:1000"


def test_a_job_without_a_queue_defaults_to_fargate(built: Built) -> None:
    assert built.parts["plain"].platform == "FARGATE"
    assert built.parts["plain"].queue is None


# --- grant_submit_job -----------------------------------------------------------------------------------------------


def test_grant_submit_job_is_scoped_to_the_queue_and_the_definition_s_revisions(built: Built) -> None:
    job: ContainerJob = built.parts["default"]
    queue_arn = {"Fn::GetAtt": [built.logical_id(built.parts["fargate_queue"].job_queue), "JobQueueArn"]}
    revisions = {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":batch:",
                {"Ref": "AWS::Region"},
                ":",
                {"Ref": "AWS::AccountId"},
                ":job-definition/",
                {
                    "Fn::Select": [
                        0,
                        {
                            "Fn::Split": [
                                ":",
                                {
                                    "Fn::Select": [
                                        1,
                                        {"Fn::Split": ["/", {"Ref": built.logical_id(job.job_definition)}]},
                                    ]
                                },
                            ]
                        },
                    ]
                },
                ":*",
            ],
        ]
    }
    statements = _managed_policy_statements(built, built.parts["submitter"])
    assert statements == [{"Action": "batch:SubmitJob", "Effect": "Allow", "Resource": [queue_arn, revisions]}]
    assert built.stack.resolve(job.job_definition_arn_pattern) == revisions
    assert built.stack.resolve(job.job_queue_arn) == queue_arn


def test_grant_submit_job_has_no_wildcard_resource_and_returns_a_grant(built: Built) -> None:
    statements = _managed_policy_statements(built, built.parts["submitter"])
    assert all(r != "*" for s in statements for r in s["Resource"])
    assert built.parts["grant"].success is True


# --- multi-node jobs ------------------------------------------------------------------------------------------------


def _nodes(built: Built, name: str) -> dict[str, Any]:
    nodes: dict[str, Any] = _props(built, name)["NodeProperties"]
    return nodes


def test_multinode_job_with_node_groups_on_an_ec2_queue(built: Built) -> None:
    props = _props(built, "mnp")
    assert props["Type"] == "multinode"
    assert props["PlatformCapabilities"] == ["EC2"]
    nodes = props["NodeProperties"]
    assert nodes["NumNodes"] == 3
    assert nodes["MainNode"] == 0
    ranges = nodes["NodeRangeProperties"]
    assert [r["TargetNodes"] for r in ranges] == ["0:0", "1:2"]
    assert ranges[0]["Container"]["Command"] == ["main"]
    assert ranges[1]["Container"]["Environment"] == [{"Name": "ROLE", "Value": "worker"}]
    assert {r["Container"]["InstanceType"] for r in ranges} == {"m7i.4xlarge"}
    # not an EFA queue: no device mapping
    assert all("LinuxParameters" not in r["Container"] for r in ranges)


@pytest.fixture(scope="module")
def efa() -> Built:
    # GIVEN an EfaEnvironment queue WHEN a four-node job is defined on it without an instance type
    return efa_stack()


def test_efa_multinode_job_takes_the_instance_type_from_the_efa_queue(efa: Built) -> None:
    job: MultiNodeJob = efa.parts["job"]
    assert job.instance_type.to_string() == "c5n.18xlarge"
    nodes = _nodes(efa, "job")
    assert nodes["NumNodes"] == 4
    assert nodes["MainNode"] == 0
    (node_range,) = nodes["NodeRangeProperties"]
    assert node_range["TargetNodes"] == "0:3"
    assert node_range["Container"]["InstanceType"] == "c5n.18xlarge"
    assert node_range["Container"]["Command"] == ["mpirun", "./solver"]


def test_efa_multinode_job_maps_the_efa_device_read_write_mknod(efa: Built) -> None:
    (node_range,) = _nodes(efa, "job")["NodeRangeProperties"]
    assert node_range["Container"]["LinuxParameters"] == {
        "Devices": [
            {
                "HostPath": "/dev/infiniband/uverbs0",
                "ContainerPath": "/dev/infiniband/uverbs0",
                "Permissions": ["READ", "WRITE", "MKNOD"],
            }
        ],
        "SharedMemorySize": 1024,  # half of the container's 2 GiB
    }
    assert node_range["Container"]["Ulimits"] == [{"HardLimit": -1, "Name": "memlock", "SoftLimit": -1}]


def test_efa_multinode_job_keeps_the_spot_aware_retry_and_timeout(efa: Built) -> None:
    props = _props(efa, "job")
    assert props["RetryStrategy"] == SPOT_AWARE_RETRY
    assert props["Timeout"] == {"AttemptDurationSeconds": 3600}
