"""Entry point of ``cdk.json``: ``python -m apps`` synthesizes every example stack.

It exits non-zero on any cdk-nag finding, warnings included: cdk-nag 3 itself fails the synthesis on errors only.
"""

import sys

import aws_cdk as cdk

from apps import build
from batch_constructs.compliance import unacknowledged_findings

app = cdk.App()
build(app)
assembly = app.synth()
findings = unacknowledged_findings(assembly.directory)
if findings:
    print("cdk-nag findings (warnings included) - fix or acknowledge them:", *findings, sep="\n  ", file=sys.stderr)
    sys.exit(1)
