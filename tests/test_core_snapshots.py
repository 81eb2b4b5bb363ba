"""Snapshots of three representative core-library stacks: a tripwire for unintended template changes.

The specific behaviour is asserted in the per-module tests; these catch everything else (a changed logical id means
CloudFormation replaces the resource). Asset hashes, the bootstrap-version parameter and rule, and CDK metadata are
scrubbed, so the snapshots change only when the library's output does. Review a diff before accepting it with
``pytest tests/test_core_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from .core_stacks import Built, default_platform, ec2_platform, efa_stack

_ASSET_HASH = re.compile(r"\b[0-9a-f]{64}\b")

STACKS: dict[str, Callable[[], Built]] = {
    "default_platform": default_platform,
    "ec2_spot_and_on_demand_platform": ec2_platform,
    "efa_multi_node": efa_stack,
}


def scrub(template: dict[str, Any]) -> dict[str, Any]:
    """The template without what changes from one CDK release or asset edit to the next."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k != "Metadata"}
        if isinstance(value, list):
            return [clean(v) for v in value]
        if isinstance(value, str):
            return _ASSET_HASH.sub("<asset-hash>", value)
        return value

    result: dict[str, Any] = clean(template)
    result.get("Parameters", {}).pop("BootstrapVersion", None)
    result.get("Rules", {}).pop("CheckBootstrapVersion", None)
    result["Resources"] = {k: v for k, v in result["Resources"].items() if v["Type"] != "AWS::CDK::Metadata"}
    for section in ("Parameters", "Rules", "Conditions"):
        if section in result and not result[section]:
            del result[section]
    return result


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("name", list(STACKS))
def test_core_stack_matches_snapshot(name: str, json_snapshot: SnapshotAssertion) -> None:
    # GIVEN a representative stack WHEN it is synthesized THEN its scrubbed template is the recorded one
    template = scrub(STACKS[name]().template)
    assert "BootstrapVersion" not in str(template)
    assert template == json_snapshot


def test_scrub_removes_only_volatile_parts() -> None:
    # GIVEN a template with an asset hash, the bootstrap parameter and rule, metadata and a real resource
    digest = "0123456789abcdef" * 4
    template = {
        "Parameters": {"BootstrapVersion": {"Type": "String"}, "Kept": {"Type": "String"}},
        "Rules": {"CheckBootstrapVersion": {"Assertions": []}},
        "Resources": {
            "Meta": {"Type": "AWS::CDK::Metadata", "Properties": {}},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Metadata": {"aws:cdk:path": "S/Fn"},
                "Properties": {"Code": {"S3Key": f"{digest}.zip"}, "Handler": "index.handler"},
            },
        },
    }
    # WHEN scrubbed THEN only the volatile parts are gone
    assert scrub(template) == {
        "Parameters": {"Kept": {"Type": "String"}},
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Code": {"S3Key": "<asset-hash>.zip"}, "Handler": "index.handler"},
            }
        },
    }
