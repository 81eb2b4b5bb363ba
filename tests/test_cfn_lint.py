"""cfn-lint reports nothing - no error, no warning - on any synthesized example template."""

from __future__ import annotations

import json
import subprocess
import sys

from .conftest import SynthesizedApp


def test_every_example_template_is_cfn_lint_clean(all_apps: list[SynthesizedApp]) -> None:
    # GIVEN every template `make synth` writes
    files = sorted(str(p) for app in all_apps for p in app.outdir.glob("*.template.json"))
    assert len(files) >= 7, files
    # WHEN cfn-lint checks them all in one run (errors, warnings and informational findings)
    run = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", "--include-checks", "I", "--", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(run.stdout or "[]")
    # THEN there is nothing to report
    summary = [f"{f['Filename']}: {f['Rule']['Id']} {f['Message']}" for f in findings]
    assert summary == [], "\n".join(summary)
    assert run.returncode == 0, run.stderr
