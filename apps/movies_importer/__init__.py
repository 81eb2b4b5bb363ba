"""Example app 1, the movies importer: a zipped movie-ratings CSV in S3 imported into DynamoDB by a Fargate job,
started by a Step Functions state machine (``batch:submitJob.sync``) and by a daily schedule. See README.md."""

from __future__ import annotations

import aws_cdk as cdk

from .stack import MoviesImporterStack

__all__ = ["MoviesImporterStack", "add_to"]


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add the ``MoviesImporter`` stack to ``app``."""
    return [MoviesImporterStack(app, "MoviesImporter")]
