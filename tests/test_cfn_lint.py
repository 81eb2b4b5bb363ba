"""cfn-lint reports nothing - no error, no warning - on any synthesized example template.

Informational findings are not required to be empty: I1022 ("prefer Fn::Sub over Fn::Join") fires on the joins
aws-cdk-lib itself writes, which no app can change.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys

from .conftest import SynthesizedApp


def test_every_example_template_is_cfn_lint_clean(all_apps: list[SynthesizedApp]) -> None:
    # GIVEN every template `make synth` writes
    files = sorted(str(p) for app in all_apps for p in app.outdir.glob("*.template.json"))
    assert len(files) >= 7, files
    # WHEN cfn-lint (the script installed beside this interpreter) checks them all in one run
    cfn_lint = pathlib.Path(sys.executable).parent / "cfn-lint"
    run = subprocess.run(
        [str(cfn_lint), "--format", "json", "--", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stdout.strip().startswith("["), run.stderr
    findings = json.loads(run.stdout)
    # THEN there is nothing to report
    summary = [f"{f['Filename']}: {f['Rule']['Id']} {f['Message']}" for f in findings]
    assert summary == [], "\n".join(summary)
    assert run.returncode == 0, run.stderr
