"""Roles whose grants land in a customer-managed policy instead of an inline one.

The NIST 800-53, HIPAA and PCI DSS packs reject inline policies (``AWS::IAM::Policy``), which is where every CDK
``grant_*`` call puts its statements by default. :class:`ManagedPolicyRole` keeps the grant API and collects the same
statements in one ``AWS::IAM::ManagedPolicy`` attached to the role, created on the first grant.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import aws_iam as iam
from constructs import Construct

from .memo import account_id, adopt_stack, region


def service_principal(service: str, *, source_arn: str | None = None) -> iam.ServicePrincipal:
    """``service`` (e.g. ``ecs-tasks.amazonaws.com``) acting for this account only: confused-deputy protection.

    The trust carries ``aws:SourceAccount`` = this account, and ``aws:SourceArn`` (``ArnLike``) when the service
    documents the ARN it sends. AWS documents these keys in the trust policies of: ECS task and task execution roles
    (Amazon ECS developer guide, "Task IAM role" / "Task execution IAM role"), the AWS Batch service role (AWS Batch
    user guide, "Cross-service confused deputy prevention"), the flow-logs role (Amazon VPC user guide, "IAM role for
    publishing flow logs to CloudWatch Logs", SourceArn ``arn:...:ec2:REGION:ACCOUNT:vpc-flow-log/*``),
    EventBridge target roles (EventBridge user guide, "Cross-service confused deputy prevention") and EventBridge
    Scheduler execution roles (EventBridge Scheduler user guide, "Confused deputy prevention", SourceArn the schedule
    group's ARN). Lambda documents neither key for an execution role's trust (AWS Lambda developer guide, "Defining
    Lambda function permissions with an execution role"), so the submitter's role trusts ``lambda.amazonaws.com``
    without one: only a principal of this account allowed ``iam:PassRole`` on it can attach it to a function.
    """
    conditions: dict[str, object] = {"StringEquals": {"aws:SourceAccount": account_id()}}
    if source_arn is not None:
        conditions["ArnLike"] = {"aws:SourceArn": source_arn}
    return iam.ServicePrincipal(service, conditions=conditions)


def via_service(service: str) -> dict[str, dict[str, str]]:
    """The condition limiting a KMS grant to calls ``service`` (e.g. ``s3``) makes for the grantee in this region.

    ``kms:ViaService`` (AWS KMS developer guide, "kms:ViaService"): the role may then use the key only through that
    service (S3 encrypting an object, SQS a message), not call KMS directly with it.
    """
    return {"StringEquals": {"kms:ViaService": f"{service}.{region()}.amazonaws.com"}}


def grant_key_via(grantee: iam.IGrantable, key_arn: str, service: str, *actions: str) -> iam.Grant:
    """Grant exactly ``actions`` on the key ``key_arn`` to ``grantee``, usable only through ``service``."""
    return iam.Grant.add_to_principal(
        grantee=grantee, actions=list(actions), resource_arns=[key_arn], conditions=via_service(service)
    )


_ACTIONS = "_batch_constructs_actions"
_RESOURCES = "_batch_constructs_resources"


def known_statement(
    *, actions: list[str], resources: list[str], conditions: Mapping[str, object] | None = None
) -> iam.PolicyStatement:
    """``iam.PolicyStatement(actions=..., resources=..., conditions=...)`` that remembers its actions and resources, so
    that a role's filter (:func:`actions_of`, :func:`resources_of`) reads neither back through jsii."""
    created = iam.PolicyStatement(actions=actions, resources=resources, conditions=conditions)
    setattr(created, _ACTIONS, list(actions))
    setattr(created, _RESOURCES, list(resources))
    return created


def actions_of(policy_statement: iam.PolicyStatement) -> list[str]:
    """``policy_statement.actions``: as created by :func:`known_statement`, else read (one jsii round trip)."""
    known: list[str] | None = getattr(policy_statement, _ACTIONS, None)
    return list(known) if known is not None else list(policy_statement.actions)


def resources_of(policy_statement: iam.PolicyStatement) -> list[str]:
    """``policy_statement.resources``: as created by :func:`known_statement`, else read (one jsii round trip)."""
    known: list[str] | None = getattr(policy_statement, _RESOURCES, None)
    return list(known) if known is not None else list(policy_statement.resources)


def add_key_statement(grantee: iam.IGrantable, key_arn: str, service: str, *actions: str) -> None:
    """What :func:`grant_key_via` adds, for a caller that needs no ``Grant``: a :class:`ManagedPolicyRole` gets the
    same statement through its Python ``add_to_principal_policy`` (any subclass filter applies), without the jsii
    callback ``iam.Grant.add_to_principal`` makes into it."""
    if isinstance(grantee, ManagedPolicyRole):
        grantee.add_to_principal_policy(
            known_statement(actions=list(actions), resources=[key_arn], conditions=via_service(service))
        )
    else:
        grant_key_via(grantee, key_arn, service, *actions)


class ManagedPolicyRole(iam.Role):
    """An ``iam.Role`` whose ``add_to_principal_policy`` (and so every ``grant_*``) writes to a managed policy.

    The managed policy is the child ``Policy``; it exists only once something is granted.
    """

    def __init__(self, scope: Construct, construct_id: str, **kwargs: object) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        self._managed_policy: iam.ManagedPolicy | None = None
        adopt_stack(self, scope, construct_id)

    @property
    def managed_policy(self) -> iam.ManagedPolicy | None:
        """The customer-managed policy holding this role's grants, or None while nothing is granted."""
        return self._managed_policy

    def add_to_principal_policy(self, statement: iam.PolicyStatement) -> iam.AddToPrincipalPolicyResult:
        policy = self._add_statements([statement])
        return iam.AddToPrincipalPolicyResult(statement_added=True, policy_dependable=policy)

    def add_statements(self, *statements: iam.PolicyStatement) -> iam.ManagedPolicy:
        """Add ``statements`` as they are (no subclass filter of ``add_to_principal_policy`` applies) to the managed
        policy, in one jsii call; the document is the same as after one ``add_to_principal_policy`` per statement."""
        return self._add_statements(list(statements))

    def _add_statements(self, statements: list[iam.PolicyStatement]) -> iam.ManagedPolicy:
        """Add ``statements`` in order to the managed policy in one jsii call, creating (and attaching) the policy with
        them on the first grant (``ManagedPolicy(statements=...)`` adds them as ``add_statements`` would)."""
        if self._managed_policy is None:
            self._managed_policy = iam.ManagedPolicy(self, "Policy", roles=[self], statements=statements)
            adopt_stack(self._managed_policy, self, "Policy")
        else:
            self._managed_policy.add_statements(*statements)
        return self._managed_policy

    def add_to_policy(self, statement: iam.PolicyStatement) -> bool:
        return self.add_to_principal_policy(statement).statement_added
