"""Entry point of ``cdk.json``: ``python -m apps`` synthesizes every example stack."""

import aws_cdk as cdk

from apps import build

app = cdk.App()
build(app)
app.synth()
