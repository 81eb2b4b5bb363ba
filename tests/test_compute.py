"""Compute environments: each kind's defaults, the EFA build, and the options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_batch as batch
from aws_cdk import aws_ec2 as ec2

from batch_constructs import (
    BatchEnvironment,
    BatchNetwork,
    Ec2Environment,
    EfaEnvironment,
    FargateEnvironment,
    FargateSpotEnvironment,
    GpuEnvironment,
    SpotEnvironment,
)
from batch_constructs._internal.defaults import EFA_INSTALLER_KEY_FINGERPRINT, EFA_INSTALLER_VERSION

from .core_stacks import SUBNET_IDS, Built, _build, imported_vpc
from .helpers import new_app

KINDS = ("Fargate", "FargateSpot", "Ec2", "Spot", "Gpu", "Efa")
FARGATE_KINDS = ("Fargate", "FargateSpot")
EC2_KINDS = ("Ec2", "Spot", "Gpu", "Efa")
SPOT_FAMILIES = ["m5", "m6i", "m7i", "c5", "c6i", "c7i", "r5", "r6i", "r7i"]
AMI = "ami-0123456789abcdef0"


@pytest.fixture(scope="module")
def kinds() -> Built:
    # GIVEN one network WHEN one environment of each kind is created with its defaults
    stack = cdk.Stack(new_app(), "Kinds")
    network = BatchNetwork(stack, "Network")
    classes: dict[str, Callable[..., BatchEnvironment]] = {
        "Fargate": FargateEnvironment,
        "FargateSpot": FargateSpotEnvironment,
        "Ec2": Ec2Environment,
        "Spot": SpotEnvironment,
        "Gpu": GpuEnvironment,
        "Efa": EfaEnvironment,
    }
    parts: dict[str, Any] = {kind: cls(stack, kind, network=network) for kind, cls in classes.items()}
    parts["network"] = network
    return _build(stack, **parts)


@pytest.fixture(scope="module")
def options() -> Built:
    # GIVEN an existing VPC WHEN environments are created with explicit options
    stack = cdk.Stack(new_app(), "Options")
    vpc = imported_vpc(stack)
    template = ec2.LaunchTemplate(stack, "UserLaunchTemplate", require_imdsv2=True)
    parts: dict[str, Any] = {
        "custom": Ec2Environment(
            stack,
            "Custom",
            vpc=vpc,
            max_vcpus=64,
            instance_types=[ec2.InstanceType("m7i.large"), ec2.InstanceType("m7i.xlarge")],
            images=[
                batch.EcsMachineImage(
                    image_type=batch.EcsMachineImageType.ECS_AL2023,
                    image=ec2.MachineImage.generic_linux({"us-east-1": AMI}),
                )
            ],
            launch_template=template,
        ),
        "best_fit": SpotEnvironment(
            stack, "BestFitSpot", vpc=vpc, allocation_strategy=batch.AllocationStrategy.BEST_FIT, spot_bid_percentage=60
        ),
        "fargate": FargateEnvironment(stack, "Fargate", vpc=vpc, max_vcpus=16),
        "launch_template": template,
    }
    return _build(stack, **parts)


def _resources(built: Built, kind: str) -> dict[str, Any]:
    props: dict[str, Any] = built.resource(built.parts[kind].compute_environment)["Properties"]
    return props["ComputeResources"]  # type: ignore[no-any-return]


# --- every kind -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Fargate", "FARGATE"),
        ("FargateSpot", "FARGATE_SPOT"),
        ("Ec2", "EC2"),
        ("Spot", "SPOT"),
        ("Gpu", "EC2"),
        ("Efa", "EC2"),
    ],
)
def test_each_kind_has_its_type(kinds: Built, kind: str, expected: str) -> None:
    assert _resources(kinds, kind)["Type"] == expected
    assert kinds.parts[kind].capacity.kind == expected


@pytest.mark.parametrize("kind", KINDS)
def test_no_physical_name_and_the_service_linked_role(kinds: Built, kind: str) -> None:
    resource = kinds.resource(kinds.parts[kind].compute_environment)
    assert resource["Type"] == "AWS::Batch::ComputeEnvironment"
    assert resource["Properties"]["Type"] == "managed"
    assert "ComputeEnvironmentName" not in resource["Properties"]
    assert "ServiceRole" not in resource["Properties"]
    assert resource["Properties"]["State"] == "ENABLED"


@pytest.mark.parametrize("kind", FARGATE_KINDS)
def test_fargate_has_no_update_policy(kinds: Built, kind: str) -> None:
    props = kinds.resource(kinds.parts[kind].compute_environment)["Properties"]
    assert "UpdatePolicy" not in props
    assert "ReplaceComputeEnvironment" not in props
    assert "UpdateToLatestImageVersion" not in props["ComputeResources"]
    assert _resources(kinds, kind)["MaxvCpus"] == 256


@pytest.mark.parametrize("kind", KINDS)
def test_jobs_run_in_the_private_subnets_behind_the_network_security_group(kinds: Built, kind: str) -> None:
    network: BatchNetwork = kinds.parts["network"]
    private = kinds.stack.resolve(network.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).subnet_ids)
    resources = _resources(kinds, kind)
    if kind == "Efa":
        assert resources["Subnets"] == private[:1]
        return
    assert resources["Subnets"] == private
    assert resources["SecurityGroupIds"] == [{"Fn::GetAtt": [kinds.logical_id(network.security_group), "GroupId"]}]


@pytest.mark.parametrize("kind", EC2_KINDS)
def test_ec2_scales_to_zero_with_its_own_instance_profile(kinds: Built, kind: str) -> None:
    env = kinds.parts[kind]
    resources = _resources(kinds, kind)
    assert resources["MinvCpus"] == 0
    profile_id = resources["InstanceRole"]["Fn::GetAtt"][0]
    assert resources["InstanceRole"] == {"Fn::GetAtt": [profile_id, "Arn"]}
    profile = kinds.template["Resources"][profile_id]
    assert profile["Type"] == "AWS::IAM::InstanceProfile"
    assert profile["Properties"]["Roles"] == [{"Ref": kinds.logical_id(env.instance_role)}]


@pytest.mark.parametrize(
    ("kind", "strategy", "instance_types", "image"),
    [
        ("Ec2", "BEST_FIT_PROGRESSIVE", ["m7i", "c7i", "r7i"], "ECS_AL2023"),
        ("Spot", "SPOT_PRICE_CAPACITY_OPTIMIZED", SPOT_FAMILIES, "ECS_AL2023"),
        ("Gpu", "BEST_FIT_PROGRESSIVE", ["g5", "g6"], "ECS_AL2023_NVIDIA"),
        ("Efa", "BEST_FIT_PROGRESSIVE", ["c5n.18xlarge"], "ECS_AL2023"),
    ],
)
def test_ec2_defaults_per_kind(kinds: Built, kind: str, strategy: str, instance_types: list[str], image: str) -> None:
    resources = _resources(kinds, kind)
    assert resources["AllocationStrategy"] == strategy
    assert resources["InstanceTypes"] == instance_types
    assert resources["Ec2Configuration"] == [{"ImageType": image}]


def test_default_spot_needs_no_spot_fleet_role(kinds: Built) -> None:
    spot: SpotEnvironment = kinds.parts["Spot"]
    assert spot.spot_fleet_role is None
    assert "SpotIamFleetRole" not in _resources(kinds, "Spot")
    assert "BidPercentage" not in _resources(kinds, "Spot")
    trusts = [
        r["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        for r in kinds.of_type("AWS::IAM::Role").values()
    ]
    assert {"Service": "spotfleet.amazonaws.com"} not in trusts


# --- EFA ------------------------------------------------------------------------------------------------------------


def test_efa_uses_a_cluster_placement_group(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    group_id = kinds.logical_id(efa.placement_group)
    assert kinds.template["Resources"][group_id]["Properties"] == {"Strategy": "cluster"}
    assert _resources(kinds, "Efa")["PlacementGroup"] == {"Fn::GetAtt": [group_id, "GroupName"]}


def test_efa_launch_template_has_an_efa_interface_in_the_one_subnet(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    data = kinds.resource(efa.launch_template)["Properties"]["LaunchTemplateData"]
    (interface,) = data["NetworkInterfaces"]
    assert interface["InterfaceType"] == "efa"
    assert interface["DeviceIndex"] == 0
    assert interface["Groups"] == [{"Fn::GetAtt": [kinds.logical_id(efa.efa_security_group), "GroupId"]}]
    assert [interface["SubnetId"]] == _resources(kinds, "Efa")["Subnets"]
    assert interface["NetworkCardIndex"] == 0
    locked = {"HttpEndpoint": "enabled", "HttpTokens": "required", "HttpPutResponseHopLimit": 1}
    assert data["MetadataOptions"] == locked


def test_efa_environment_pins_the_launch_template_version(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    template_id = kinds.logical_id(efa.launch_template)
    assert _resources(kinds, "Efa")["LaunchTemplate"] == {
        "LaunchTemplateId": {"Ref": template_id},
        "Version": {"Fn::GetAtt": [template_id, "LatestVersionNumber"]},
    }


def test_efa_environment_has_no_security_groups_beside_the_interfaces(kinds: Built) -> None:
    # AWS Batch rejects SecurityGroupIds together with a launch template that has NetworkInterfaces (aws-cdk #21577)
    assert "SecurityGroupIds" not in _resources(kinds, "Efa")


def test_efa_security_group_allows_all_traffic_out_to_itself(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    group = {"Fn::GetAtt": [kinds.logical_id(efa.efa_security_group), "GroupId"]}
    (egress,) = [
        r["Properties"]
        for r in kinds.of_type("AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == group
    ]
    assert egress["DestinationSecurityGroupId"] == group
    assert egress["IpProtocol"] == "-1"


def test_efa_user_data_installs_the_pinned_verified_efa_software(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    user_data = kinds.resource(efa.launch_template)["Properties"]["LaunchTemplateData"]["UserData"]["Fn::Base64"]
    assert user_data.startswith('Content-Type: multipart/mixed; boundary="')
    assert f"aws-efa-installer-{EFA_INSTALLER_VERSION}.tar.gz" in user_data
    assert EFA_INSTALLER_KEY_FINGERPRINT in user_data
    verify, install = user_data.index("gpg --batch --verify"), user_data.index("./efa_installer.sh -y")
    assert verify < install


def test_efa_security_group_allows_all_traffic_from_itself_only(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    group = {"Fn::GetAtt": [kinds.logical_id(efa.efa_security_group), "GroupId"]}
    rules = [
        r["Properties"]
        for r in kinds.of_type("AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == group
    ]
    assert len(rules) == 1
    assert rules[0]["IpProtocol"] == "-1"
    assert rules[0]["SourceSecurityGroupId"] == group
    assert "CidrIp" not in rules[0]
    props = kinds.resource(efa.efa_security_group)["Properties"]
    assert "SecurityGroupIngress" not in props


def test_efa_capacity_describes_one_efa_instance_type(kinds: Built) -> None:
    efa: EfaEnvironment = kinds.parts["Efa"]
    assert efa.capacity.efa is True
    assert efa.capacity.single_instance_type == "c5n.18xlarge"
    assert _resources(kinds, "Efa")["MaxvCpus"] == 512


# --- options --------------------------------------------------------------------------------------------------------


def test_max_vcpus_instance_types_and_images_are_passed(options: Built) -> None:
    resources = _resources(options, "custom")
    assert resources["MaxvCpus"] == 64
    assert resources["InstanceTypes"] == ["m7i.large", "m7i.xlarge"]
    (image,) = resources["Ec2Configuration"]
    assert image["ImageType"] == "ECS_AL2023"
    assert "ImageIdOverride" in image
    assert resources["Subnets"] == list(SUBNET_IDS)


def test_a_user_launch_template_gets_its_version_pinned(options: Built) -> None:
    template_id = options.logical_id(options.parts["launch_template"])
    assert _resources(options, "custom")["LaunchTemplate"] == {
        "LaunchTemplateId": {"Ref": template_id},
        "Version": {"Fn::GetAtt": [template_id, "LatestVersionNumber"]},
    }


def test_spot_with_best_fit_gets_a_spot_fleet_role_with_the_tagging_policy(options: Built) -> None:
    env: SpotEnvironment = options.parts["best_fit"]
    assert env.spot_fleet_role is not None
    resources = _resources(options, "best_fit")
    assert resources["AllocationStrategy"] == "BEST_FIT"
    assert resources["BidPercentage"] == 60
    role_id = options.logical_id(env.spot_fleet_role)
    assert resources["SpotIamFleetRole"] == {"Fn::GetAtt": [role_id, "Arn"]}
    role = options.template["Resources"][role_id]["Properties"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "spotfleet.amazonaws.com"}
    assert role["ManagedPolicyArns"] == [
        {
            "Fn::Join": [
                "",
                ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AmazonEC2SpotFleetTaggingRole"],
            ]
        }
    ]


def test_fargate_in_a_given_vpc_gets_a_new_security_group_there(options: Built) -> None:
    resources = _resources(options, "fargate")
    assert resources["MaxvCpus"] == 16
    assert resources["Subnets"] == list(SUBNET_IDS)
    (group,) = resources["SecurityGroupIds"]
    group_props = options.template["Resources"][group["Fn::GetAtt"][0]]["Properties"]
    assert group_props["VpcId"] == "vpc-0123456789abcdef0"
