"""Shared test helpers: apps built with the same feature flags as ``cdk.json``."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import pathlib
import subprocess
import sys
from typing import Any

import aws_cdk as cdk
from aws_cdk import cx_api
from aws_cdk.assertions import Template

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
    (``builtin_cloud_formation_validation``; ``cdk synth`` runs it). On only for the example apps (conftest, whose
    assemblies are cached between runs), so that what ``cdk synth`` writes is checked exactly as a user gets it.
    Off everywhere else, including the unit tests' nag-and-cfn-lint stacks (:func:`tests.unit_stacks.nag_stack`):
    cfn-lint checks those templates against CloudFormation's schemas, and the engine's rules in aws-cdk-lib 2.275 are
    such schema checks plus one GameLift Rego rule (``core/lib/validation/rules/gamelift-fleet.rego``), so turning
    it on there adds no check, only its start-up. Its WebAssembly engine costs about 3 s of CPU to start in each
    process (measured: a worker's first synthesis with it 3.25 s, the next 0.02 s) and about 0.6 s per synthesis;
    with it off in the unit tests, a warm run whose example apps come from the cache never starts it.
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
