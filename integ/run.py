"""Run the integration tests against the AWS account in the environment: ``make integ`` (``python -m integ.run``).

For each selected test app (default: all of ``integ/integ_*.py``), one after the other:

1. ``cdk deploy --all`` of the app with the pinned CDK CLI: the stacks under test, then the assertion stack, whose
   custom resources start the trigger, wait (bounded) for the job and compare its result;
2. read the assertion results from the assertion stack's outputs (``AssertionResults*``: ``{"status": "success"}``
   or ``{"status": "fail", "message": ...}``), as integ-runner does;
3. always, whether 1 or 2 failed or not (also on Ctrl-C): ``cdk destroy --all --force`` of the same cloud assembly,
   then empty and delete the S3 buckets the stacks retain (the examples' buckets keep data on stack deletion; the
   tests' must not outlive them). Tables, log groups and keys are deleted with the stacks (``disposable``).

Before anything is deployed it checks, and fails fast with what to do: credentials (STS ``GetCallerIdentity``), a
region, the CDK bootstrap stack (``CDKToolkit``) and, for apps that build a job image, a running Docker; then it
prints the estimated cost. Why not ``@aws-cdk/integ-runner``: the newest release on npm (2.197.10) bundles cloud
assembly schema 53 and refuses the schema-55 assemblies aws-cdk-lib 2.275 writes, for snapshots and deploys alike;
this runner does its deploy-assert-destroy cycle with the pinned CLI, on the same test files.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

HERE: Final = pathlib.Path(__file__).resolve().parent
ROOT: Final = HERE.parent
#: Where each test's cloud assembly goes (kept after the run, for ``cdk destroy --app`` by hand if ever needed).
OUT: Final = ROOT / "cdk.integ.out"
#: The pinned CLI (package-lock.json), as ``make`` puts it first on PATH.
CDK: Final = str(ROOT / "node_modules" / ".bin" / "cdk")
#: Exit code when the environment cannot run the tests (no credentials, region, bootstrap or Docker).
EXIT_ENVIRONMENT: Final = 2

#: Tests whose apps build a job image from a Dockerfile at deploy time (``ContainerImage.from_asset``).
NEEDS_DOCKER: Final = frozenset(
    {
        "integ_movies_importer",
        "integ_image_processor",
        "integ_file_scanner",
        "integ_gpu_training",
        "integ_fetch_and_run",
        "integ_fair_share_teams",
    }
)


@dataclass(frozen=True)
class Cost:
    """An upper estimate of one test's cost: us-east-1 On-Demand list prices, 2026."""

    minutes: int  # from the start of the deploy to the end of the clean-up
    usd: float
    what: str


#: NAT gateway 0.045 USD/h plus its public IPv4 address 0.005 USD/h, for every test's VPC while it exists; Fargate
#: 0.0405 USD per vCPU-hour and 0.0044 per GB-hour (billed per second, 1 minute minimum); Lambda, Step Functions,
#: DynamoDB on demand, S3, EventBridge, KMS requests and CloudWatch Logs cost fractions of a cent here. The stacks'
#: KMS keys are scheduled for deletion, which AWS KMS does not bill. Job images stay in the bootstrap ECR repository
#: (0.10 USD per GB-month) until ``cdk gc`` removes them.
COSTS: Final[Mapping[str, Cost]] = {
    "integ_movies_importer": Cost(40, 0.05, "VPC + NAT, one 1-vCPU/2-GB Fargate Spot job of about a minute"),
    "integ_image_processor": Cost(45, 0.10, "VPC + NAT, one On-Demand EC2 instance for about 15 minutes"),
    "integ_file_scanner": Cost(45, 0.08, "VPC + NAT, one Spot (or On-Demand) EC2 instance for about 15 minutes"),
    "integ_gpu_training": Cost(30, 0.05, "VPC + NAT only: the GPU and EFA environments stay at 0 vCPUs"),
    "integ_fetch_and_run": Cost(40, 0.05, "VPC + NAT, one 1-vCPU/2-GB Fargate job of about a minute"),
    "integ_shared_platform": Cost(40, 0.05, "VPC + NAT, one 0.25-vCPU Fargate Spot job of about a minute"),
    "integ_fair_share_teams": Cost(50, 0.06, "VPC + NAT, six 1-vCPU/2-GB Fargate Spot jobs of about a minute each"),
}
#: The opt-in single-GPU job of integ_gpu_training (g5.xlarge at 1.006 USD/h for about half an hour).
GPU_JOB_COST: Final = Cost(30, 0.50, "one g5.xlarge On-Demand instance for about 30 minutes")
GPU_JOB_VARIABLE: Final = "BATCH_CONSTRUCTS_INTEG_GPU_JOB"


class EnvironmentProblem(Exception):
    """The environment cannot run the tests; the message says what to do."""


