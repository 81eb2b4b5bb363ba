"""cfn-lint reports nothing - no error, no warning - on any synthesized example template.

Informational findings are not required to be empty: I1022 ("prefer Fn::Sub over Fn::Join") fires on the joins
aws-cdk-lib itself writes, which no app can change. cfn-lint runs through :func:`tests.helpers.cfn_lint`, which answers
a template it has linted before, byte for byte with the same cfn-lint, from its cache.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from . import helpers
from .conftest import SynthesizedApp
from .helpers import cfn_lint


def test_every_example_template_is_cfn_lint_clean(all_apps: list[SynthesizedApp]) -> None:
    # GIVEN every template `make synth` writes
    files = sorted(p for app in all_apps for p in app.outdir.glob("*.template.json"))
    assert len(files) >= 7, files
    # WHEN cfn-lint (the script installed beside this interpreter) checks them
    # THEN there is nothing to report
    findings = cfn_lint(*files)
    assert findings == [], "\n".join(findings)


BROKEN = {
    "Resources": {
        "Queue": {"Type": "AWS::Batch::JobQueue", "Properties": {"Priority": "high", "ComputeEnvironmentOrder": []}}
    }
}


def test_a_broken_template_is_reported_from_a_fresh_run_and_from_the_cache(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a template cfn-lint must reject (a priority that is not an integer), and an empty cache
    monkeypatch.setattr(helpers, "CFN_LINT_CACHE", tmp_path / "cache")
    template = tmp_path / "Broken.template.json"
    template.write_text(json.dumps(BROKEN))
    # WHEN it is linted twice (the second answer comes from the cache)
    fresh = cfn_lint(template)
    assert len(list((tmp_path / "cache").iterdir())) == 1
    again = cfn_lint(template)
    # THEN both name the file and the finding
    assert fresh == again
    assert any(line.startswith("Broken.template.json: E") and "'high'" in line for line in fresh), fresh
    # AND a changed byte is a different key (nothing stale is answered)
    template.write_text(json.dumps(BROKEN) + "\n")
    assert helpers.cfn_lint_key(template.read_bytes()) != helpers.cfn_lint_key(json.dumps(BROKEN).encode())
