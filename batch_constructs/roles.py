"""The IAM roles AWS Batch needs, least privilege by default.

* Service role: by default none is created: Batch uses its service-linked role ``AWSServiceRoleForBatch``, which is
  what lets CloudFormation update compute environments in place. :class:`CustomServiceRole` exists for accounts that
  require one, at the cost of blue/green replacement on infrastructure changes.
* :class:`ExecutionRole`: what ECS needs to start the container (image pull, its own log group, the secrets the job
  references). Starts empty; the job definition grants exactly those.
* :class:`JobRole`: what the job's code may touch. Starts empty; grant with ``bucket.grant_read(job.job_role)`` etc.
* :class:`InstanceRole`: EC2 container instances (the ECS agent), for EC2 compute environments.
* :class:`SpotFleetRole`: only for Spot with BEST_FIT, the one strategy that still uses a Spot Fleet.

Confused-deputy protection in the trust policies, where AWS documents the condition keys:

* Job and execution roles: ``ecs-tasks.amazonaws.com`` of this account only (``aws:SourceAccount``; Amazon ECS
  developer guide, "Amazon ECS task IAM role"). No ``aws:SourceArn``: the tasks are started by AWS Batch in its own
  ECS cluster, and whether every task ARN Batch creates (EC2 and Fargate, array children, multi-node) is what ECS puts
  in ``aws:SourceArn`` is not verifiable without a deployment; a wrong value would stop every job from starting, while
  ``aws:SourceAccount`` already rejects other accounts.
* :class:`CustomServiceRole`: ``batch.amazonaws.com`` of this account (``aws:SourceAccount``) acting for a Batch
  resource of this account and region (``aws:SourceArn`` ``arn:PARTITION:batch:REGION:ACCOUNT:*``; AWS Batch user
  guide, "Cross-service confused deputy prevention": the ARN of the resource Batch stores, with wildcards for the
  unknown parts).
* :class:`InstanceRole` (``ec2.amazonaws.com``) and :class:`SpotFleetRole` (``spotfleet.amazonaws.com``): no
  condition. Neither service documents source keys for these trusts (EC2 passes an instance profile, whose use is
  governed by ``iam:PassRole`` in this account).

Every role of this module, including the three that carry an AWS managed policy, puts what is added to it later
(``add_to_policy``, ``grant_*``) in a customer-managed policy rather than an inline one (the NIST, HIPAA and PCI DSS
packs reject inline policies).
"""

from __future__ import annotations

from aws_cdk import ArnFormat, Stack
from aws_cdk import aws_iam as iam
from constructs import Construct

from ._internal.compliance import acknowledge, managed_policy_finding
from ._internal.iam import ManagedPolicyRole, actions_of, resources_of, service_principal

__all__ = ["CustomServiceRole", "ExecutionRole", "InstanceRole", "JobRole", "SpotFleetRole"]

_ECS_TASKS = "ecs-tasks.amazonaws.com"


class JobRole(ManagedPolicyRole):
    """The role the job's own code runs as (``jobRoleArn``). Nothing is allowed until granted.

    Grants land in the managed policy child ``Policy``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, description: str | None = None) -> None:
        """Args:
        description: the role's IAM description. Default: "Batch job role: what the job's code may access".
        """
        super().__init__(
            scope,
            construct_id,
            assumed_by=service_principal(_ECS_TASKS),
            description=description or "Batch job role: what the job's code may access",
        )


class ExecutionRole(ManagedPolicyRole):
    """The role ECS uses to start a job's container (``executionRoleArn``).

    Created without the broad ``AmazonECSTaskExecutionRolePolicy``: the job definition grants pulls from its own image
    repository, writes to its own log group and reads of exactly the secrets it references.
    """

    #: The one action of an image pull that has no resource-level permission (IAM service authorization reference).
    ECR_TOKEN_ACTION = "ecr:GetAuthorizationToken"

    def __init__(self, scope: Construct, construct_id: str, *, description: str | None = None) -> None:
        """Args:
        description: the role's IAM description. Default: "Batch execution role: image pull, own log group, own
            secrets".
        """
        super().__init__(
            scope,
            construct_id,
            assumed_by=service_principal(_ECS_TASKS),
            description=description or "Batch execution role: image pull, own log group, own secrets",
        )
        self._token_acknowledged = False

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        result = super().add_to_principal_policy(statement)
        if (
            not self._token_acknowledged
            and self.ECR_TOKEN_ACTION in actions_of(statement)
            and resources_of(statement) == ["*"]
        ):
            self._token_acknowledged = True
            acknowledge(
                self.managed_policy or self,
                "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                "Pulling a private image needs ecr:GetAuthorizationToken, which has no resource-level permission; "
                "every other statement of this execution role names its repository, log group or secret.",
            )
        return result


class InstanceRole(ManagedPolicyRole):
    """The role of EC2 container instances in a managed EC2 compute environment.

    Carries the AWS managed ``AmazonEC2ContainerServiceforEC2Role`` (what AWS Batch documents for the ECS agent; AWS
    keeps it in step with agent releases). The compute environment creates the instance profile from it. Extending it
    (``add_to_policy``, a ``grant_*``, e.g. for an instance agent or a launch-template script) writes to the managed
    policy child ``Policy``, as for every role of this module, never to an inline policy.
    """

    POLICY = "service-role/AmazonEC2ContainerServiceforEC2Role"

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="Batch EC2 container instances: the ECS agent registers and reports",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(self.POLICY)],
        )
        acknowledge(
            self,
            managed_policy_finding(self.POLICY),
            "AWS Batch documents this AWS managed policy for the ECS container agent on its instances; AWS updates it "
            "with each agent release, which a hand-copied policy would not follow.",
        )


class SpotFleetRole(ManagedPolicyRole):
    """The Spot Fleet role needed by Spot compute environments using the BEST_FIT strategy.

    Carries ``AmazonEC2SpotFleetTaggingRole`` (the L2's auto-created role has no policy at all, so instances never
    launch). SPOT_CAPACITY_OPTIMIZED and SPOT_PRICE_CAPACITY_OPTIMIZED do not use a Spot Fleet and need no such role.
    """

    POLICY = "service-role/AmazonEC2SpotFleetTaggingRole"

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=iam.ServicePrincipal("spotfleet.amazonaws.com"),
            description="Batch Spot Fleet: request and tag Spot instances",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(self.POLICY)],
        )
        acknowledge(
            self,
            managed_policy_finding(self.POLICY),
            "AWS documents this AWS managed policy as the Spot Fleet role for AWS Batch; its scope is what Spot Fleet "
            "needs to launch and tag instances.",
        )


class CustomServiceRole(ManagedPolicyRole):
    """A custom Batch service role, for accounts whose policy forbids the service-linked role.

    Prefer the default (no ``service_role``): with a custom role, CloudFormation cannot update a compute environment's
    infrastructure in place and replaces it instead (blue/green), which drains running jobs.
    """

    POLICY = "service-role/AWSBatchServiceRole"

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(
            scope,
            construct_id,
            assumed_by=service_principal(
                "batch.amazonaws.com",
                source_arn=Stack.of(scope).format_arn(
                    service="batch", resource="*", arn_format=ArnFormat.NO_RESOURCE_NAME
                ),
            ),
            description="AWS Batch service role (custom, instead of the service-linked role)",
            managed_policies=[iam.ManagedPolicy.from_aws_managed_policy_name(self.POLICY)],
        )
        acknowledge(
            self,
            managed_policy_finding(self.POLICY),
            "The AWS managed AWSBatchServiceRole is the policy AWS Batch documents for a custom service role.",
        )
