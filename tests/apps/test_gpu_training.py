"""The GpuTraining stack: what a GPU queue and a multi-node EFA training cluster must contain, synthesized once with
the five cdk-nag packs registered (a finding fails the synthesis) and checked by cfn-lint."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from apps.gpu_training.stack import EFA_INSTANCE_TYPE, NODES
from batch_constructs.model.capacity import EFA_TYPES, GPU_TYPES

from ..conftest import SynthesizedApp
from ..helpers import resources

STACK = "GpuTraining"


@pytest.fixture(scope="module")
def app(synth_app: Callable[[str], SynthesizedApp]) -> SynthesizedApp:
    return synth_app("gpu_training")


@pytest.fixture(scope="module")
def template(app: SynthesizedApp) -> dict[str, Any]:
    return app.template(STACK)


@pytest.fixture(scope="module")
def assertions(template: dict[str, Any]) -> Template:
    return Template.from_json(template)


def one(template: dict[str, Any], resource_type: str, logical_prefix: str) -> tuple[str, dict[str, Any]]:
    found = [(k, v) for k, v in resources(template, resource_type).items() if k.startswith(logical_prefix)]
    assert len(found) == 1, (resource_type, logical_prefix, [k for k, _ in found])
    return found[0]


def test_the_app_is_one_stack(app: SynthesizedApp) -> None:
    assert list(app.templates) == [STACK]


def test_the_efa_instance_type_has_gpus_and_efa() -> None:
    family = EFA_INSTANCE_TYPE.split(".")[0]
    assert EFA_INSTANCE_TYPE in EFA_TYPES
    assert GPU_TYPES[family][EFA_INSTANCE_TYPE].gpus == 8


# --- single-node GPU jobs ---------------------------------------------------------------------------------------------


def test_gpu_environment_runs_nvidia_images_on_gpu_families(template: dict[str, Any]) -> None:
    _, env = one(template, "AWS::Batch::ComputeEnvironment", "GpuEnvironment")
    compute = env["Properties"]["ComputeResources"]
    assert compute["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]
    assert sorted(compute["InstanceTypes"]) == ["g5", "g6"]
    assert compute["Type"] == "EC2"
    assert compute["MinvCpus"] == 0  # nothing runs, nothing is billed while idle
    assert compute["MaxvCpus"] == 64


def test_single_gpu_job_asks_for_one_gpu_on_ec2(assertions: Template) -> None:
    assertions.has_resource_properties(
        "AWS::Batch::JobDefinition",
        {
            "Type": "container",
            "PlatformCapabilities": ["EC2"],
            "Parameters": {"steps": "200"},
            "ContainerProperties": Match.object_like(
                {
                    "Command": ["python", "-m", "job.launch", "--steps", "Ref::steps"],
                    "ResourceRequirements": Match.array_with([{"Type": "GPU", "Value": "1"}]),
                    "LinuxParameters": {"SharedMemorySize": 8192},
                    "Environment": [{"Name": "GPUS_PER_NODE", "Value": "1"}],
                }
            ),
        },
    )


def test_gpu_queue_serves_the_gpu_environment(template: dict[str, Any]) -> None:
    env_id, _ = one(template, "AWS::Batch::ComputeEnvironment", "GpuEnvironment")
    _, queue = one(template, "AWS::Batch::JobQueue", "GpuQueue")
    order = queue["Properties"]["ComputeEnvironmentOrder"]
    assert order == [{"ComputeEnvironment": {"Fn::GetAtt": [env_id, "ComputeEnvironmentArn"]}, "Order": 1}]


# --- multi-node training over EFA -------------------------------------------------------------------------------------


def test_efa_environment_is_one_gpu_type_in_a_cluster_placement_group(template: dict[str, Any]) -> None:
    group_id, group = one(template, "AWS::EC2::PlacementGroup", "EfaEnvironment")
    assert group["Properties"]["Strategy"] == "cluster"
    template_id, _ = one(template, "AWS::EC2::LaunchTemplate", "EfaEnvironment")
    _, env = one(template, "AWS::Batch::ComputeEnvironment", "EfaEnvironment")
    compute = env["Properties"]["ComputeResources"]
    assert compute["Type"] == "EC2"  # On-Demand: multi-node jobs do not run on Spot
    assert compute["InstanceTypes"] == [EFA_INSTANCE_TYPE]
    assert compute["Ec2Configuration"] == [{"ImageType": "ECS_AL2023_NVIDIA"}]  # chosen for the GPU type
    # the security group is on the interface only: Batch rejects it beside launch-template network interfaces
    assert "SecurityGroupIds" not in compute
    assert compute["PlacementGroup"] == {"Fn::GetAtt": [group_id, "GroupName"]}
    assert len(compute["Subnets"]) == 1  # one subnet, so one AZ, as a cluster placement group requires
    assert compute["MinvCpus"] == 0
    assert compute["MaxvCpus"] == NODES * 192  # one 4-node job at a time bounds the spend
    # the launch template's changes roll the environment: pinned to its latest version
    assert compute["LaunchTemplate"] == {
        "LaunchTemplateId": {"Ref": template_id},
        "Version": {"Fn::GetAtt": [template_id, "LatestVersionNumber"]},
    }


def test_efa_launch_template_attaches_an_efa_interface(template: dict[str, Any]) -> None:
    _, launch_template = one(template, "AWS::EC2::LaunchTemplate", "EfaEnvironment")
    _, env = one(template, "AWS::Batch::ComputeEnvironment", "EfaEnvironment")
    [interface] = launch_template["Properties"]["LaunchTemplateData"]["NetworkInterfaces"]
    assert interface["InterfaceType"] == "efa"
    assert interface["DeviceIndex"] == 0
    assert interface["SubnetId"] == env["Properties"]["ComputeResources"]["Subnets"][0]
    data = launch_template["Properties"]["LaunchTemplateData"]
    assert data["MetadataOptions"] == {
        "HttpEndpoint": "enabled",
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 1,
    }
    # no context key needed: the EFA software is installed at boot
    assert "./efa_installer.sh -y" in data["UserData"]["Fn::Base64"]


def test_efa_security_group_lets_the_nodes_talk_to_each_other(template: dict[str, Any]) -> None:
    group_id, _ = one(template, "AWS::EC2::SecurityGroup", "EfaEnvironment")
    [(_, rule)] = resources(template, "AWS::EC2::SecurityGroupIngress").items()
    assert rule["Properties"]["IpProtocol"] == "-1"
    assert rule["Properties"]["GroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    assert rule["Properties"]["SourceSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}
    [(_, egress)] = resources(template, "AWS::EC2::SecurityGroupEgress").items()
    assert egress["Properties"]["IpProtocol"] == "-1"
    assert egress["Properties"]["DestinationSecurityGroupId"] == {"Fn::GetAtt": [group_id, "GroupId"]}


def test_distributed_job_is_multi_node_with_gpus_and_the_efa_device(template: dict[str, Any]) -> None:
    _, job = one(template, "AWS::Batch::JobDefinition", "DistributedTrainingJob")
    props = job["Properties"]
    assert props["Type"] == "multinode"
    assert props["Parameters"] == {"steps": "200"}
    nodes = props["NodeProperties"]
    assert nodes["NumNodes"] == NODES
    assert nodes["MainNode"] == 0
    [node_range] = nodes["NodeRangeProperties"]
    assert node_range["TargetNodes"] == f"0:{NODES - 1}"
    container = node_range["Container"]
    assert container["InstanceType"] == EFA_INSTANCE_TYPE
    assert {"Type": "GPU", "Value": "8"} in container["ResourceRequirements"]
    assert container["LinuxParameters"]["Devices"] == [
        {
            "HostPath": "/dev/infiniband/uverbs0",
            "ContainerPath": "/dev/infiniband/uverbs0",
            "Permissions": ["READ", "WRITE", "MKNOD"],
        }
    ]
    assert container["Ulimits"] == [{"Name": "memlock", "SoftLimit": -1, "HardLimit": -1}]
    assert container["Command"] == ["python", "-m", "job.launch", "--steps", "Ref::steps"]
    env = {e["Name"]: e["Value"] for e in container["Environment"]}
    # what the launcher reads: one process per GPU, EFA on, the instance type (for GPUDirect RDMA)
    assert env == {"GPUS_PER_NODE": "8", "TRAINING_EFA": "1", "TRAINING_INSTANCE_TYPE": EFA_INSTANCE_TYPE}


def test_distributed_job_fits_one_node(template: dict[str, Any]) -> None:
    _, job = one(template, "AWS::Batch::JobDefinition", "DistributedTrainingJob")
    container = job["Properties"]["NodeProperties"]["NodeRangeProperties"][0]["Container"]
    req = {r["Type"]: int(r["Value"]) for r in container["ResourceRequirements"]}
    shape = GPU_TYPES["g5"][EFA_INSTANCE_TYPE]
    assert req["VCPU"] <= shape.vcpus
    assert req["MEMORY"] < shape.memory_mib
    assert req["GPU"] == shape.gpus


def test_efa_queue_serves_only_the_efa_environment(template: dict[str, Any]) -> None:
    env_id, _ = one(template, "AWS::Batch::ComputeEnvironment", "EfaEnvironment")
    _, queue = one(template, "AWS::Batch::JobQueue", "EfaQueue")
    assert queue["Properties"]["ComputeEnvironmentOrder"] == [
        {"ComputeEnvironment": {"Fn::GetAtt": [env_id, "ComputeEnvironmentArn"]}, "Order": 1}
    ]


# --- started through Step Functions ----------------------------------------------------------------------------------


def test_state_machine_submits_the_distributed_job_and_waits(template: dict[str, Any]) -> None:
    _, machine = one(template, "AWS::StepFunctions::StateMachine", "DistributedTraining")
    definition = json.dumps(machine["Properties"]["DefinitionString"])
    assert ":states:::batch:submitJob.sync" in definition
    job_id, _ = one(template, "AWS::Batch::JobDefinition", "DistributedTrainingJob")
    queue_id, _ = one(template, "AWS::Batch::JobQueue", "EfaQueue")
    assert job_id in definition
    assert queue_id in definition
    assert machine["Properties"]["TracingConfiguration"] == {"Enabled": True}
    assert machine["Properties"]["LoggingConfiguration"]["Level"] == "ALL"


def test_state_machine_may_submit_only_the_distributed_job_to_its_queue(template: dict[str, Any]) -> None:
    job_id, _ = one(template, "AWS::Batch::JobDefinition", "DistributedTrainingJob")
    queue_id, _ = one(template, "AWS::Batch::JobQueue", "EfaQueue")
    policies = [
        p for k, p in resources(template, "AWS::IAM::ManagedPolicy").items() if k.startswith("DistributedTrainingRole")
    ]
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    submit = [s for s in statements if "batch:SubmitJob" in json.dumps(s["Action"])]
    assert len(submit) == 1
    text = json.dumps(submit[0]["Resource"])
    assert queue_id in text and job_id in text
    assert "job-definition/*" not in text


# --- secure and lint-clean --------------------------------------------------------------------------------------------


def test_log_groups_are_encrypted_and_expire(template: dict[str, Any]) -> None:
    groups = resources(template, "AWS::Logs::LogGroup")
    assert len(groups) >= 4  # flow logs, two jobs, the state machine
    for group in groups.values():
        assert "KmsKeyId" in group["Properties"]
        assert group["Properties"]["RetentionInDays"] == 365


#: Where cdk-nag findings may be acknowledged in this stack: the library's own placements (NAT route, instance roles,
#: EFA self-referencing rule, state machine role) and the app's two (the execution roles' ECR token statement).
ACKNOWLEDGED_PATHS = {
    "Network/Vpc/PublicSubnet1/DefaultRoute",
    "Network/Vpc/PublicSubnet2/DefaultRoute",
    "GpuEnvironment/InstanceRole",
    "EfaEnvironment/InstanceRole",
    "EfaEnvironment/EfaSecurityGroup/from GpuTrainingEfaEnvironmentEfaSecurityGroup116EEC37:ALL TRAFFIC",
    "DistributedTraining/Role/Policy",
    "SingleGpuJob/ExecutionRole/Policy",
    "DistributedTrainingJob/ExecutionRole/Policy",
    # aws-cdk's default-security-group restriction, acknowledged for audits of the template alone (BatchNetwork)
    "Network/Vpc/Resource",
    "Custom::VpcRestrictDefaultSGCustomResourceProvider",
}
NAG_PACKS = ("AwsSolutions::", "NIST.800.53.R5::", "HIPAA.Security::", "PCI.DSS.321::", "Serverless::")


def test_acknowledgements_sit_only_on_the_inherent_constructs(app: SynthesizedApp) -> None:
    metadata = json.loads((app.outdir / f"{STACK}.metadata.json").read_text())
    acknowledged: dict[str, set[str]] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:acknowledged-rules":
                rel = path.removeprefix(f"/{STACK}/")
                acknowledged.setdefault(rel, set()).update(k for k in entry["data"] if k.startswith(NAG_PACKS))
    acknowledged = {path: ids for path, ids in acknowledged.items() if ids}
    assert set(acknowledged) == ACKNOWLEDGED_PATHS
    # the app's own: exactly the ECR authorization token wildcard, nothing broader
    for job in ("SingleGpuJob", "DistributedTrainingJob"):
        assert acknowledged[f"{job}/ExecutionRole/Policy"] == {"AwsSolutions::AwsSolutions-IAM5[Resource::*]"}


def test_outputs_name_what_the_readme_commands_use(template: dict[str, Any]) -> None:
    assert set(template["Outputs"]) == {
        "GpuQueueArn",
        "SingleGpuJobDefinitionArn",
        "SingleGpuJobLogGroup",
        "TrainingStateMachineArn",
        "DistributedJobLogGroup",
        "FailureTopicArn",
    }
