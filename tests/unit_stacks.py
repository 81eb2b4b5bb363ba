"""The unit tests' shared set-up: one stack per test module synthesized once with the five cdk-nag packs and
cfn-linted (:class:`Synthesized`, :func:`nag_stack`), a scratch stack for error cases (:class:`Scratch`), the imported
test VPC and small template readers. Each test module states only its own constructs and assertions.

Kept apart from ``tests/helpers.py`` on purpose: that file is an input of the example apps' synthesis cache
(``tests/conftest.py``), so a change here does not re-synthesize every example app.
"""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from itertools import count
from typing import Any, Self

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from batch_constructs import BatchQueue, FargateEnvironment
from batch_constructs._internal.iam import ManagedPolicyRole

from .helpers import cfn_lint, nag_violations, new_app, synth_with_packs


def synthesized_cases(cases: Mapping[str, Callable[[cdk.Stack], object]]) -> dict[str, cdk.Stack]:
    """Each valid case built in a stack of its own (named after it), all in one app synthesized once: what a test reads
    is that case alone, and a case whose synthesis fails (a deferred check) fails the fixture."""
    app = new_app()
    stacks = {name: cdk.Stack(app, name) for name in cases}
    for name, build in cases.items():
        build(stacks[name])
    app.synth()
    return stacks


#: The attributes of the VPC every unit test imports (two AZs, two private subnets): no lookups, no VPC resources.
IMPORTED_VPC: dict[str, Any] = {
    "vpc_id": "vpc-0123456789abcdef0",
    "availability_zones": ["us-east-1a", "us-east-1b"],
    "private_subnet_ids": ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    "private_subnet_route_table_ids": ["rtb-0123456789abcdef0", "rtb-0123456789abcdef1"],
}


def imported_vpc(scope: Construct, construct_id: str = "Vpc") -> ec2.IVpc:
    """The test VPC (:data:`IMPORTED_VPC`) imported into ``scope``."""
    return ec2.Vpc.from_vpc_attributes(scope, construct_id, **IMPORTED_VPC)


def fargate_queue(stack: cdk.Stack, vpc: ec2.IVpc, construct_id: str = "Queue") -> BatchQueue:
    """A queue on one Fargate environment (``<construct_id>Fargate``)."""
    return BatchQueue(stack, construct_id, environments=[FargateEnvironment(stack, f"{construct_id}Fargate", vpc=vpc)])


def logical_id(construct: Any) -> str:
    """The logical id of a construct's main resource (its default child) or of a CfnElement, in its own stack."""
    child = construct if isinstance(construct, cdk.CfnElement) else construct.node.default_child
    stack = cdk.Stack.of(child)
    return str(stack.resolve(stack.get_logical_id(child)))


def actions(statement: dict[str, Any]) -> list[str]:
    """A policy statement's actions as a list (CloudFormation writes a lone action as a string)."""
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def statement_resources(statement: dict[str, Any]) -> list[Any]:
    """A policy statement's resources as a list."""
    resource = statement["Resource"]
    return resource if isinstance(resource, list) else [resource]


def placeholder(part: dict[str, Any]) -> str:
    """A token in a joined string shown as ``<Ref:X>`` / ``<GetAtt:X.Y>`` (anything else as its JSON)."""
    if "Ref" in part:
        return f"<Ref:{part['Ref']}>"
    if "Fn::GetAtt" in part:
        return "<GetAtt:" + ".".join(part["Fn::GetAtt"]) + ">"
    return "<" + json.dumps(part).replace('"', "'") + ">"


def definition_of(state_machine: dict[str, Any]) -> dict[str, Any]:
    """A ``AWS::StepFunctions::StateMachine`` resource's definition, tokens shown by :func:`placeholder`."""
    body = state_machine["Properties"]["DefinitionString"]
    parts = body["Fn::Join"][1] if isinstance(body, dict) else [body]
    return json.loads("".join(p if isinstance(p, str) else placeholder(p) for p in parts))  # type: ignore[no-any-return]


def nag_stack(tmp_path_factory: pytest.TempPathFactory, name: str) -> cdk.Stack:
    """An empty stack ``name`` in a new app writing to its own temporary outdir, for :meth:`Synthesized.synthesize`.

    The app runs without aws-cdk-lib's built-in validation (see :func:`new_app`): the test module cfn-lints the
    template instead.
    """
    return cdk.Stack(new_app(outdir=str(tmp_path_factory.mktemp(f"cdk.out.{name}"))), name)


@dataclass
class Synthesized:
    """One stack synthesized once with the five cdk-nag packs: the stack, its template and the assembly directory.

    A test module subclasses it with the constructs its tests look at (``@dataclass class Built(Synthesized)``) and
    builds it with :meth:`synthesize` in a module-scoped fixture.
    """

    stack: cdk.Stack
    template: dict[str, Any]
    outdir: pathlib.Path

    @classmethod
    def synthesize(cls, stack: cdk.Stack, **constructs: Any) -> Self:
        """Register the packs on the stack's app and synthesize it (raises on any unacknowledged finding)."""
        app = stack.node.root
        assert isinstance(app, cdk.App)
        assembly, outdir = synth_with_packs(app)
        return cls(
            stack=stack, template=assembly.get_stack_by_name(stack.stack_name).template, outdir=outdir, **constructs
        )

    @property
    def template_file(self) -> pathlib.Path:
        """The template as written to disk (what cfn-lint reads)."""
        return self.outdir / f"{self.stack.artifact_id}.template.json"

    def nag_violations(self) -> list[str]:
        return nag_violations(self.outdir)

    def cfn_lint(self) -> list[str]:
        return cfn_lint(self.template_file)

    def logical_id(self, construct: Any) -> str:
        return logical_id(construct)

    def resource(self, construct: Any) -> dict[str, Any]:
        return self.template["Resources"][logical_id(construct)]  # type: ignore[no-any-return]

    def definition(self, machine: Any) -> dict[str, Any]:
        """The definition of a construct's state machine (``machine.state_machine``)."""
        return definition_of(self.resource(machine.state_machine))

    def statements(self, role: Any) -> list[dict[str, Any]]:
        """The statements of a :class:`ManagedPolicyRole`'s managed policy."""
        assert isinstance(role, ManagedPolicyRole) and role.managed_policy is not None
        return self.resource(role.managed_policy)["Properties"]["PolicyDocument"]["Statement"]  # type: ignore[no-any-return]


class Scratch:
    """A stack that is never synthesized, for error cases: a construct that raises half-built stays in it and
    cannot break a stack some test synthesizes. :meth:`id` gives each case a fresh construct id, so cases stay
    independent of their order."""

    def __init__(self, name: str = "Scratch") -> None:
        self.stack = cdk.Stack(new_app(), name)
        self.vpc = imported_vpc(self.stack)
        self._ids: Iterator[int] = count()

    def id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"
