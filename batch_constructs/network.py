"""The network a Batch platform runs in: a new VPC with safe defaults, or the caller's own."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import ArnFormat, CfnResource, Token
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct, IConstruct

from ._internal import logs as _logs
from ._internal.compliance import CONTROL_PACKS, acknowledge_all, acknowledge_in_packs, in_packs, managed_policy_finding
from ._internal.iam import ManagedPolicyRole, service_principal
from ._internal.memo import adopt_stack, stack_of
from ._internal.validation import raise_if_any, warn
from .model import registry

__all__ = ["BATCH_INTERFACE_ENDPOINTS", "BatchNetwork"]

#: Interface endpoints that let EC2 and Fargate jobs run in subnets without a NAT: the ECS agent and telemetry,
#: image pulls (ECR API and Docker registry; layers come through the S3 gateway endpoint), logs and secrets.
#: (Built on first use, see :func:`__getattr__`.)
BATCH_INTERFACE_ENDPOINTS: tuple[ec2.InterfaceVpcEndpointAwsService, ...]


#: Interface endpoints every job needs in subnets without a NAT: image pulls (ECR API and Docker registry; the layers
#: come through the S3 gateway endpoint) and CloudWatch Logs (AWS Batch User Guide, "VPC endpoints"; Amazon ECS
#: Developer Guide, "Amazon ECS interface VPC endpoints").
JOB_ENDPOINTS: Final = ("ecr.api", "ecr.dkr", "logs")
#: Interface endpoints the ECS agent of an EC2 instance needs without a NAT, to register and report (Fargate does not).
EC2_ENDPOINTS: Final = ("ecs", "ecs-agent", "ecs-telemetry")


def _short_names(services: Sequence[ec2.IInterfaceVpcEndpointService]) -> set[str]:
    """``ecr.api``, ``logs``, ... of the AWS services among ``services`` (one jsii read each)."""
    return {name for s in services if (name := getattr(s, "short_name", None)) is not None}


def _egress_problems(
    interface_endpoints: Sequence[ec2.IInterfaceVpcEndpointService], names: set[str], gateway_endpoints: bool | None
) -> list[str]:
    """``network-egress`` for a new VPC without NAT, whose interface endpoints' services are ``names``: the endpoints
    every job needs (EC2's ECS endpoints are checked where an EC2 environment is placed, see
    :attr:`BatchNetwork.ec2_endpoints_missing`)."""
    if not interface_endpoints:
        return [
            registry.NETWORK_EGRESS.fix(
                "nat_gateways=0 and no interface_endpoints: jobs in isolated subnets cannot pull images, reach "
                "ECS or write logs, so they stay in RUNNABLE or STARTING",
                "pass interface_endpoints=BATCH_INTERFACE_ENDPOINTS, or nat_gateways=1",
            )
        ]
    problems = []
    missing = [name for name in JOB_ENDPOINTS if name not in names]
    if missing:
        problems.append(
            registry.NETWORK_EGRESS.fix(
                f"nat_gateways=0 and interface_endpoints without {', '.join(missing)}: jobs cannot pull their images "
                "or write their logs, so they fail or stay in STARTING",
                "pass interface_endpoints=BATCH_INTERFACE_ENDPOINTS (or add the missing ones), or nat_gateways=1",
            )
        )
    if gateway_endpoints is False:
        problems.append(
            registry.NETWORK_EGRESS.fix(
                "nat_gateways=0 and gateway_endpoints=False: ECR serves image layers from S3, which the subnets then "
                "cannot reach, so image pulls fail",
                "keep the S3 gateway endpoint (gateway_endpoints=True, the default for a new VPC), or nat_gateways=1",
            )
        )
    return problems


def _batch_interface_endpoints() -> tuple[ec2.InterfaceVpcEndpointAwsService, ...]:
    return (
        ec2.InterfaceVpcEndpointAwsService.ECR,
        ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
        ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        ec2.InterfaceVpcEndpointAwsService.ECS,
        ec2.InterfaceVpcEndpointAwsService.ECS_AGENT,
        ec2.InterfaceVpcEndpointAwsService.ECS_TELEMETRY,
        ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    )


def __getattr__(name: str) -> object:
    """:data:`BATCH_INTERFACE_ENDPOINTS` on first use (PEP 562), then as a plain module attribute.

    Each endpoint service is a read through the jsii kernel (about 60-120 ms for the seven, the first time in a
    process); most apps use a NAT and never read them, so importing the module does not pay for them.
    """
    if name == "BATCH_INTERFACE_ENDPOINTS":
        value = _batch_interface_endpoints()
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class BatchNetwork(Construct):
    """A VPC for Batch jobs, with flow logs, gateway endpoints and an egress-only security group for jobs.

    New VPC (the default): public subnets (for the NAT gateways only: instances launched there get no public IP) and
    private subnets with egress through NAT, across ``max_azs`` Availability Zones. With ``nat_gateways=0`` the
    private subnets are isolated and ``interface_endpoints`` must let jobs reach ECR, ECS and CloudWatch Logs.

    Existing VPC: pass ``vpc`` (any ``ec2.IVpc``, including one from another stack or ``Vpc.from_lookup``); the
    construct then only adds the jobs' security group (and flow logs or endpoints if asked for). Combining ``vpc`` with
    a prop that shapes a new VPC is an error.

    Attributes:
        vpc: the VPC (created or given).
        security_group: the jobs' security group: no ingress, all egress.
        subnet_selection: the subnets compute environments launch into.
        flow_log_group: the flow logs' log group, or None when there are no flow logs.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        max_azs: int | None = None,
        nat_gateways: int | None = None,
        ip_addresses: ec2.IIpAddresses | None = None,
        gateway_endpoints: bool | None = None,
        interface_endpoints: Sequence[ec2.InterfaceVpcEndpointAwsService] = (),
        flow_logs: bool | None = None,
        log_retention: logs.RetentionDays | None = None,
        encryption_key: kms.IKey | None = None,
    ) -> None:
        """Create the network.

        Args:
            vpc: an existing VPC to use. Default: a new VPC.
            vpc_subnets: where compute environments launch instances and tasks. Default: the private subnets with
                egress (isolated ones when ``nat_gateways=0``).
            max_azs: Availability Zones of a new VPC. Default: 2 (Batch spreads capacity across them).
            nat_gateways: NAT gateways of a new VPC, 0 up to one per AZ. Default: 1 (about 33 USD a month; one per AZ
                survives an AZ outage at that cost each).
            ip_addresses: CIDR of a new VPC. Default: ``10.0.0.0/16``.
            gateway_endpoints: add the free S3 and DynamoDB gateway endpoints (cut NAT data charges; image layers
                come from S3). Default: True for a new VPC, False for a given one (it may have them already, and a
                second S3 route on the same route table fails the deploy).
            interface_endpoints: interface endpoints to add (about 7 USD a month each per AZ); see
                :data:`BATCH_INTERFACE_ENDPOINTS` for a VPC without NAT. Default: none.
            flow_logs: log all traffic to a CloudWatch log group. Default: True for a new VPC, False for a given one.
            log_retention: retention of the flow log group. Default: one year.
            encryption_key: KMS key of the flow log group. Default: the stack's shared batch-constructs key.
        """
        super().__init__(scope, construct_id)
        adopt_stack(self, scope)
        problems: list[str] = []
        if vpc is not None:
            shaped = {"max_azs": max_azs, "nat_gateways": nat_gateways, "ip_addresses": ip_addresses}
            given = sorted(k for k, v in shaped.items() if v is not None)
            if given:
                problems.append(
                    registry.NETWORK_EXISTING_VPC.fix(
                        f"got vpc together with {', '.join(given)}, which only shape a new VPC",
                        "drop those props, or drop vpc to have a new VPC created",
                    )
                )
        azs = 2 if max_azs is None else max_azs
        nats = 1 if nat_gateways is None else nat_gateways
        if vpc is None:
            if not 1 <= azs <= 6:
                problems.append(registry.NETWORK_AZS.fix(f"max_azs={azs}; allowed 1-6", "use 2 or 3"))
            if not 0 <= nats <= azs:
                problems.append(
                    registry.NETWORK_NAT.fix(
                        f"nat_gateways={nats}; allowed 0 to max_azs ({azs})",
                        f"1 for cost, {azs} for AZ resilience, 0 with interface_endpoints=BATCH_INTERFACE_ENDPOINTS",
                    )
                )
        #: The ECS interface endpoints an EC2 environment in this network would lack (its instances reach ECS through
        #: nothing else without a NAT); empty where there is a NAT or the VPC is the user's.
        self.ec2_endpoints_missing: tuple[str, ...] = ()
        #: Without a NAT (a new VPC with ``nat_gateways=0``): the interface endpoint services (``logs``,
        #: ``secretsmanager``, ...) its subnets reach, as passed in ``interface_endpoints``: an endpoint added later
        #: with ``vpc.add_interface_endpoint`` is not seen by the checks, so pass every one there. None where there is
        #: a NAT or the VPC is the user's.
        self.isolated_endpoints: frozenset[str] | None = None
        if vpc is None and nats == 0:
            names = _short_names(interface_endpoints)
            problems += _egress_problems(interface_endpoints, names, gateway_endpoints)
            self.ec2_endpoints_missing = tuple(sorted(set(EC2_ENDPOINTS) - names))
            self.isolated_endpoints = frozenset(names)
        raise_if_any(self, problems)
        if vpc is None and azs > 2 and Token.is_unresolved(stack_of(self).region):
            warn(
                self,
                registry.AZS_WITHOUT_ENV_WARNING,
                f"max_azs={azs} in an environment-agnostic stack: CDK knows only two Availability Zones without an "
                "account and region, so the VPC spans 2. Give the stack env=Environment(account=..., region=...) "
                "(and commit cdk.context.json) to span more.",
            )

        self.flow_log_group: logs.ILogGroup | None = None
        #: The VPC's CIDR as a literal where it is known at synth time (endpoint ingress; see below).
        endpoint_peer_cidr: str | None = None
        if vpc is None:
            private_type = ec2.SubnetType.PRIVATE_WITH_EGRESS if nats > 0 else ec2.SubnetType.PRIVATE_ISOLATED
            subnets = [ec2.SubnetConfiguration(name="Private", subnet_type=private_type, cidr_mask=20)]
            if nats > 0:
                subnets.insert(
                    0,
                    ec2.SubnetConfiguration(
                        name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24, map_public_ip_on_launch=False
                    ),
                )
            addresses = ip_addresses or ec2.IpAddresses.cidr("10.0.0.0/16")
            cidr = addresses.allocate_vpc_cidr().cidr_block
            endpoint_peer_cidr = cidr if cidr is not None and not Token.is_unresolved(cidr) else None
            self.vpc: ec2.IVpc = ec2.Vpc(
                self,
                "Vpc",
                ip_addresses=addresses,
                max_azs=azs,
                nat_gateways=nats,
                subnet_configuration=subnets,
            )
            self.subnet_selection = vpc_subnets or ec2.SubnetSelection(subnet_type=private_type)
            _acknowledge_restrict_default_sg(self.vpc, _restrict_sg_provider(self))
            for subnet in self.vpc.public_subnets:
                route = subnet.node.try_find_child("DefaultRoute")
                if route is not None:
                    acknowledge_in_packs(
                        route,
                        "VPCNoUnrestrictedRouteToIGW",
                        "The public subnet's default route to the internet gateway is what its NAT gateway needs to "
                        "give the private subnets egress; nothing else launches there (no public IPs on launch).",
                    )
        else:
            self.vpc = vpc
            if interface_endpoints:
                endpoint_peer_cidr = _known_cidr(vpc)
            self.subnet_selection = vpc_subnets or ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)

        if flow_logs if flow_logs is not None else vpc is None:
            group = _logs.new_log_group(self, "FlowLogs", retention=log_retention, encryption_key=encryption_key)
            role = ManagedPolicyRole(
                self,
                "FlowLogsRole",
                assumed_by=service_principal(
                    "vpc-flow-logs.amazonaws.com",
                    source_arn=stack_of(self).format_arn(
                        service="ec2",
                        resource="vpc-flow-log",
                        resource_name="*",
                        arn_format=ArnFormat.SLASH_RESOURCE_NAME,
                    ),
                ),
            )
            ec2.FlowLog(
                self,
                "FlowLog",
                resource_type=ec2.FlowLogResourceType.from_vpc(self.vpc),
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(group, role),
                traffic_type=ec2.FlowLogTrafficType.ALL,
            )
            self.flow_log_group = group

        # Endpoints are children of this construct (not of the VPC), so a VPC from another stack stays untouched there.
        if gateway_endpoints if gateway_endpoints is not None else vpc is None:
            ec2.GatewayVpcEndpoint(self, "S3Endpoint", vpc=self.vpc, service=ec2.GatewayVpcEndpointAwsService.S3)
            ec2.GatewayVpcEndpoint(
                self, "DynamoDbEndpoint", vpc=self.vpc, service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
            )
        for service in interface_endpoints:
            name = "".join(part.capitalize() for part in service.short_name.replace("-", ".").split("."))
            # HTTPS from the VPC's CIDR, as aws-cdk's default (open=True) allows, but written as the literal CIDR
            # where it is known: the default writes Fn::GetAtt Vpc.CidrBlock, on which every cdk-nag pack's
            # security-group rules throw ("Rule threw an error") instead of judging the rule.
            endpoint = ec2.InterfaceVpcEndpoint(
                self,
                f"{name}Endpoint",
                vpc=self.vpc,
                service=service,
                subnets=self.subnet_selection,
                open=endpoint_peer_cidr is None,
            )
            if endpoint_peer_cidr is not None:
                endpoint.connections.allow_default_port_from(
                    ec2.Peer.ipv4(endpoint_peer_cidr), "HTTPS from the VPC to the endpoint"
                )

        self.security_group = ec2.SecurityGroup(
            self,
            "JobsSecurityGroup",
            vpc=self.vpc,
            description="Batch jobs: no inbound traffic, outbound to anywhere (images, AWS APIs, data)",
            allow_all_outbound=True,
        )


