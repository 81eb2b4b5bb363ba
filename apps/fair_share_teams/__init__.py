"""Example app 7, two teams on one fair-share queue: uploads curated by team ingest (an EventBridge rule and a Lambda
submitter, plus a nightly sweep on EventBridge Scheduler), a nightly report pipeline by team analytics (a schedule
starting a BatchPipeline), every submission with its team's share identifier. One stack, ``FairShareTeams``."""

from __future__ import annotations

import aws_cdk as cdk

from .stack import FairShareTeamsStack

__all__ = ["STACK_NAME", "FairShareTeamsStack", "add_to"]

STACK_NAME = "FairShareTeams"


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add the ``FairShareTeams`` stack to ``app``."""
    return [FairShareTeamsStack(app, STACK_NAME)]
