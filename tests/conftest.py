"""Session fixtures. Each example app is synthesized at most once per test run (across pytest-xdist workers too), with
the five cdk-nag packs registered (so a finding fails the synthesis, as in ``make synth``), and shared by every test
that needs it."""

from __future__ import annotations

import fcntl
import pathlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import cx_api

from . import aws_mock  # noqa: F401  (moto before any boto3 session; see its docstring)
from .helpers import new_app


@dataclass(frozen=True)
class SynthesizedApp:
    """One example app module, synthesized."""

    module: str
    outdir: pathlib.Path
    templates: dict[str, dict[str, Any]]  # stack name -> template

    def template(self, stack_name: str) -> dict[str, Any]:
        return self.templates[stack_name]


@pytest.fixture(scope="session")
def synth_app(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Callable[[str], SynthesizedApp]:
    """``synth_app("movies_importer")``: that app's stacks, synthesized once per test run.

    Under pytest-xdist the workers share one output folder per app: the first worker to need an app synthesizes it
    (holding a file lock), the others read its cloud assembly from disk instead of synthesizing it again.
    """
    root = tmp_path_factory.getbasetemp()
    shared = (root.parent if worker_id != "master" else root) / "synthesized-apps"
    shared.mkdir(exist_ok=True)
    cache: dict[str, SynthesizedApp] = {}

    def get(module: str) -> SynthesizedApp:
        if module not in cache:
            outdir = shared / f"cdk.out.{module}"
            with (shared / f"{module}.lock").open("w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not (outdir / "synthesized.ok").exists():
                    _synthesize(module, outdir)
            assembly = cx_api.CloudAssembly(str(outdir))
            cache[module] = SynthesizedApp(module, outdir, {s.stack_name: s.template for s in assembly.stacks})
        return cache[module]

    return get


def _synthesize(module: str, outdir: pathlib.Path) -> None:
    """Synthesize one example app with the five cdk-nag packs; fail on any finding, warnings included."""
    from apps import add_app
    from batch_constructs.compliance import add_compliance_packs, unacknowledged_findings

    shutil.rmtree(outdir, ignore_errors=True)
    app = new_app(outdir=str(outdir))
    add_app(app, module)
    add_compliance_packs(app)
    assembly = app.synth()
    findings = unacknowledged_findings(assembly.directory)
    assert findings == [], f"cdk-nag findings in {module} (warnings included): {findings}"
    (outdir / "synthesized.ok").touch()


#: The environment the pinned variant of every example app is synthesized in.
PINNED_ENV = cdk.Environment(account="123456789012", region="eu-west-1")
#: What an AZ lookup returns in that environment: given as context, so the VPC gets real AZ names without a network
#: call (and not dummy1a/dummy1b, which a missing lookup writes).
PINNED_AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


@pytest.fixture(scope="session")
def pinned_app(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], SynthesizedApp]:
    """``pinned_app("movies_importer")``: that app's stacks pinned to :data:`PINNED_ENV`, synthesized once per session.

    The stacks are added under a ``cdk.Stage`` that carries the environment (so the apps need no env parameter): CDK
    then writes literal account, region and partition where an agnostic stack has pseudo-parameters, as a platform
    team's pinned stacks do. Zero findings, warnings included, is asserted as for :func:`synth_app`.
    """
    from apps import add_app
    from batch_constructs.compliance import add_compliance_packs, unacknowledged_findings

    cache: dict[str, SynthesizedApp] = {}

    def get(module: str) -> SynthesizedApp:
        if module not in cache:
            outdir = tmp_path_factory.mktemp(f"cdk.out.pinned.{module}")
            app = new_app(outdir=str(outdir))
            app.node.set_context(
                f"availability-zones:account={PINNED_ENV.account}:region={PINNED_ENV.region}", PINNED_AZS
            )
            stage = cdk.Stage(app, "Pinned", env=PINNED_ENV)
            add_app(stage, module)
            add_compliance_packs(app)
            assembly = app.synth()
            findings = unacknowledged_findings(assembly.directory)
            assert findings == [], f"cdk-nag findings in pinned {module} (warnings included): {findings}"
            stage_assembly = assembly.get_nested_assembly(stage.artifact_id)
            cache[module] = SynthesizedApp(module, outdir, {s.stack_name: s.template for s in stage_assembly.stacks})
        return cache[module]

    return get


@pytest.fixture(scope="session")
def all_apps(synth_app: Callable[[str], SynthesizedApp]) -> list[SynthesizedApp]:
    """Every example app, synthesized (each once per session)."""
    from apps import APP_MODULES

    return [synth_app(name) for name in APP_MODULES]


@pytest.fixture
def stack() -> cdk.Stack:
    """A fresh, environment-agnostic stack with the project's feature flags."""
    return cdk.Stack(new_app(), "Test")