#: The stack-level provider of the custom resource that strips the VPC's default security group's rules (feature flag
#: ``@aws-cdk/aws-ec2:restrictDefaultSecurityGroup``).
_RESTRICT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


def _known_cidr(vpc: ec2.IVpc) -> str | None:
    """The VPC's CIDR if it is a literal at synth time (a lookup, attributes with ``vpc_cidr_block``), else None."""
    try:
        cidr = vpc.vpc_cidr_block
    except RuntimeError:  # Vpc.from_vpc_attributes without vpc_cidr_block: jsii raises on access
        return None
    return None if Token.is_unresolved(cidr) else cidr


def _restrict_sg_provider(scope: Construct) -> IConstruct | None:
    """The stack's provider of the default-SG custom resource the first time a network of the library asks (its
    redundant dependency then dropped), None when there is none or when it was already handled in this stack."""
    stack = stack_of(scope)
    if getattr(stack, _PROVIDER_HANDLED, False):
        return None
    provider = stack.node.try_find_child(_RESTRICT_SG_PROVIDER)
    if provider is not None:
        setattr(stack, _PROVIDER_HANDLED, True)
        _drop_redundant_provider_dependency(provider)
    return provider


#: Set on the stack's Python object once its default-SG provider is acknowledged (a JavaScript-created construct's
#: Python object is new on each read, so the mark cannot live on the provider).
_PROVIDER_HANDLED = "_batch_constructs_restrict_sg_provider_handled"


