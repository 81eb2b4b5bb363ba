"""``batch-constructs``: operate what the constructs deployed (status, submit, watch, logs, why, cost).

This package imports the standard library, :mod:`batch_constructs.errors`, the pure model and boto3 (lazily, inside the
commands) and never aws_cdk, constructs or jsii: it runs where the CDK app does not (a laptop, CI, a bastion) and starts
in a fraction of a second.

Exit codes: 0 success (``watch``: the job SUCCEEDED), 1 the job FAILED (``watch``) or causes were found (``why``),
2 usage, credentials or region problems, 3 an AWS error (not found, access denied), 4 ``watch --timeout`` expired.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

from ._aws import Aws, CliError, explain

if TYPE_CHECKING:
    from ._output import Jsonable

__all__ = ["Context", "main"]


@dataclass
class Context:
    """What a command runs with; tests replace the clients, the output and the clock."""

    aws: Aws
    out: TextIO = field(default_factory=lambda: sys.stdout)
    as_json: bool = False
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic

    def emit(self, data: Jsonable, text: str) -> None:
        """Print ``data`` as JSON with ``--json``, else ``text``."""
        if self.as_json:
            self.out.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        elif text:
            self.out.write(text if text.endswith("\n") else text + "\n")

    def line(self, text: str) -> None:
        """Print one progress line (text mode only: ``--json`` prints one document at the end)."""
        if not self.as_json:
            self.out.write(text + "\n")
            self.out.flush()


def _common() -> argparse.ArgumentParser:
    """Options accepted before and after the command (``batch-constructs status --json`` and ``--json status``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--region",
        default=argparse.SUPPRESS,
        help="AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's)",
    )
    common.add_argument(
        "--profile", default=argparse.SUPPRESS, help="named AWS profile (default: AWS_PROFILE or the default chain)"
    )
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print one JSON document")
    return common


def _parser() -> argparse.ArgumentParser:
    from . import cost, logs, status, submit, watch, why

    common = _common()
    parser = argparse.ArgumentParser(
        prog="batch-constructs",
        description="Operate AWS Batch stacks built with batch-constructs: status, submit, watch, logs, why, cost.",
        parents=[common],
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (status, submit, watch, logs, why, cost):
        module.register(commands, common)
    return parser


def main(argv: Sequence[str] | None = None, *, context: Context | None = None) -> int:
    """Run the CLI; returns the exit code. ``context`` replaces the AWS clients, output and clock (tests)."""
    parser = _parser()
    args = parser.parse_args(argv)
    ctx = context or Context(aws=Aws(region=getattr(args, "region", None), profile=getattr(args, "profile", None)))
    ctx.as_json = ctx.as_json or bool(getattr(args, "json", False))
    run: Callable[[argparse.Namespace, Context], int] = args.run
    try:
        return run(args, ctx)
    except CliError as exc:
        sys.stderr.write(f"batch-constructs: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        sys.stderr.write("batch-constructs: interrupted\n")
        return 130
    except Exception as exc:
        explained = explain(exc)
        if explained is None:
            raise
        sys.stderr.write(f"batch-constructs: {explained}\n")
        return explained.code
