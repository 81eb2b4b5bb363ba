"""Session fixtures: every example app is synthesized once per test session (with the five cdk-nag packs)."""

from __future__ import annotations

import pathlib
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import cx_api

from .helpers import new_app


@pytest.fixture(scope="session")
def example_assembly(tmp_path_factory: pytest.TempPathFactory) -> cx_api.CloudAssembly:
    """The cloud assembly of ``apps.build``: exactly what ``make synth`` writes to cdk.out."""
    from apps import build

    outdir = tmp_path_factory.mktemp("cdk.out")
    app = new_app(outdir=str(outdir))
    build(app)
    return app.synth()


@pytest.fixture(scope="session")
def example_templates(example_assembly: cx_api.CloudAssembly) -> dict[str, dict[str, Any]]:
    """Stack name -> synthesized template, for every example stack."""
    return {s.stack_name: s.template for s in example_assembly.stacks}


@pytest.fixture(scope="session")
def example_outdir(example_assembly: cx_api.CloudAssembly) -> pathlib.Path:
    return pathlib.Path(example_assembly.directory)


@pytest.fixture
def stack() -> cdk.Stack:
    """A fresh, environment-agnostic stack with the project's feature flags."""
    return cdk.Stack(new_app(), "Test")
