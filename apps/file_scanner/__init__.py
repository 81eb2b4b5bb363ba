"""Example app 3, the file scanner (from "AWS Batch Deep Dive"): one stack, ``FileScanner``."""

from __future__ import annotations

import aws_cdk as cdk

from .stack import FileScannerStack

STACK_NAME = "FileScanner"


def add_to(app: cdk.App) -> list[cdk.Stack]:
    """Add the ``FileScanner`` stack to ``app``."""
    return [FileScannerStack(app, STACK_NAME)]
