"""BatchNetwork: the defaults of a new VPC, its options, and an existing VPC."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2

from batch_constructs import BATCH_INTERFACE_ENDPOINTS, BatchConfigurationError, BatchNetwork

from .core_stacks import SUBNET_IDS, VPC_ID, Built, _build, imported_vpc
from .helpers import new_app

ACCOUNT = "123456789012"
THREE_AZS = ["us-east-1a", "us-east-1b", "us-east-1c"]


def _tag(resource: dict[str, Any], key: str) -> str | None:
    return next((t["Value"] for t in resource["Properties"].get("Tags", []) if t["Key"] == key), None)


def _service_suffix(endpoint: dict[str, Any]) -> str:
    """``.s3`` from ``{"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".s3"]]}``."""
    parts = endpoint["Properties"]["ServiceName"]["Fn::Join"][1]
    assert parts[0] == "com.amazonaws."
    return str(parts[2])


@pytest.fixture(scope="module")
def new_vpc() -> Built:
    # GIVEN a stack WHEN a BatchNetwork is created with every default
    stack = cdk.Stack(new_app(), "NewVpc")
    network = BatchNetwork(stack, "Network")
    return _build(stack, network=network)


@pytest.fixture(scope="module")
def isolated() -> Built:
    # GIVEN a network without NAT, reaching AWS through the Batch interface endpoints
    stack = cdk.Stack(new_app(), "Isolated")
    network = BatchNetwork(stack, "Network", nat_gateways=0, interface_endpoints=BATCH_INTERFACE_ENDPOINTS)
    return _build(stack, network=network)


@pytest.fixture(scope="module")
def shaped() -> Built:
    # GIVEN a stack in a known region (an environment-agnostic stack only ever sees two AZs)
    app = new_app()
    app.node.set_context(f"availability-zones:account={ACCOUNT}:region=us-east-1", THREE_AZS)
    stack = cdk.Stack(app, "Shaped", env=cdk.Environment(account=ACCOUNT, region="us-east-1"))
    # WHEN the VPC spans three AZs with a NAT per AZ, without gateway endpoints and without flow logs
    network = BatchNetwork(stack, "Network", max_azs=3, nat_gateways=3, gateway_endpoints=False, flow_logs=False)
    return _build(stack, network=network)


@pytest.fixture(scope="module")
def existing() -> Built:
    # GIVEN a VPC that exists outside the app
    stack = cdk.Stack(new_app(), "Existing")
    network = BatchNetwork(stack, "Network", vpc=imported_vpc(stack))
    return _build(stack, network=network)


# --- a new VPC, defaults ------------------------------------------------------------------------------------------


def test_new_vpc_spans_two_azs_with_public_and_private_subnets(new_vpc: Built) -> None:
    # THEN one VPC with a public and a private-with-egress subnet in each of two AZs
    assert len(new_vpc.of_type("AWS::EC2::VPC")) == 1
    subnets = list(new_vpc.of_type("AWS::EC2::Subnet").values())
    kinds = sorted(str(_tag(s, "aws-cdk:subnet-type")) for s in subnets)
    assert kinds == ["Private", "Private", "Public", "Public"]
    azs = {s["Properties"]["AvailabilityZone"]["Fn::Select"][0] for s in subnets}
    assert azs == {0, 1}


def test_new_vpc_has_one_nat_gateway_and_private_default_routes_through_it(new_vpc: Built) -> None:
    assert len(new_vpc.of_type("AWS::EC2::NatGateway")) == 1
    nat_routes = [r for r in new_vpc.of_type("AWS::EC2::Route").values() if "NatGatewayId" in r["Properties"]]
    assert len(nat_routes) == 2


def test_public_subnets_give_no_public_ip_on_launch(new_vpc: Built) -> None:
    public = [s for s in new_vpc.of_type("AWS::EC2::Subnet").values() if _tag(s, "aws-cdk:subnet-type") == "Public"]
    assert len(public) == 2
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is False for s in public)


def test_new_vpc_has_s3_and_dynamodb_gateway_endpoints(new_vpc: Built) -> None:
    endpoints = list(new_vpc.of_type("AWS::EC2::VPCEndpoint").values())
    assert sorted(_service_suffix(e) for e in endpoints) == [".dynamodb", ".s3"]
    assert {e["Properties"]["VpcEndpointType"] for e in endpoints} == {"Gateway"}
    # on every route table, so the private subnets' S3 traffic bypasses the NAT gateway
    assert all(len(e["Properties"]["RouteTableIds"]) == 4 for e in endpoints)


