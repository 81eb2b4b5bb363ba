"""The benchmark script runs (quick mode; its floor child in a subprocess) and its report and checks say what the
numbers say.

The benchmark itself is not a timed test: CI only checks that ``benchmarks/run.py`` works in a fresh clone without
AWS credentials. The report tests use made-up runs, so they take milliseconds.
"""

from __future__ import annotations

import json
import pathlib
import re
import time
from typing import Any

import pytest

from benchmarks import run as bench

ROOT = pathlib.Path(__file__).resolve().parents[1]


class _InProcessRunner(bench.Runner):
    """The quick run's syntheses inside this test process, whose jsii kernel is already running, except the floor.

    The floor still runs as a real child process (``run.py --child``, its JSON line, the parent's wall and CPU
    accounting), so the script's child interface stays covered; the three other cases call the same ``child()`` a child
    process runs, without paying a Python and Node start-up each (about 3 s apiece on 2 cores).
    """

    def run(self, case: str, **options: Any) -> bench.Run:
        if case == bench.FLOOR:
            return super().run(case, **options)
        jobs, queues = options.get("jobs", 0), options.get("queues", 0)
        outdir = self.workdir / f"in-process-{case}-{jobs}-{queues}"
        outdir.mkdir()
        start, cpu = time.perf_counter(), time.process_time()
        phases = bench.child(case, str(outdir), jobs, queues)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        return bench.Run(options.get("name") or case, wall, cpu, 0.0, phases, outdir, jobs, queues)