def available_tests() -> list[str]:
    return sorted(p.stem for p in HERE.glob("integ_*.py"))


def check_account() -> tuple[str, str, Any]:
    """``(account, region, boto3 session)``, or :class:`EnvironmentProblem` within seconds when there is none."""
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    session = boto3.Session()
    if session.get_credentials() is None:
        raise EnvironmentProblem(
            "no AWS credentials found. make integ deploys stacks into a real account: set AWS_PROFILE (after "
            "`aws sso login`, or with keys in ~/.aws/credentials), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY "
            "(and AWS_SESSION_TOKEN), or run it where an instance or task role provides them."
        )
    region = session.region_name
    if not region:
        raise EnvironmentProblem("no AWS region: set AWS_REGION (e.g. AWS_REGION=us-east-1) or the profile's region.")
    config = Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2})
    try:
        identity = session.client("sts", config=config).get_caller_identity()
    except NoCredentialsError as error:
        raise EnvironmentProblem(f"no usable AWS credentials: {error}") from error
    except (ClientError, BotoCoreError) as error:
        raise EnvironmentProblem(f"the AWS credentials do not work in {region}: {error}") from error
    return str(identity["Account"]), region, session


def check_bootstrap(session: Any, account: str, region: str) -> None:
    """The CDK bootstrap stack must exist: it holds the assets (job images, Lambda code) the deploys upload."""
    from botocore.exceptions import ClientError

    try:
        stacks = session.client("cloudformation").describe_stacks(StackName="CDKToolkit")["Stacks"]
    except ClientError as error:
        if "does not exist" in str(error):
            raise EnvironmentProblem(
                f"the account is not bootstrapped for the CDK in {region}: run "
                f"`npx cdk bootstrap aws://{account}/{region}` once (it creates the CDKToolkit stack)."
            ) from error
        raise EnvironmentProblem(f"cannot read the CDKToolkit stack: {error}") from error
    if not stacks or not stacks[0]["StackStatus"].endswith("_COMPLETE") or "ROLLBACK" in stacks[0]["StackStatus"]:
        raise EnvironmentProblem(f"the CDKToolkit stack is not usable ({stacks[0]['StackStatus'] if stacks else '?'}).")


def check_docker(tests: Iterable[str]) -> None:
    needing = sorted(set(tests) & NEEDS_DOCKER)
    if not needing:
        return
    docker = shutil.which("docker")
    running = docker is not None and subprocess.run([docker, "info"], capture_output=True, check=False).returncode == 0
    if not running:
        raise EnvironmentProblem(
            f"{', '.join(needing)} build their job image at deploy time: start Docker (or select only tests that do "
            "not need it, e.g. `make integ INTEG_TESTS=integ_shared_platform`)."
        )


def _line(name: str, cost: Cost) -> str:
    return f"  {name:<24} ~{cost.minutes:>3} min  <= {cost.usd:5.2f} USD  {cost.what}"


def estimate(tests: Sequence[str], gpu_job: bool) -> tuple[float, int, list[str]]:
    """``(total USD, total minutes, one line per test)``."""
    costs = [(test, COSTS[test]) for test in tests]
    if gpu_job and "integ_gpu_training" in tests:
        costs.append(("  + single-GPU job", GPU_JOB_COST))
    return (
        round(sum(c.usd for _, c in costs), 2),
        sum(c.minutes for _, c in costs),
        [_line(name, cost) for name, cost in costs],
    )


def assertion_failures(outputs: Mapping[str, Mapping[str, str]], assertion_stack: str) -> list[str]:
    """The failed assertions in ``cdk deploy --outputs-file``'s content, as ``"<output>: <message>"``.

    A missing assertion stack (its deployment failed, e.g. a wait timed out) is itself a failure.
    """
    if assertion_stack not in outputs:
        return [f"{assertion_stack}: not deployed (a wait timed out or an assertion call failed; see the events above)"]
    failures = []
    for name, value in sorted(outputs[assertion_stack].items()):
        if not name.startswith("AssertionResults"):
            continue
        try:
            result = json.loads(value)
        except json.JSONDecodeError:
            result = {"status": "fail", "message": value}
        if result.get("status") != "success":
            failures.append(f"{name}: {result.get('message', value)}")
    return failures


def retained_buckets(session: Any, stacks: Iterable[str]) -> list[str]:
    """The physical names of the buckets of ``stacks`` (read before the destroy: afterwards they are gone)."""
    from botocore.exceptions import ClientError

    cloudformation, buckets = session.client("cloudformation"), []
    for stack in stacks:
        try:
            for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
                buckets += [
                    r["PhysicalResourceId"]
                    for r in page["StackResourceSummaries"]
                    if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")
                ]
        except ClientError:
            continue  # never created, or already deleted
    return buckets