def test_flow_logs_capture_all_traffic_to_an_encrypted_log_group_kept_a_year(new_vpc: Built) -> None:
    network: BatchNetwork = new_vpc.parts["network"]
    assert network.flow_log_group is not None
    group_id = new_vpc.logical_id(network.flow_log_group)
    flow_logs = list(new_vpc.of_type("AWS::EC2::FlowLog").values())
    assert len(flow_logs) == 1
    props = flow_logs[0]["Properties"]
    assert props["TrafficType"] == "ALL"
    assert props["ResourceType"] == "VPC"
    assert props["ResourceId"] == {"Ref": new_vpc.logical_id(network.vpc)}
    assert props["LogDestinationType"] == "cloud-watch-logs"
    assert props["LogGroupName"] == {"Ref": group_id}
    group = new_vpc.template["Resources"][group_id]["Properties"]
    assert group["RetentionInDays"] == 365
    assert group["KmsKeyId"] == {"Fn::GetAtt": ["BatchConstructsKey996A7547", "Arn"]}


def test_flow_log_role_writes_only_to_its_log_group_through_a_managed_policy(new_vpc: Built) -> None:
    network: BatchNetwork = new_vpc.parts["network"]
    assert network.flow_log_group is not None
    policies = list(new_vpc.of_type("AWS::IAM::ManagedPolicy").values())
    assert len(policies) == 1
    statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
    assert [s["Resource"] for s in statements] == [{"Fn::GetAtt": [new_vpc.logical_id(network.flow_log_group), "Arn"]}]
    assert new_vpc.of_type("AWS::IAM::Policy") == {}


def test_jobs_security_group_has_no_ingress_and_all_egress(new_vpc: Built) -> None:
    network: BatchNetwork = new_vpc.parts["network"]
    group = new_vpc.resource(network.security_group)["Properties"]
    assert "SecurityGroupIngress" not in group
    assert len(group["SecurityGroupEgress"]) == 1
    assert group["SecurityGroupEgress"][0]["CidrIp"] == "0.0.0.0/0"
    assert group["SecurityGroupEgress"][0]["IpProtocol"] == "-1"
    sg_id = new_vpc.logical_id(network.security_group)
    ingress = new_vpc.of_type("AWS::EC2::SecurityGroupIngress").values()
    assert not [i for i in ingress if i["Properties"]["GroupId"] == {"Fn::GetAtt": [sg_id, "GroupId"]}]


def test_compute_goes_to_the_private_subnets(new_vpc: Built) -> None:
    network: BatchNetwork = new_vpc.parts["network"]
    assert network.subnet_selection.subnet_type == ec2.SubnetType.PRIVATE_WITH_EGRESS
    selected = new_vpc.stack.resolve(
        network.vpc.select_subnets(subnet_type=network.subnet_selection.subnet_type).subnet_ids
    )
    private = [
        {"Ref": k}
        for k, s in new_vpc.of_type("AWS::EC2::Subnet").items()
        if _tag(s, "aws-cdk:subnet-type") == "Private"
    ]
    assert selected == private


# --- options --------------------------------------------------------------------------------------------------------


def test_without_nat_the_subnets_are_isolated_and_there_is_no_internet_gateway(isolated: Built) -> None:
    subnets = list(isolated.of_type("AWS::EC2::Subnet").values())
    assert [_tag(s, "aws-cdk:subnet-type") for s in subnets] == ["Isolated", "Isolated"]
    assert isolated.of_type("AWS::EC2::NatGateway") == {}
    assert isolated.of_type("AWS::EC2::InternetGateway") == {}
    network: BatchNetwork = isolated.parts["network"]
    assert network.subnet_selection.subnet_type == ec2.SubnetType.PRIVATE_ISOLATED


def test_batch_interface_endpoints_are_the_seven_services_in_the_isolated_subnets(isolated: Built) -> None:
    endpoints = isolated.of_type("AWS::EC2::VPCEndpoint").values()
    interface = [e for e in endpoints if e["Properties"]["VpcEndpointType"] == "Interface"]
    assert sorted(_service_suffix(e) for e in interface) == sorted(
        [".ecr.api", ".ecr.dkr", ".logs", ".ecs", ".ecs-agent", ".ecs-telemetry", ".secretsmanager"]
    )
    subnet_refs = sorted(isolated.of_type("AWS::EC2::Subnet"))
    for endpoint in interface:
        assert endpoint["Properties"]["PrivateDnsEnabled"] is True
        assert sorted(r["Ref"] for r in endpoint["Properties"]["SubnetIds"]) == subnet_refs