def test_quick_benchmark_runs_and_prints_the_report(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the quick mode's set-up (aws-cdk-lib's validation engine off, as the quick mode's children run)
    monkeypatch.setattr(bench, "Runner", _InProcessRunner)
    monkeypatch.setenv("CDK_VALIDATION", "false")
    output = tmp_path / "BENCHMARKS.md"
    # WHEN the quick mode runs (1 repetition, the smallest scale point, no test suite)
    status = bench.main(["--quick", "--output", str(output)])
    stdout = capsys.readouterr().out
    # THEN it succeeds (the two movies templates are identical, or the run stops), prints every section and the same
    # resource counts for both versions, and writes the report
    assert status == 0
    for heading in ("## Machine", "## 1. Floor", "## 2. Movies importer", "## 3. Scale", "## 4. Test suite"):
        assert heading in stdout
    totals = re.search(r"\| \*\*total\*\* \| \*\*(\d+)\*\* \| \*\*(\d+)\*\* \|", stdout)
    assert totals is not None and totals.group(1) == totals.group(2) and int(totals.group(1)) > 40
    assert re.search(r"\| wall, median \| [\d.]+ s \| [\d.]+ s \| \*\*[\d.]+\*\* \|", stdout)
    assert re.search(r"\| 10 \| 5 \| \d+ \| [\d,]+ \|", stdout), "the 10-job scale row"
    assert output.read_text().strip() == stdout.strip()


def test_a_child_honours_cdk_validation_false_from_the_environment(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN child()'s App recorded (and built without the validation engine, which costs ~3 s to start per process)
    import aws_cdk

    real_app = aws_cdk.App
    seen: list[bool | None] = []

    def recording_app(*args: Any, builtin_cloud_formation_validation: bool | None = None, **kwargs: Any) -> Any:
        seen.append(builtin_cloud_formation_validation)
        return real_app(*args, builtin_cloud_formation_validation=False, **kwargs)

    monkeypatch.setattr(aws_cdk, "App", recording_app)
    # WHEN children run under each value of CDK_VALIDATION
    for value in ("false", "FALSE", "", "true"):
        monkeypatch.setenv("CDK_VALIDATION", value)
        bench.child(bench.FLOOR, str(tmp_path / f"floor-{value or 'unset'}"), 0, 0)
    # THEN only "false" turns the validation off, as aws-cdk-lib reads the variable in a new process
    assert seen == [False, False, True, True]


# ---------------------------------------------------------------------------------------------------------------------
# The report and the checks, on made-up runs.
# ---------------------------------------------------------------------------------------------------------------------


def _template(resources: dict[str, str]) -> dict[str, Any]:
    return {"Resources": {logical_id: {"Type": kind, "Properties": {}} for logical_id, kind in resources.items()}}


def _run(
    tmp_path: pathlib.Path,
    case: str,
    wall: float,
    *,
    cpu: float | None = None,
    stack: str = bench.MOVIES_STACK,
    template: dict[str, Any] | None = None,
    jobs: int = 0,
    queues: int = 0,
) -> bench.Run:
    outdir = tmp_path / f"{case}-{jobs}-{queues}-{wall}"
    outdir.mkdir(exist_ok=True)
    if template is not None:
        (outdir / f"{stack}.template.json").write_text(json.dumps(template))
    phases = {"jsii_s": 0.5, "modules_s": 0.2, "build_s": 0.3, "synth_s": wall - 1.0}
    return bench.Run(case, wall, cpu if cpu is not None else wall / 2, 400.0, phases, outdir, jobs, queues)


def _scale_template(jobs: int, queues: int) -> dict[str, Any]:
    resources = {f"Job{i}": "AWS::Batch::JobDefinition" for i in range(jobs)}
    resources.update({f"Queue{i}": "AWS::Batch::JobQueue" for i in range(queues)})
    return _template(resources)


def _results(
    tmp_path: pathlib.Path,
    *,
    library_wall: float,
    scale_cpu: dict[int, float],
    scale_warm: dict[int, float] | None = None,
) -> bench.Results:
    movies = _template({"Queue": "AWS::Batch::JobQueue", "Job": "AWS::Batch::JobDefinition"})
    results = bench.Results(repetitions=3, quick=False, grid=False, machine={"nproc": "2"})
    results.floor = [_run(tmp_path, "floor", w) for w in (2.0, 2.1, 1.9)]
    results.library = [_run(tmp_path, "library", library_wall + d, template=movies) for d in (0.0, 0.1, -0.1)]
    results.l2 = [_run(tmp_path, "l2", 3.0 + d, template=movies) for d in (0.0, 0.1, -0.1)]
    bench.check_resource_sets(results)
    for jobs, queues in bench.POINTS:
        template = _scale_template(jobs, queues)
        results.scale[(jobs, queues)] = [
            _run(tmp_path, "scale", 5.0, cpu=scale_cpu[jobs], stack=bench.SCALE_STACK, template=template, jobs=jobs)
        ]
    for (jobs, queues), seconds in ((p, (scale_warm or {}).get(p[0])) for p in bench.POINTS):
        if seconds is not None:
            results.warm_scale[(jobs, queues)] = {
                "build_s": [seconds] * 2,
                "synth_s": [0.0] * 2,
                "cpu_s": [seconds * 1.5] * 2,
                "calls": [100 * jobs] * 2,
            }
    results.warm = {
        bench.LIBRARY: {"build_s": [0.8, 0.9], "synth_s": [0.3, 0.3], "cpu_s": [1.2, 1.3], "calls": [600, 600]},
        bench.L2: {"build_s": [0.6, 0.6], "synth_s": [0.3, 0.3], "cpu_s": [1.0, 1.0], "calls": [250, 250]},
    }
    return results


def test_report_meets_the_targets_when_the_numbers_do(tmp_path: pathlib.Path) -> None:
    # GIVEN a library 1% faster than the L2, and synth time proportional to the resources (cold and warm)
    results = _results(
        tmp_path, library_wall=2.97, scale_cpu={10: 1.5, 50: 5.5, 100: 11.5}, scale_warm={10: 0.4, 50: 1.4, 100: 2.8}
    )
    # WHEN the report is written
    text, targets = bench.report(results)
    # THEN the ratio and the linearity targets are met, and the test suite target is not claimed (not run)
    assert targets[bench.RATIO_KEY] is True
    assert targets["linear growth"] is True
    assert bench.SUITE_KEY not in targets
    assert "| wall, median | 2.97 s | 3.00 s | **0.990** |" in text
    assert "| jsii requests per app | 600 | 250 | 2.400 |" in text
    assert "| CPU of build + synth (Python and Node), median | 1.25 s | 1.00 s | 1.250 |" in text
    assert "| **total** | **2** | **2** |" in text
    assert "warm build + synth CPU per added resource" in text
    assert "| (10, 5) -> (50, 10) | 1.12 | " in text and "| 100 |" in text


def test_report_misses_the_targets_when_the_numbers_do(tmp_path: pathlib.Path) -> None:
    # GIVEN a library 20% slower, and a warm cost per resource that triples from the first segment to the last
    results = _results(
        tmp_path, library_wall=3.6, scale_cpu={10: 1.0, 50: 2.0, 100: 3.0}, scale_warm={10: 0.4, 50: 0.8, 100: 2.4}
    )
    text, targets = bench.report(results)
    assert targets[bench.RATIO_KEY] is False
    assert targets["linear growth"] is False
    assert "**missed**" in text


def test_a_different_resource_set_stops_the_benchmark(tmp_path: pathlib.Path) -> None:
    # GIVEN an L2 template that lost a resource type
    results = bench.Results(repetitions=1, quick=True, grid=False, machine={})
    results.library = [_run(tmp_path, "library", 3.0, template=_template({"A": "AWS::SQS::Queue", "B": "X::Y"}))]
    results.l2 = [_run(tmp_path, "l2", 3.0, template=_template({"A": "AWS::SQS::Queue"}))]
    # THEN the check fails loudly, with both counts
    with pytest.raises(bench.BenchmarkError, match=r"RESOURCE SETS DIFFER(.|\n)*\| X::Y \*\*differs\*\* \| 1 \| 0 \|"):
        bench.check_resource_sets(results)


def test_a_resource_or_section_that_differs_stops_the_benchmark(tmp_path: pathlib.Path) -> None:
    # GIVEN the same resource types, but an L2 queue without the library's property and an output the library lacks
    library = _template({"A": "AWS::SQS::Queue"})
    library["Resources"]["A"]["Properties"] = {"KmsMasterKeyId": "alias/x"}
    l2 = _template({"A": "AWS::SQS::Queue"}) | {"Outputs": {"Extra": {"Value": "1"}}}
    results = bench.Results(repetitions=1, quick=True, grid=False, machine={})
    results.library = [_run(tmp_path, "library", 3.0, template=library)]
    results.l2 = [_run(tmp_path, "l2", 3.0, template=l2)]
    # THEN the check fails loudly and names both differences
    with pytest.raises(bench.BenchmarkError, match=r"TEMPLATES DIFFER.*resources A; sections Outputs"):
        bench.check_resource_sets(results)


def test_embedded_json_is_compared_by_content() -> None:
    def machine(*parts: Any) -> dict[str, Any]:
        return {"Resources": {"M": {"Type": "T", "Properties": {"Definition": {"Fn::Join": ["", list(parts)]}}}}}

    token = {"Ref": "Queue"}
    reference = machine('{"a":1,"q":"', token, '"}')
    # the same document with its keys in another order is the same resource; another value or token is not
    assert bench.differing_resources(reference, machine('{"q":"', token, '","a":1}')) == []
    assert bench.differing_resources(reference, machine('{"a":2,"q":"', token, '"}')) == ["M"]
    assert bench.differing_resources(reference, machine('{"a":1,"q":"', {"Ref": "Other"}, '"}')) == ["M"]


def test_grid_fit_recovers_costs_per_job_and_per_queue() -> None:
    rows = [[1.0, float(j), float(q)] for j, q in bench.GRID]
    values = [2.0 + 0.05 * j + 0.1 * q for j, q in bench.GRID]
    base, per_job, per_queue = bench.solve_linear(rows, values)
    assert (round(base, 6), round(per_job, 6), round(per_queue, 6)) == (2.0, 0.05, 0.1)
