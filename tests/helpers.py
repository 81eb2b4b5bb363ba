"""Shared test helpers: apps built with the same feature flags as ``cdk.json``."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from typing import Any, Self

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import cx_api
from aws_cdk.assertions import Template
from constructs import Construct

from batch_constructs import BatchQueue, FargateEnvironment
from batch_constructs._internal.iam import ManagedPolicyRole
from batch_constructs.compliance import add_compliance_packs

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]

#: The plugin names of the five cdk-nag packs in ``validation-report.json`` (and their acknowledgement id prefixes).
NAG_PACKS = ("AwsSolutions", "NIST.800.53.R5", "HIPAA.Security", "PCI.DSS.321", "Serverless")
#: The venv's cfn-lint (``python -m cfnlint`` has no ``__main__`` in cfn-lint 1.58).
CFN_LINT = pathlib.Path(sys.executable).parent / "cfn-lint"


def new_app(*, validate: bool = False, **kwargs: Any) -> cdk.App:
    """A CDK app with the project's feature flags (so tests see what ``cdk synth`` writes).

    ``validate``: run aws-cdk-lib's built-in CloudFormation validation at synthesis
    (``builtin_cloud_formation_validation``; ``cdk synth`` runs it). Off by default in unit tests, which assert on
    templates: its WebAssembly rule engine costs about 3 s to start in each process (measured: a worker's first
    synthesis with it 3.25 s, the next 0.02 s) and about 0.6 s per synthesis. On only for the example apps (conftest,
    whose assemblies are cached between runs): what ``cdk synth`` writes is checked exactly as a user gets it. Off
    for the unit tests' nag-and-cfn-lint stacks (:func:`nag_stack`): cfn-lint checks those templates against
    CloudFormation's schemas, which is what the built-in validation checks, so switching the engine on there adds
    no check, only its start-up in every worker (a warm run whose example apps come from the cache never starts it).
    """
    return cdk.App(context=dict(CONTEXT), builtin_cloud_formation_validation=validate, **kwargs)


def new_stack(name: str = "Test") -> cdk.Stack:
    """A stack in a fresh app: environment-agnostic, like the example stacks."""
    return cdk.Stack(new_app(), name)


def template(stack: cdk.Stack) -> Template:
    return Template.from_stack(stack)


def resources(stack_or_template: cdk.Stack | dict[str, Any], resource_type: str) -> dict[str, Any]:
    """Logical id -> resource of one type, from a stack or a template dict."""
    tpl = stack_or_template if isinstance(stack_or_template, dict) else template(stack_or_template).to_json()
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == resource_type}


def synth_with_packs(app: cdk.App) -> tuple[cx_api.CloudAssembly, pathlib.Path]:
    """Register the five cdk-nag packs on ``app`` and synthesize it: ``(assembly, outdir)``.

    Raises on any unacknowledged finding, as ``make synth`` does; the findings and acknowledgements are in ``outdir``
    (``validation-report.json``, ``<Stack>.metadata.json``).
    """
    add_compliance_packs(app)
    assembly = app.synth()
    return assembly, pathlib.Path(assembly.directory)


def nag_violations(outdir: pathlib.Path) -> list[str]:
    """The rule names of every finding the five packs reported in ``outdir`` (none: no report, or an empty one)."""
    report = outdir / "validation-report.json"
    violations: list[str] = []
    if report.exists():
        for plugin in json.loads(report.read_text())["pluginReports"]:
            if plugin["pluginName"] in NAG_PACKS:
                violations += [v["ruleName"] for v in plugin["violations"]]
    return violations


#: Where cfn-lint's findings are kept between runs, one file per template content (see :func:`cfn_lint`).
CFN_LINT_CACHE = ROOT / ".pytest_cache" / "cfn-lint"


def cfn_lint_key(template: bytes) -> str:
    """The cache key of one template's findings: its bytes, cfn-lint's version and the project's cfn-lint settings.

    cfn-lint's result is a function of these alone (the rules and the resource specification ship with the
    version), so a cached result is the result a fresh run would give.
    """
    digest = hashlib.sha256(importlib.metadata.version("cfn-lint").encode())
    for config in (ROOT / ".cfnlintrc", ROOT / ".cfnlintrc.yaml"):
        digest.update(config.read_bytes() if config.exists() else b"-")
    digest.update(template)
    return digest.hexdigest()


def cfn_lint(*template_files: pathlib.Path) -> list[str]:
    """cfn-lint's findings (errors and warnings) for the template files, as ``"<file name>: <rule> <message>"``.

    Templates whose exact content was linted before (in any earlier run) are answered from :data:`CFN_LINT_CACHE`;
    the others are linted in one cfn-lint run. A cfn-lint crash (no JSON report) fails the calling test.
    """
    keys = {path: cfn_lint_key(path.read_bytes()) for path in template_files}
    cached = {path: CFN_LINT_CACHE / f"{key}.json" for path, key in keys.items()}
    todo = [path for path in template_files if not cached[path].exists()]
    if todo:
        run = subprocess.run(
            [str(CFN_LINT), "--format", "json", "--", *map(str, todo)], capture_output=True, text=True, check=False
        )
        assert run.stdout.strip().startswith("["), f"cfn-lint failed (exit {run.returncode}): {run.stderr[-2000:]}"
        found: dict[str, list[str]] = {str(path): [] for path in todo}
        for finding in json.loads(run.stdout):
            found[finding["Filename"]].append(f"{finding['Rule']['Id']} {finding['Message']}")
        # no finding reported must mean a clean exit (a non-zero exit without findings is a failed run)
        assert run.returncode == 0 or any(found.values()), f"cfn-lint exit {run.returncode}: {run.stderr[-2000:]}"
        CFN_LINT_CACHE.mkdir(parents=True, exist_ok=True)
        for path in todo:
            partial = cached[path].with_suffix(f".{os.getpid()}.tmp")
            partial.write_text(json.dumps(found[str(path)]))
            partial.replace(cached[path])  # atomic: parallel workers never read half a file
    return [f"{path.name}: {line}" for path in template_files for line in json.loads(cached[path].read_text())]


def one(tpl: dict[str, Any], resource_type: str) -> tuple[str, dict[str, Any]]:
    """The (logical id, resource) of the only resource of ``resource_type`` in a template; fails if not exactly one."""
    found = resources(tpl, resource_type)
    assert len(found) == 1, sorted(found)
    return next(iter(found.items()))


# ------------------------------------------------------------------------------------------------------------------
# One stack per test module, synthesized once with the five cdk-nag packs and cfn-linted (the trigger tests and
# others): the shared set-up, so that each module states only its own constructs and assertions.

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
