"""The integration tests (``integ/``) without an AWS account: their snapshots are current, their templates cfn-lint
clean, their waits bounded, nothing but buckets outlives their stacks, and ``make integ`` fails fast without
credentials.

Each test app is synthesized (``integ.snapshots.synthesize``, asset staging off, at most once per session) and compared
with the committed ``integ/integ_<app>.py.snapshot/`` (asset hashes and assertion salts scrubbed), unless the snapshot's
fingerprint shows that neither it nor any file synthesis reads changed since ``make integ-snapshots`` wrote it. The
other checks read the committed snapshots, which the first check proves current. Why not integ-runner's
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

from apps import APP_MODULES
from integ import integ_gpu_training, run, snapshots
from integ._common import ASSERTION_STACK_CFN_LINT_IGNORES, LEFT_FOR_THE_RUNNER

from .aws_mock import mocked_aws
from .helpers import ROOT, cfn_lint

#: The longest any wait of a test may last: a stuck job must not keep a test (and its NAT gateway) alive for hours.
MAX_WAIT_SECONDS = 45 * 60


@pytest.fixture(scope="module")
def inputs() -> str:
    """The digest of every file synthesis reads, as ``make integ-snapshots`` recorded it in each fingerprint."""
    return snapshots.inputs_digest()


@pytest.fixture(scope="module")
def committed() -> dict[str, dict[str, str]]:
    """Every committed snapshot: module -> file name -> content."""
    return {m: snapshots.committed(m) for m in snapshots.MODULES}


def _templates(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {n.removesuffix(".template.json"): json.loads(c) for n, c in files.items() if n.endswith(".template.json")}


def _case(files: dict[str, str]) -> dict[str, Any]:
    (case,) = json.loads(files["integ.json"])["testCases"].values()
    return dict(case)


def test_every_example_app_has_an_integration_test() -> None:
    assert sorted(f"integ_{app}" for app in APP_MODULES) == sorted(snapshots.MODULES)
    assert sorted(run.COSTS) == sorted(snapshots.MODULES)  # and a cost estimate


@pytest.mark.parametrize("module", snapshots.MODULES)
def test_snapshot_is_current(
    committed: dict[str, dict[str, str]], inputs: str, module: str, tmp_path: pathlib.Path
) -> None:
    # GIVEN the committed snapshot
    expected = committed[module]
    assert expected, f"no snapshot for {module}: run `make integ-snapshots`"
    if snapshots.recorded_fingerprint(module) == snapshots.fingerprint(expected, inputs):
        return  # written by `make integ-snapshots` from exactly these sources: current by construction
    # WHEN the test app is synthesized now, THEN it is the same
    current = snapshots.synthesize(module, tmp_path)
    assert sorted(current) == sorted(expected), "stacks added or removed: run `make integ-snapshots`"
    for name in current:
        diff = list(difflib.unified_diff(expected[name].splitlines(), current[name].splitlines(), lineterm="", n=2))
        assert not diff, f"{module}/{name} changed; if intended, run `make integ-snapshots`:\n" + "\n".join(diff[:60])


def test_fingerprint_changes_with_the_sources_and_with_the_snapshot() -> None:
    files = {"integ.json": "{}\n", "Stack.template.json": '{"Resources": {}}\n'}
    assert snapshots.fingerprint(files, "a") == snapshots.fingerprint(dict(files), "a")
    assert snapshots.fingerprint(files, "a") != snapshots.fingerprint(files, "b")  # a source file changed
    edited = files | {"Stack.template.json": '{"Resources": {"X": {}}}\n'}
    assert snapshots.fingerprint(files, "a") != snapshots.fingerprint(edited, "a")  # the snapshot was edited
    # the sources include the library, the example apps and the test apps (and not the snapshots themselves)
    read = {p.relative_to(ROOT).parts[0] for p in snapshots._input_files()}
    assert {"apps", "batch_constructs", "integ", "cdk.json", "constraints.txt"} <= read
    assert not [p for p in snapshots._input_files() if ".snapshot" in str(p) or p.suffix == ".pyc"]


def test_assertion_stacks_are_cfn_lint_clean() -> None:
    # GIVEN every committed assertion stack (the stacks under test are the example stacks, which
    # tests/test_cfn_lint.py lints, plus a BucketDeployment in two of them)
    files = sorted(str(p) for p in (ROOT / "integ").glob("*.snapshot/*DefaultTestDeployAssert*.template.json"))
    assert len(files) == len(snapshots.MODULES), files
    # THEN cfn-lint reports nothing (each template ignores only ASSERTION_STACK_CFN_LINT_IGNORES, in its metadata)
    for file in files:
        ignored = json.loads(pathlib.Path(file).read_text())["Metadata"]["cfn-lint"]["config"]["ignore_checks"]
        assert ignored == list(ASSERTION_STACK_CFN_LINT_IGNORES), file
    findings = cfn_lint(*map(pathlib.Path, files))
    assert findings == [], "\n".join(findings)


@pytest.mark.parametrize("module", snapshots.MODULES)
def test_only_buckets_outlive_the_stacks_under_test(committed: dict[str, dict[str, str]], module: str) -> None:
    # GIVEN the stacks a test deploys (the examples retain tables, keys, log groups and buckets)
    templates = _templates(committed[module])
    for stack in _case(committed[module])["stacks"]:
        resources = templates[stack]["Resources"]
        retained = {k: r["Type"] for k, r in resources.items() if r.get("DeletionPolicy", "Delete") != "Delete"}
        # THEN only the buckets are retained (integ/run.py empties and deletes them after the destroy) ...
        assert set(retained.values()) <= set(LEFT_FOR_THE_RUNNER), retained
    # ... AND every stack of the test has at least one resource CloudFormation deletes
    assert all(templates[s]["Resources"] for s in _case(committed[module])["stacks"])


@pytest.mark.parametrize("module", snapshots.MODULES)
def test_assertion_stack_asserts_and_every_wait_is_bounded(committed: dict[str, dict[str, str]], module: str) -> None:
    files = committed[module]
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
    # the runner reads the same opt-in variable as the test app (it does not import it: that would start jsii)
    assert run.GPU_JOB_VARIABLE == integ_gpu_training.GPU_JOB_VARIABLE


def test_retained_buckets_are_emptied_of_every_version_and_deleted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mocked_aws():
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