def delete_buckets(s3: Any, buckets: Iterable[str], *, rounds: int = 6, pause_seconds: float = 10.0) -> list[str]:
    """Empty (every version and delete marker) and delete ``buckets``; the ones left after ``rounds`` are returned.

    Rounds, because server access logs arrive minutes late: a bucket emptied a moment ago may hold a new log object.
    """
    from botocore.exceptions import ClientError

    remaining = list(buckets)
    for attempt in range(rounds):
        left = []
        for bucket in remaining:
            try:
                for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                    objects = [
                        {"Key": v["Key"], "VersionId": v["VersionId"]}
                        for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                    ]
                    for start in range(0, len(objects), 1000):
                        s3.delete_objects(Bucket=bucket, Delete={"Objects": objects[start : start + 1000]})
                s3.delete_bucket(Bucket=bucket)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") == "NoSuchBucket":
                    continue
                left.append(bucket)
        remaining = left
        if not remaining:
            break
        if attempt + 1 < rounds:
            time.sleep(pause_seconds)
    return remaining


def _cdk(args: Sequence[str]) -> int:
    command = [CDK, *args, "--no-notices", "--no-version-reporting"]
    print("+", " ".join(command), flush=True)
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def run_test(test: str, session: Any) -> bool:
    """Deploy, assert, destroy and clean up one test app; True when every assertion passed."""
    out = OUT / test
    outputs_file = OUT / f"{test}.outputs.json"
    shutil.rmtree(out, ignore_errors=True)
    outputs_file.unlink(missing_ok=True)
    app = f"{sys.executable} -m integ.{test}"
    print(f"\n=== {test}: deploy", flush=True)
    failures: list[str] = []
    try:
        deployed = _cdk(["deploy", "--app", app, "--output", str(out), "--all", "--require-approval", "never",
                         "--outputs-file", str(outputs_file)])  # fmt: skip
        manifest = json.loads((out / "integ.json").read_text()) if (out / "integ.json").is_file() else None
        if manifest is None:
            return _report(test, ["synthesis failed: nothing was deployed"])
        (case,) = manifest["testCases"].values()
        outputs = json.loads(outputs_file.read_text()) if outputs_file.is_file() else {}
        failures = assertion_failures(outputs, case["assertionStackName"])
        if deployed != 0 and not failures:
            failures = [f"cdk deploy exited {deployed}"]
    finally:
        if (out / "integ.json").is_file():
            failures += _destroy(test, out, session)
    return _report(test, failures)


def _destroy(test: str, out: pathlib.Path, session: Any) -> list[str]:
    manifest = json.loads((out / "integ.json").read_text())
    (case,) = manifest["testCases"].values()
    buckets = retained_buckets(session, case["stacks"])
    print(f"\n=== {test}: destroy", flush=True)
    problems = []
    if _cdk(["destroy", "--app", str(out), "--all", "--force"]) != 0:
        problems.append("cdk destroy failed: delete the stacks by hand (CloudFormation console) and rerun")
    left = delete_buckets(session.client("s3"), buckets)
    if left:
        problems.append(f"buckets not deleted (empty and delete them by hand): {', '.join(left)}")
    return problems


def _report(test: str, failures: Sequence[str]) -> bool:
    print(f"\n=== {test}: {'FAILED' if failures else 'passed'}", *[f"  {f}" for f in failures], sep="\n", flush=True)
    return not failures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make integ", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("tests", nargs="*", help="test apps to run (default: all), e.g. integ_movies_importer")
    parser.add_argument("--yes", action="store_true", help="do not ask before deploying (CI)")
    args = parser.parse_args(argv)
    tests = args.tests or available_tests()
    unknown = sorted(set(tests) - set(available_tests()))
    if unknown:
        parser.error(f"unknown tests {unknown}; available: {available_tests()}")
    gpu_job = os.environ.get(GPU_JOB_VARIABLE) == "1"
    try:
        account, region, session = check_account()
        check_bootstrap(session, account, region)
        check_docker(tests)
    except EnvironmentProblem as problem:
        print(f"make integ: {problem}", file=sys.stderr)
        return EXIT_ENVIRONMENT
    usd, minutes, lines = estimate(tests, gpu_job)
    print(f"Integration tests in account {account}, region {region}. Estimated cost (upper estimate, us-east-1 list "
          f"prices; tests run one after the other):", *lines, f"  total: <= {usd:.2f} USD, about {minutes} minutes",
          sep="\n", flush=True)  # fmt: skip
    if not args.yes and sys.stdin.isatty() and input("Deploy? [y/N] ").strip().lower() != "y":
        return 1
    results = {test: run_test(test, session) for test in tests}
    print("\nIntegration tests:", *[f"  {t}: {'passed' if ok else 'FAILED'}" for t, ok in results.items()], sep="\n")
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
