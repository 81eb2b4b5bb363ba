"""Shared test helpers: apps built with the same feature flags as ``cdk.json``."""

from __future__ import annotations

import json
import pathlib
from typing import Any

import aws_cdk as cdk
from aws_cdk.assertions import Template

ROOT = pathlib.Path(__file__).resolve().parents[1]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]


def new_app(**kwargs: Any) -> cdk.App:
    """A CDK app with the project's feature flags (so tests see what ``cdk synth`` writes)."""
    return cdk.App(context=dict(CONTEXT), **kwargs)


def new_stack(name: str = "Test") -> cdk.Stack:
    """A stack in a fresh app: environment-agnostic, like the example stacks."""
    return cdk.Stack(new_app(), name)


def template(stack: cdk.Stack) -> Template:
    return Template.from_stack(stack)


def resources(stack_or_template: cdk.Stack | dict[str, Any], resource_type: str) -> dict[str, Any]:
    """Logical id -> resource of one type, from a stack or a template dict."""
    tpl = stack_or_template if isinstance(stack_or_template, dict) else template(stack_or_template).to_json()
    return {k: v for k, v in tpl["Resources"].items() if v["Type"] == resource_type}