def test_isolated_network_keeps_the_s3_gateway_endpoint_for_image_layers(isolated: Built) -> None:
    endpoints = isolated.of_type("AWS::EC2::VPCEndpoint").values()
    gateways = sorted(_service_suffix(e) for e in endpoints if e["Properties"]["VpcEndpointType"] == "Gateway")
    assert gateways == [".dynamodb", ".s3"]


def test_max_azs_and_nat_gateways_shape_the_vpc(shaped: Built) -> None:
    subnets = list(shaped.of_type("AWS::EC2::Subnet").values())
    assert len(subnets) == 6
    assert {s["Properties"]["AvailabilityZone"] for s in subnets} == set(THREE_AZS)
    assert len(shaped.of_type("AWS::EC2::NatGateway")) == 3


def test_gateway_endpoints_and_flow_logs_can_be_turned_off(shaped: Built) -> None:
    assert shaped.of_type("AWS::EC2::VPCEndpoint") == {}
    assert shaped.of_type("AWS::EC2::FlowLog") == {}
    assert shaped.of_type("AWS::Logs::LogGroup") == {}
    network: BatchNetwork = shaped.parts["network"]
    assert network.flow_log_group is None


# --- an existing VPC ------------------------------------------------------------------------------------------------


def test_existing_vpc_creates_no_vpc_endpoints_or_flow_logs(existing: Built) -> None:
    assert existing.of_type("AWS::EC2::VPC") == {}
    assert existing.of_type("AWS::EC2::Subnet") == {}
    assert existing.of_type("AWS::EC2::VPCEndpoint") == {}
    assert existing.of_type("AWS::EC2::FlowLog") == {}
    network: BatchNetwork = existing.parts["network"]
    assert network.flow_log_group is None


def test_existing_vpc_gets_the_jobs_security_group_and_its_private_subnets(existing: Built) -> None:
    network: BatchNetwork = existing.parts["network"]
    groups = list(existing.of_type("AWS::EC2::SecurityGroup").values())
    assert len(groups) == 1
    assert groups[0]["Properties"]["VpcId"] == VPC_ID
    assert "SecurityGroupIngress" not in groups[0]["Properties"]
    assert network.vpc.vpc_id == VPC_ID
    assert network.vpc.select_subnets(subnet_type=network.subnet_selection.subnet_type).subnet_ids == list(SUBNET_IDS)


def test_existing_vpc_with_props_of_a_new_vpc_is_an_error() -> None:
    # GIVEN an existing VPC
    stack = cdk.Stack(new_app(), "Conflict")
    vpc = imported_vpc(stack)
    # WHEN max_azs (which only shapes a new VPC) is passed too THEN the construct refuses, naming path and prop
    with pytest.raises(
        BatchConfigurationError, match=r"(?s)Conflict/Network.*\[network-existing-vpc\].*max_azs"
    ) as err:
        BatchNetwork(stack, "Network", vpc=vpc, max_azs=3)
    assert err.value.path == "Conflict/Network"


def test_more_than_two_azs_without_an_environment_warns() -> None:
    # GIVEN an environment-agnostic stack (no account/region), as the example apps are
    from aws_cdk.assertions import Annotations, Match

    from batch_constructs import BatchNetwork

    from .helpers import new_stack

    stack = new_stack("AgnosticAzs")
    # WHEN three AZs are asked for
    BatchNetwork(stack, "Network", max_azs=3)
    # THEN the user is told the VPC only gets two, and how to get more
    Annotations.from_stack(stack).has_warning(
        "/AgnosticAzs/Network", Match.string_like_regexp(r"max_azs=3 in an environment-agnostic stack.*env=")
    )
    subnets = [r for r in stack.node.find_all() if type(r).__name__ == "CfnSubnet"]
    assert len(subnets) == 4  # 2 AZs x (public, private)


def test_interface_endpoints_are_read_on_first_use_then_kept() -> None:
    # GIVEN the module (importing it reads no endpoint service through jsii: the list is built on first use)
    from batch_constructs import network

    # WHEN the constant is read twice
    first = network.BATCH_INTERFACE_ENDPOINTS
    # THEN it is the same tuple, kept as a plain module attribute, of the seven services jobs need without NAT
    assert network.BATCH_INTERFACE_ENDPOINTS is first is vars(network)["BATCH_INTERFACE_ENDPOINTS"]
    assert [service.short_name for service in first] == [
        "ecr.api",
        "ecr.dkr",
        "logs",
        "ecs",
        "ecs-agent",
        "ecs-telemetry",
        "secretsmanager",
    ]
    with pytest.raises(AttributeError, match="has no attribute 'NO_SUCH_THING'"):
        network.NO_SUCH_THING  # noqa: B018
