"""The integration tests (``integ/``) without an AWS account: their snapshots are current, their templates cfn-lint
clean, their waits bounded, nothing but buckets outlives their stacks, and ``make integ`` fails fast without
credentials.

Each test app is synthesized once per module (``integ.snapshots.synthesize``, asset staging off) and compared with
the committed ``integ/integ_<app>.py.snapshot/`` (asset hashes and assertion salts scrubbed). Why not integ-runner's
own snapshot check: the newest ``@aws-cdk/integ-runner`` (2.197.10) reads cloud assembly schema 53 at most and
rejects the schema-55 assemblies of aws-cdk-lib 2.275 ("Maximum schema version supported is 53.x.x, but found 55.0.0").
"""

from __future__ import annotations

import difflib
import json
import os
import pathlib
import re
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest
from moto import mock_aws

from apps import APP_MODULES
from integ import run, snapshots
from integ._common import LEFT_FOR_THE_RUNNER

from .helpers import CFN_LINT, ROOT

#: cfn-lint's W3005 ("DependsOn already enforced by a Ref/GetAtt") fires on dependencies that integ-tests itself
#: (its waiter state machines, ``next()`` chains) and aws-cdk-lib's BucketDeployment write: redundant, harmless,
#: and not ours to change. Every other rule applies.
IGNORED_CFN_LINT_RULES = ("W3005",)
#: The longest any wait of a test may last: a stuck job must not keep a test (and its NAT gateway) alive for hours.
MAX_WAIT_SECONDS = 45 * 60


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Every integration test app, synthesized once: module -> snapshot file name -> scrubbed content."""
    return {m: snapshots.synthesize(m, tmp_path_factory.mktemp(m)) for m in snapshots.MODULES}


def _templates(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {n.removesuffix(".template.json"): json.loads(c) for n, c in files.items() if n.endswith(".template.json")}


def _case(files: dict[str, str]) -> dict[str, Any]:
    (case,) = json.loads(files["integ.json"])["testCases"].values()
    return dict(case)


def test_every_example_app_has_an_integration_test() -> None:
    assert sorted(f"integ_{app}" for app in APP_MODULES) == sorted(snapshots.MODULES)
    assert sorted(run.COSTS) == sorted(snapshots.MODULES)  # and a cost estimate


@pytest.mark.parametrize("module", snapshots.MODULES)
def test_snapshot_is_current(synthesized: dict[str, dict[str, str]], module: str) -> None:
    # GIVEN the committed snapshot, WHEN the test app is synthesized now, THEN they are the same
    current, committed = synthesized[module], snapshots.committed(module)
    assert sorted(current) == sorted(committed), "stacks added or removed: run `make integ-snapshots`"
    for name in current:
        diff = list(difflib.unified_diff(committed[name].splitlines(), current[name].splitlines(), lineterm="", n=2))
        assert not diff, f"{module}/{name} changed; if intended, run `make integ-snapshots`:\n" + "\n".join(diff[:60])


def test_assertion_stacks_are_cfn_lint_clean() -> None:
    # GIVEN every committed assertion stack (the stacks under test are the example stacks, which
    # tests/test_cfn_lint.py lints, plus a BucketDeployment in two of them)
    files = sorted(str(p) for p in (ROOT / "integ").glob("*.snapshot/*DefaultTestDeployAssert*.template.json"))
    assert len(files) == len(snapshots.MODULES), files
    # WHEN cfn-lint checks them all in one run
    lint = subprocess.run(
        [str(CFN_LINT), "--format", "json", "--ignore-checks", *IGNORED_CFN_LINT_RULES, "--", *files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.stdout.strip().startswith("["), lint.stderr
    # THEN it reports nothing
    findings = [f"{f['Filename']}: {f['Rule']['Id']} {f['Message']}" for f in json.loads(lint.stdout)]
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("module", snapshots.MODULES)
def test_only_buckets_outlive_the_stacks_under_test(synthesized: dict[str, dict[str, str]], module: str) -> None:
    # GIVEN the stacks a test deploys (the examples retain tables, keys, log groups and buckets)
    templates = _templates(synthesized[module])
    for stack in _case(synthesized[module])["stacks"]:
        resources = templates[stack]["Resources"]
        retained = {k: r["Type"] for k, r in resources.items() if r.get("DeletionPolicy", "Delete") != "Delete"}
        # THEN only the buckets are retained (integ/run.py empties and deletes them after the destroy) ...
        assert set(retained.values()) <= set(LEFT_FOR_THE_RUNNER), retained
    # ... AND every stack of the test has at least one resource CloudFormation deletes
    assert all(templates[s]["Resources"] for s in _case(synthesized[module])["stacks"])


@pytest.mark.parametrize("module", snapshots.MODULES)
def test_assertion_stack_asserts_and_every_wait_is_bounded(synthesized: dict[str, dict[str, str]], module: str) -> None:
    files = synthesized[module]
    assertions = _templates(files)[_case(files)["assertionStackName"]]
    # THEN the assertion stack reports at least one result (what integ/run.py reads) ...
    results = [name for name in assertions.get("Outputs", {}) if name.startswith("AssertionResults")]
    assert results, f"{module} asserts nothing"
    # ... AND each waiter state machine gives up within MAX_WAIT_SECONDS
    waits = []
    for resource in assertions["Resources"].values():
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            definition = json.dumps(resource["Properties"]["DefinitionString"])
            retry = re.search(r'IntervalSeconds\\":(\d+),\\"MaxAttempts\\":(\d+),\\"BackoffRate\\":1\b', definition)
            assert retry, definition[:300]
            waits.append(int(retry.group(1)) * int(retry.group(2)))
    assert waits, f"{module} waits for nothing: a job's result would be read before the job ran"
    assert max(waits) <= MAX_WAIT_SECONDS, waits


def test_make_integ_without_credentials_fails_fast_with_a_clear_message(tmp_path: pathlib.Path) -> None:
    # GIVEN an environment with no AWS credentials anywhere (no variables, files, or instance metadata)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PYTHONPATH": str(ROOT),
    }
    # WHEN the integration tests are started as `make integ` starts them
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "integ.run"], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    elapsed = time.monotonic() - started
    # THEN it stops within seconds, before deploying anything, and says what to set
    assert result.returncode == run.EXIT_ENVIRONMENT, result.stdout + result.stderr
    assert "no AWS credentials found" in result.stderr
    assert "AWS_PROFILE" in result.stderr
    assert "cdk deploy" not in result.stdout
    assert elapsed < 15, elapsed


def test_assertion_results_are_read_from_the_assertion_stack_outputs() -> None:
    stack = "XDefaultTestDeployAssert1234"
    outputs = {
        "IntegX": {"AssertionResultsIgnored": '{"status": "fail"}'},
        stack: {
            "AssertionResultsA": '{"status": "success"}',
            "AssertionResultsB": '{"status": "fail", "message": "Expected SUCCEEDED but received FAILED"}',
            "Other": "x",
        },
    }
    assert run.assertion_failures(outputs, stack) == ["AssertionResultsB: Expected SUCCEEDED but received FAILED"]
    assert run.assertion_failures({stack: {"AssertionResultsA": '{"status": "success"}'}}, stack) == []
    # a stack that never deployed (a wait timed out) is a failure too
    assert run.assertion_failures({"IntegX": {}}, stack)[0].startswith(f"{stack}: not deployed")


def test_cost_estimate_adds_the_gpu_job_only_when_asked() -> None:
    usd, minutes, lines = run.estimate(["integ_gpu_training", "integ_movies_importer"], gpu_job=False)
    assert usd == round(run.COSTS["integ_gpu_training"].usd + run.COSTS["integ_movies_importer"].usd, 2)
    assert len(lines) == 2
    with_job = run.estimate(["integ_gpu_training"], gpu_job=True)
    assert with_job[0] == round(run.COSTS["integ_gpu_training"].usd + run.GPU_JOB_COST.usd, 2)
    assert run.estimate(["integ_movies_importer"], gpu_job=True)[0] == run.COSTS["integ_movies_importer"].usd
    assert minutes > 0


def test_retained_buckets_are_emptied_of_every_version_and_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        _empty_and_delete(boto3.client("s3", region_name="us-east-1"))


DATA, LOGS = "integmoviesimporter-uploads-1a2b3c", "integmoviesimporter-accesslogs-1a2b3c"


def _empty_and_delete(s3: Any) -> None:
    # GIVEN a versioned bucket with two versions of an object and a delete marker, and another with one object
    for name in (DATA, LOGS):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=DATA, Key="k", Body=b"1")
    s3.put_object(Bucket=DATA, Key="k", Body=b"2")
    s3.delete_object(Bucket=DATA, Key="k")
    s3.put_object(Bucket=LOGS, Key="log", Body=b"x")
    # WHEN the runner cleans them up (and one was deleted already)
    left = run.delete_buckets(s3, [DATA, LOGS, "integmoviesimporter-gone-1a2b3c"], rounds=1)
    # THEN both are gone
    assert left == []
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == []
