"""Snapshots of every example stack: a tripwire for unintended template changes, never the only test.

Asset hashes are scrubbed (they change with any edit of job code). Review a snapshot diff before accepting it with
``pytest --snapshot-update``: a logical id that disappears means CloudFormation replaces or deletes that resource.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from apps import APP_MODULES

from .conftest import SynthesizedApp

_HASH = re.compile(r"[0-9a-f]{64}")


def scrub(value: Any) -> Any:
    """The template with asset hashes replaced by a placeholder."""
    if isinstance(value, dict):
        return {k: scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return _HASH.sub("<asset-hash>", value)
    return value


@pytest.fixture
def json_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


@pytest.mark.parametrize("module", APP_MODULES)
def test_example_stacks_match_snapshots(module: str, synth_app: Any, json_snapshot: SnapshotAssertion) -> None:
    app: SynthesizedApp = synth_app(module)
    for stack_name, template in sorted(app.templates.items()):
        assert scrub(template) == json_snapshot(name=stack_name)
