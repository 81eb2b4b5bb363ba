"""AWS clients for the CLI: one boto3 session, adaptive retries, and one-line errors instead of tracebacks.

boto3 is imported here, lazily, the first time a command needs a client: ``batch-constructs --help`` never pays for it
(importing boto3 costs about as much as the whole rest of the CLI's start-up).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boto3 import Session
    from botocore.config import Config
    from mypy_boto3_batch import BatchClient
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_logs import CloudWatchLogsClient

#: Exit code for problems with the command line, the credentials or the region (as argparse uses for usage errors).
EXIT_USAGE = 2
#: Exit code when AWS answers with an error (not found, access denied...).
EXIT_AWS = 3

NO_REGION = "no AWS region configured: pass --region, or set AWS_REGION (or AWS_DEFAULT_REGION)"
INSTALL_HINT = "the batch-constructs CLI needs boto3: pip install 'batch-constructs[cli]'"


class CliError(Exception):
    """A failure the CLI reports as one line on stderr (``batch-constructs: <message>``) and an exit code."""

    def __init__(self, message: str, code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.code = code


class Aws:
    """The AWS clients one command uses, created on first use from one session.

    Decision: botocore's *adaptive* retry mode (``Config(retries={"mode": "adaptive", "max_attempts": 10})``): status
    and watch loops call DescribeJobs and ListJobs repeatedly, and adaptive mode adds client-side rate limiting on top
    of the standard mode's retries of throttling errors, so a throttled account slows the CLI down instead of failing
    it. 10 attempts is the standard mode's documented maximum default for throttling-heavy callers.

    Args:
        region: the AWS region; None uses the usual chain (``AWS_REGION``, ``AWS_DEFAULT_REGION``, the profile).
        profile: a named profile from the shared config files; None uses the default chain.
    """

    def __init__(self, region: str | None = None, profile: str | None = None) -> None:
        self._region = region
        self._profile = profile

    @cached_property
    def session(self) -> Session:
        try:
            import boto3
        except ImportError as exc:  # pragma: no cover - exercised by tests/cli/test_main.py in a subprocess
            raise CliError(INSTALL_HINT) from exc
        session = boto3.Session(region_name=self._region or None, profile_name=self._profile)
        if not session.region_name:  # also an empty AWS_REGION, which botocore turns into an invalid endpoint
            raise CliError(NO_REGION)
        return session

    def _config(self) -> Config:
        from botocore.config import Config

        return Config(retries={"mode": "adaptive", "max_attempts": 10}, user_agent_extra="batch-constructs-cli")

    @cached_property
    def batch(self) -> BatchClient:
        return self.session.client("batch", config=self._config())

    @cached_property
    def cloudformation(self) -> CloudFormationClient:
        return self.session.client("cloudformation", config=self._config())

    @cached_property
    def logs(self) -> CloudWatchLogsClient:
        return self.session.client("logs", config=self._config())

    @cached_property
    def ec2(self) -> EC2Client:
        return self.session.client("ec2", config=self._config())

    @cached_property
    def iam(self) -> IAMClient:
        return self.session.client("iam", config=self._config())


def explain(exc: BaseException) -> CliError | None:
    """The one-line error for a botocore exception, or None when ``exc`` is not one the CLI explains."""
    module = type(exc).__module__
    if not (module.startswith("botocore") or module.startswith("boto3")):
        return None
    from botocore import exceptions as bex

    if isinstance(exc, bex.NoRegionError):
        return CliError(NO_REGION)
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return CliError(
            "no AWS credentials found: set AWS_PROFILE (or pass --profile), run `aws sso login`, "
            "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        )
    if isinstance(exc, bex.ProfileNotFound):
        return CliError(str(exc))
    if isinstance(exc, bex.ClientError):
        error = exc.response.get("Error", {})
        operation = getattr(exc, "operation_name", "AWS")
        return CliError(f"{operation} failed: {error.get('Code', 'Error')}: {error.get('Message', '')}", EXIT_AWS)
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError):
        return CliError(f"cannot reach AWS: {exc}", EXIT_AWS)
    if isinstance(exc, bex.BotoCoreError):
        return CliError(str(exc), EXIT_AWS)
    return None
