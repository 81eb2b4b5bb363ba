"""Example apps: each module under ``apps/`` adds its stacks to one CDK app, so one ``cdk synth`` writes them all.

``build(app)`` is what ``cdk.json`` runs (through ``python -m apps``) and what the tests synthesize once per session.
Every stack is environment-agnostic (no account/region), so no AZ lookups or context file are needed.
"""

from __future__ import annotations

import aws_cdk as cdk

from ._compliance import add_compliance_packs


def build(app: cdk.App) -> list[cdk.Stack]:
    """Add every example stack to ``app`` and register the five cdk-nag packs on it."""
    stacks: list[cdk.Stack] = []
    # Each example app's module exposes add_to(app) -> list[Stack]; keep this list in the README's order.
    from . import (
        fetch_and_run,
        file_scanner,
        gpu_training,
        image_processor,
        movies_importer,
        shared_platform,
    )

    for module in (movies_importer, image_processor, file_scanner, gpu_training, fetch_and_run, shared_platform):
        stacks.extend(module.add_to(app))
    add_compliance_packs(app)
    return stacks