def _acknowledge_restrict_default_sg(vpc: ec2.IVpc, provider: IConstruct | None) -> None:
    """Acknowledge, on the resources themselves, what a template-only audit reports on aws-cdk's default-SG fix.

    In-process cdk-nag does not classify the provider (aws-cdk writes it as a raw ``CfnResource``) and sees that the
    VPC's default security group is restricted; a re-read of the template (``cloudformation_include``, AWS Config
    after deploy) sees a plain Lambda function and role, and a VPC whose default group looks open. The reasons travel
    in each resource's ``Metadata`` (see :func:`batch_constructs.compliance.add_compliance_packs`). ``provider``: from
    :func:`_restrict_sg_provider` (None when this stack has none, or when an earlier network acknowledged it).
    """
    if provider is None and not getattr(stack_of(vpc), _PROVIDER_HANDLED, False):
        return  # the feature flag is off: the default group is open, and the finding is real
    cfn_vpc = vpc.node.default_child
    if isinstance(cfn_vpc, CfnResource):
        acknowledge_in_packs(
            cfn_vpc,
            "VPCDefaultSecurityGroupClosed",
            "The default security group is stripped of all its rules at deploy by the Custom::VpcRestrictDefaultSG "
            "resource in this template (aws-cdk's @aws-cdk/aws-ec2:restrictDefaultSecurityGroup); nothing uses it.",
        )
    if provider is None:
        return
    what = (
        "aws-cdk's own deploy-time provider for @aws-cdk/aws-ec2:restrictDefaultSecurityGroup: CloudFormation calls "
        "it synchronously on create, update and delete of the VPC, to revoke the default security group's rules."
    )
    acknowledge_all(
        provider,
        [
            (
                managed_policy_finding("service-role/AWSLambdaBasicExecutionRole"),
                f"{what} The managed policy grants only writing its own logs.",
            ),
            *in_packs(
                "IAMNoInlinePolicy",
                f"{what} Its inline policy allows only revoking ingress and egress rules of this VPC's default "
                "security group.",
            ),
            *in_packs(
                "LambdaInsideVPC",
                f"{what} It calls only the EC2 API, once per deployment; in the VPC it would need a NAT or an EC2 "
                "endpoint that the VPC it configures may not have yet.",
            ),
            *in_packs(
                "LambdaDLQ",
                f"{what} A failure fails the deployment and is reported in its events; there is no asynchronous event "
                "to keep.",
                packs=(*CONTROL_PACKS[:2], "Serverless"),
            ),
            *in_packs(
                "LambdaConcurrency",
                f"{what} It runs once per deployment of this stack, so its concurrency is bounded by deployments.",
                packs=CONTROL_PACKS[:2],
            ),
            (
                "Serverless::Serverless-LambdaTracing",
                f"{what} A one-call deploy-time function; CloudFormation's stack events and its log group record each "
                "run.",
            ),
        ],
    )


def _drop_redundant_provider_dependency(provider: IConstruct) -> None:
    """Remove the provider handler's ``DependsOn`` on its role: its ``Fn::GetAtt`` of the role already orders them.

    aws-cdk-lib adds both, and cfn-lint reports the duplicate (W3005) on every template with a new VPC.
    """
    handler = provider.node.try_find_child("Handler")
    role = provider.node.try_find_child("Role")
    if isinstance(handler, CfnResource) and isinstance(role, CfnResource):
        handler.remove_resource_dependency(role)
