"""Example apps: each module under ``apps/`` adds its stacks to one CDK app, so one ``cdk synth`` writes them all.

``build(app)`` is what ``cdk.json`` runs (through ``python -m apps``). Each app module exposes
``add_to(app) -> list[Stack]``; the tests synthesize each module once per session. Every stack is
environment-agnostic (no account/region), so no AZ lookups or context file are needed.
"""

from __future__ import annotations

import importlib

import aws_cdk as cdk

from batch_constructs.compliance import add_compliance_packs

#: The example apps, in the README's order.
APP_MODULES: tuple[str, ...] = (
    "movies_importer",
    "image_processor",
    "file_scanner",
    "gpu_training",
    "fetch_and_run",
    "shared_platform",
    "fair_share_teams",
)


def add_app(app: cdk.Stage, module_name: str) -> list[cdk.Stack]:
    """Add one example app's stacks to ``app`` (an App, or a Stage that pins an environment)."""
    module = importlib.import_module(f"{__name__}.{module_name}")
    stacks: list[cdk.Stack] = module.add_to(app)
    return stacks


def build(app: cdk.App) -> list[cdk.Stack]:
    """Add every example stack to ``app`` and register the five cdk-nag packs on it."""
    stacks = [stack for name in APP_MODULES for stack in add_app(app, name)]
    add_compliance_packs(app)
    return stacks
