"""What batch_constructs costs at synth time, and how it scales: ``make bench`` (or ``python benchmarks/run.py``).

One run measures, each synthesis in a new Python process (what a user pays on every ``cdk synth`` and in every test
process: Python start-up, the jsii kernel, the constructs, the synthesis):

1. the floor: an empty CDK app;
2. the movies importer built with batch_constructs (``apps/movies_importer``) against the same resources written on
   the aws-cdk-lib L2 (``benchmarks/movies_l2.py``), in interleaved pairs; the two templates must be identical,
   resource by resource and section by section (the run stops otherwise);
3. scale: one stack with 10, 50 and 100 job definitions over 5, 10 and 20 queues (``--grid``: all nine combinations);
4. the wall time of the whole test suite (pytest, once).

It reports medians over the repetitions and ratios of medians, prints the report and writes it to ``BENCHMARKS.md``.
``--quick`` (one repetition, the smallest scale point, no test suite, no file unless ``--output``) is what the smoke
test runs. The script needs no AWS credentials: every stack is environment-agnostic.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import datetime
import functools
import importlib.metadata
import itertools
import json
import os
import pathlib
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

ROOT: Final = pathlib.Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # for ``apps`` and ``benchmarks`` when run as a script

SCRIPT: Final = pathlib.Path(__file__).resolve()
DEFAULT_REPETITIONS: Final = 7
#: Targets of issues 14 (the library no slower than the L2 in new processes, at most 1.2x in one warm process) and 18
#: (the test suite within 60 s on a 2-core machine).
RATIO_TARGET: Final = 1.00
WARM_RATIO_TARGET: Final = 1.2
TEST_SUITE_TARGET_S: Final = 60.0
#: The keys of :func:`report`'s verdicts.
RATIO_KEY: Final = f"overhead ratio <= {RATIO_TARGET}"
WARM_RATIO_KEY: Final = f"warm ratio <= {WARM_RATIO_TARGET}"
SUITE_KEY: Final = f"test suite < {TEST_SUITE_TARGET_S:.0f} s"
#: Growth counts as linear when the last segment's cost per resource is at most this times the first segment's.
LINEARITY_TOLERANCE: Final = 1.25

#: Scale points (jobs, queues) of a default run, and of ``--grid``.
POINTS: Final = ((10, 5), (50, 10), (100, 20))
GRID: Final = tuple((jobs, queues) for jobs in (10, 50, 100) for queues in (5, 10, 20))

FLOOR, LIBRARY, L2, SCALE, WARM, WARM_SCALE = "floor", "library", "l2", "scale", "warm", "warm-scale"
CASES: Final = (FLOOR, LIBRARY, L2, SCALE, WARM, WARM_SCALE)
#: The floor again with aws-cdk-lib's built-in CloudFormation validation off (``CDK_VALIDATION=false``), to show what
#: part of the floor that validation's engine takes (the project keeps it on: it is how cfn errors fail the synth).
FLOOR_NO_VALIDATION: Final = "floor, CDK_VALIDATION=false"
MOVIES_STACK: Final = "MoviesImporter"
SCALE_STACK: Final = "Scale"


class BenchmarkError(RuntimeError):
    """A child synthesis failed, or the two movies templates are not identical."""


# ---------------------------------------------------------------------------------------------------------------------
# The child process: one synthesis, phases timed inside, one JSON line on stdout.
# ---------------------------------------------------------------------------------------------------------------------


def child(case: str, outdir: str, jobs: int, queues: int) -> dict[str, float]:
    """Synthesize one case into ``outdir``; return the phases' durations in seconds."""
    start = time.perf_counter()
    import aws_cdk as cdk

    jsii_loaded = time.perf_counter()
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    if case == LIBRARY:
        from apps.movies_importer import add_to as add_library
    elif case == L2:
        from benchmarks.movies_l2 import add_to as add_l2
    elif case == SCALE:
        from benchmarks.scale import add_to as add_scale
    elif case != FLOOR:
        raise BenchmarkError(f"unknown case {case!r}")
    modules_loaded = time.perf_counter()
    # ``CDK_VALIDATION=false`` (the quick mode's children) is read from the environment here as well as by aws-cdk-lib
    # when its kernel starts, so that a child run inside an already running process (the smoke test) honours it too.
    validation = os.environ.get("CDK_VALIDATION", "").lower() != "false"
    app = cdk.App(context=context, outdir=outdir, builtin_cloud_formation_validation=validation)
    if case == LIBRARY:
        add_library(app)
    elif case == L2:
        add_l2(app)
    elif case == SCALE:
        add_scale(app, jobs=jobs, queues=queues)
    built = time.perf_counter()
    app.synth()
    done = time.perf_counter()
    return {
        "jsii_s": jsii_loaded - start,
        "modules_s": modules_loaded - jsii_loaded,
        "build_s": built - modules_loaded,
        "synth_s": done - built,
    }


class _CallCounter:
    """Counts the requests Python sends to the jsii kernel (one Node round trip each).

    Wraps ``jsii``'s process provider (``_NodeProcess.send``, jsii 1.x, pinned in constraints.txt); when that is
    missing the counts are simply not reported.
    """

    def __init__(self) -> None:
        self.count = 0
        self.available = False
        try:
            from jsii._kernel.providers import process as provider
        except ImportError:
            return
        node_process = getattr(provider, "_NodeProcess", None)
        original = getattr(node_process, "send", None)
        if node_process is None or original is None:
            return
        counter = self

        def send(self: Any, request: Any, response_type: Any) -> Any:
            counter.count += 1
            return original(self, request, response_type)

        node_process.send = send
        self.available = True


def point_name(jobs: int, queues: int) -> str:
    return f"{jobs}x{queues}"


def parse_point(text: str) -> tuple[int, int]:
    jobs, queues = text.split("x")
    return int(jobs), int(queues)


def tree_cpu_seconds() -> float | None:
    """CPU seconds (user + system) of this process and its live descendants (the jsii kernel's Node processes), read
    from ``/proc``; None where there is no ``/proc``. Resolution: one clock tick (10 ms)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [os.getpid()]
    try:
        while pending:
            pid = pending.pop()
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
            for task in pathlib.Path(f"/proc/{pid}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    except (OSError, ValueError, IndexError):
        return None
    return total


def warm_child(case: str, repetitions: int, outdir: str, points: Sequence[tuple[int, int]] = ()) -> dict[str, Any]:
    """Several apps built and synthesized in turn in ONE process (as in a test session), after one untimed round:
    what each costs once Python and Node are warm, without start-up noise, and the jsii requests each sends.

    ``WARM``: the two movies versions, alternately. ``WARM_SCALE``: the scale ``points``, in rotating order.
    """
    counter = _CallCounter()
    import aws_cdk as cdk

    builders: dict[str, Callable[[cdk.App], object]] = {}
    if case == WARM:
        from apps.movies_importer import add_to as add_library
        from benchmarks.movies_l2 import add_to as add_l2

        builders = {LIBRARY: add_library, L2: add_l2}
    else:
        from benchmarks.scale import add_to as add_scale

        for jobs, queues in points:
            builders[point_name(jobs, queues)] = functools.partial(add_scale, jobs=jobs, queues=queues)
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    names = list(builders)
    results: dict[str, Any] = {name: {"build_s": [], "synth_s": [], "cpu_s": [], "calls": []} for name in names}
    for rep in range(repetitions + 1):
        shift = rep % len(names)
        for name in names[shift:] + names[:shift]:
            app = cdk.App(context=context, outdir=str(pathlib.Path(outdir) / f"{name}-{rep}"))
            calls = counter.count
            cpu = tree_cpu_seconds()
            start = time.perf_counter()
            builders[name](app)
            built = time.perf_counter()
            app.synth()
            done = time.perf_counter()
            cpu_done = tree_cpu_seconds()
            if rep > 0:  # the first round loads modules and warms both Python and Node
                results[name]["build_s"].append(built - start)
                results[name]["synth_s"].append(done - built)
                results[name]["cpu_s"].append(None if cpu is None or cpu_done is None else cpu_done - cpu)
                results[name]["calls"].append(counter.count - calls if counter.available else None)
    return results


# ---------------------------------------------------------------------------------------------------------------------
# The parent: runs children, collects wall and CPU times.
# ---------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Run:
    """One child process: wall time seen by the parent, CPU time (user + system, with its node processes)."""

    case: str
    wall_s: float
    cpu_s: float
    max_rss_mb: float
    phases: dict[str, Any]
    outdir: pathlib.Path
    jobs: int = 0
    queues: int = 0


def child_env() -> dict[str, str]:
    """The environment ``make`` gives: the pinned Node and the venv first on PATH (no jsii end-of-life banner).

    Bytecode caching is left on (as for a user), so the children do not recompile the library each time.
    """
    env = dict(os.environ)
    first = [ROOT / "node_modules" / ".bin", ROOT / ".venv" / "bin"]
    env["PATH"] = os.pathsep.join([str(p) for p in first if p.is_dir()] + [env.get("PATH", "")])
    for name in ("CDK_OUTDIR", "CDK_CONTEXT_JSON", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    return env


class Runner:
    """Runs child syntheses in new processes, each into its own directory under ``workdir``."""

    def __init__(self, workdir: pathlib.Path, *, verbose: bool = True) -> None:
        self.workdir = workdir
        self.env = child_env()
        self.verbose = verbose
        self._count = 0

    def run(
        self,
        case: str,
        *,
        jobs: int = 0,
        queues: int = 0,
        repetitions: int = 0,
        label: str = "",
        name: str | None = None,
        env: dict[str, str] | None = None,
        points: Sequence[tuple[int, int]] = (),
    ) -> Run:
        """Run ``--child case`` in a new process; ``name`` (default: the case) labels it, ``env`` adds variables."""
        self._count += 1
        name = name or case
        outdir = self.workdir / f"{self._count:03d}-{name}"
        outdir.mkdir()
        command = [sys.executable, str(SCRIPT), "--child", case, "--outdir", str(outdir)]
        command += ["--jobs", str(jobs), "--queues", str(queues), "--repetitions", str(repetitions)]
        if points:
            command += ["--points", ",".join(point_name(j, q) for j, q in points)]
        stdout_path, stderr_path = outdir.with_suffix(".out"), outdir.with_suffix(".err")
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            start = time.perf_counter()
            process = subprocess.Popen(command, cwd=ROOT, env={**self.env, **(env or {})}, stdout=stdout, stderr=stderr)
            _, status, usage = os.wait4(process.pid, 0)
            wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            tail = stderr_path.read_text(errors="replace")[-4000:]
            raise BenchmarkError(f"the {name} synthesis failed (exit {process.returncode}):\n{tail}")
        lines = stdout_path.read_text().strip().splitlines()
        run = Run(
            case=name,
            wall_s=wall,
            cpu_s=usage.ru_utime + usage.ru_stime,
            max_rss_mb=usage.ru_maxrss / 1024,
            phases=json.loads(lines[-1]),
            outdir=outdir,
            jobs=jobs,
            queues=queues,
        )
        if self.verbose:
            shown = f"{name} {jobs} jobs/{queues} queues" if case == SCALE else name
            print(f"  {label}{shown}: {wall:.2f} s wall, {run.cpu_s:.2f} s CPU", file=sys.stderr, flush=True)
        return run


# ---------------------------------------------------------------------------------------------------------------------
# Templates: resource counts by type, and a property comparison of the two movies templates.
# ---------------------------------------------------------------------------------------------------------------------


def template_path(run: Run, stack_name: str) -> pathlib.Path:
    return run.outdir / f"{stack_name}.template.json"


def load_template(run: Run, stack_name: str) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(template_path(run, stack_name).read_text())
    return template


def counts_by_type(template: dict[str, Any]) -> collections.Counter[str]:
    return collections.Counter(resource["Type"] for resource in template.get("Resources", {}).values())


def _normalize(value: Any) -> Any:
    """Compare JSON documents embedded in ``Fn::Join`` strings (state machine definitions) by content, not key order."""
    if isinstance(value, dict):
        join = value.get("Fn::Join")
        if len(value) == 1 and isinstance(join, list) and len(join) == 2 and join[0] == "":
            parts = join[1]
            tokens: list[Any] = []
            text = ""
            for part in parts:
                if isinstance(part, str):
                    text += part
                else:
                    text += f"@@{len(tokens)}@@"
                    tokens.append(_normalize(part))
            if text.startswith("{"):
                try:
                    return {"Fn::Join(json)": json.loads(text), "tokens": tokens}
                except json.JSONDecodeError:
                    pass
        return {key: _normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    return value


def differing_resources(library: dict[str, Any], l2: dict[str, Any]) -> list[str]:
    """Logical ids whose resource differs between the two templates (or exists in one only)."""
    left, right = library.get("Resources", {}), l2.get("Resources", {})
    return sorted(
        logical_id
        for logical_id in set(left) | set(right)
        if _normalize(left.get(logical_id)) != _normalize(right.get(logical_id))
    )


def count_table(library: collections.Counter[str], l2: collections.Counter[str]) -> list[str]:
    rows = ["| Resource type | batch_constructs | L2 |", "|---|---:|---:|"]
    for kind in sorted(set(library) | set(l2)):
        mark = "" if library[kind] == l2[kind] else " **differs**"
        rows.append(f"| {kind}{mark} | {library[kind]} | {l2[kind]} |")
    rows.append(f"| **total** | **{sum(library.values())}** | **{sum(l2.values())}** |")
    return rows


# ---------------------------------------------------------------------------------------------------------------------
# Statistics and formatting.
# ---------------------------------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def seconds(value: float) -> str:
    return f"{value:.2f} s"


def spread(values: Sequence[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}" if values else "-"


def solve_linear(rows: Sequence[Sequence[float]], values: Sequence[float]) -> list[float]:
    """Least squares for a small system (normal equations, Gaussian elimination): coefficients of ``rows`` @ x."""
    n = len(rows[0])
    a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] for i in range(n)]
    b = [sum(r[i] * v for r, v in zip(rows, values, strict=True)) for i in range(n)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda k: abs(a[k][col]))
        a[col], a[pivot] = a[pivot], a[col]
        b[col], b[pivot] = b[pivot], b[col]
        for k in range(col + 1, n):
            factor = a[k][col] / a[col][col]
            a[k] = [x - factor * y for x, y in zip(a[k], a[col], strict=True)]
            b[k] -= factor * b[col]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (b[i] - sum(a[i][j] * x[j] for j in range(i + 1, n))) / a[i][i]
    return x


# ---------------------------------------------------------------------------------------------------------------------
# Machine, test suite.
# ---------------------------------------------------------------------------------------------------------------------


def _command_output(command: Sequence[str], env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.SubprocessError):
        return ""
    return done.stdout.strip()


def _version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def machine_info(env: dict[str, str]) -> dict[str, str]:
    cpu = ""
    cpuinfo = pathlib.Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else ""
    memory = ""
    meminfo = pathlib.Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        memory = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else ""
    commit = _command_output(["git", "rev-parse", "--short", "HEAD"]) or "unknown"
    if _command_output(["git", "status", "--porcelain", "--untracked-files=no"]):
        commit += " plus uncommitted changes in the working tree"
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": commit,
        "nproc": str(os.cpu_count()),
        "cpu": cpu or platform.processor() or "unknown",
        "memory": memory or "unknown",
        "os": platform.platform(),
        "python": platform.python_version(),
        "node": _command_output(["node", "--version"], env) or "not found",
        "aws-cdk-lib": _version("aws-cdk-lib"),
        "constructs": _version("constructs"),
        "jsii": _version("jsii"),
        "load average at start (1/5/15 min)": load,
    }


@dataclasses.dataclass(frozen=True)
class SuiteResult:
    wall_s: float
    cpu_s: float
    exit_code: int
    summary: str
    pytest_s: float | None
    slowest: list[str]


def run_test_suite(env: dict[str, str]) -> SuiteResult:
    """The whole test suite, once: what ``make unit`` runs (pytest from the venv, options from pyproject.toml), plus
    pytest's ten slowest steps."""
    command = [sys.executable, "-m", "pytest", "--durations=10"]
    print("  test suite (pytest, once) ...", file=sys.stderr, flush=True)
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    lines = text.strip().splitlines()
    summary = next((line.strip("= ") for line in reversed(lines) if re.search(r"\bin [\d.]+s\b", line)), "")
    match = re.search(r"\bin ([\d.]+)s\b", summary)
    slowest = [" ".join(line.split()) for line in lines if re.match(r"^\s*[\d.]+s (call|setup|teardown)\s+\S+", line)]
    print(f"  test suite: {wall:.1f} s wall ({summary})", file=sys.stderr, flush=True)
    return SuiteResult(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        exit_code=process.returncode,
        summary=summary,
        pytest_s=float(match.group(1)) if match else None,
        slowest=slowest[:10],
    )


# ---------------------------------------------------------------------------------------------------------------------
# The benchmark.
# ---------------------------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Results:
    repetitions: int
    quick: bool
    grid: bool
    machine: dict[str, str]
    floor: list[Run] = dataclasses.field(default_factory=list)
    floor_no_validation: list[Run] = dataclasses.field(default_factory=list)
    warm: dict[str, Any] = dataclasses.field(default_factory=dict)
    warm_scale: dict[tuple[int, int], dict[str, Any]] = dataclasses.field(default_factory=dict)
    library: list[Run] = dataclasses.field(default_factory=list)
    l2: list[Run] = dataclasses.field(default_factory=list)
    scale: dict[tuple[int, int], list[Run]] = dataclasses.field(default_factory=dict)
    library_counts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    l2_counts: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    differing: list[str] = dataclasses.field(default_factory=list)
    suite: SuiteResult | None = None
    load_at_end: str = ""


def differing_sections(library: dict[str, Any], l2: dict[str, Any]) -> list[str]:
    """Top-level template sections other than ``Resources`` (``Outputs``, ``Parameters``, ``Rules``...) that differ."""
    return sorted(
        section
        for section in set(library) | set(l2)
        if section != "Resources" and _normalize(library.get(section)) != _normalize(l2.get(section))
    )


def check_resource_sets(results: Results) -> None:
    """The two movies templates must be the same, resource by resource and section by section; stop loudly otherwise.

    A baseline that builds less than the library (a grant, a condition, a retention policy the library gained later)
    would make the comparison one of unequal work, so any difference stops the run instead of being measured.
    """
    library = load_template(results.library[0], MOVIES_STACK)
    l2 = load_template(results.l2[0], MOVIES_STACK)
    results.library_counts, results.l2_counts = counts_by_type(library), counts_by_type(l2)
    results.differing = differing_resources(library, l2)
    if results.library_counts != results.l2_counts:
        table = "\n".join(count_table(results.library_counts, results.l2_counts))
        raise BenchmarkError(
            "RESOURCE SETS DIFFER: benchmarks/movies_l2.py no longer builds the same resources as "
            f"apps/movies_importer, so the comparison would be meaningless. Update movies_l2.py.\n{table}"
        )
    sections = differing_sections(library, l2)
    if results.differing or sections:
        raise BenchmarkError(
            "TEMPLATES DIFFER: benchmarks/movies_l2.py no longer builds the same template as apps/movies_importer, "
            "so the comparison would be one of unequal work. Update movies_l2.py to match: "
            + "; ".join(
                part
                for part in (
                    f"resources {', '.join(results.differing)}" if results.differing else "",
                    f"sections {', '.join(sections)}" if sections else "",
                )
                if part
            )
        )


def benchmark(
    *, repetitions: int, quick: bool, grid: bool, test_suite: bool, workdir: pathlib.Path, verbose: bool = True
) -> Results:
    runner = Runner(workdir, verbose=verbose)
    results = Results(repetitions=repetitions, quick=quick, grid=grid, machine=machine_info(runner.env))
    if quick:
        # A smoke check of the script, not a measurement: without the CloudFormation validation engine each child
        # starts about 2 s sooner (see the floor section of a full run).
        runner.env["CDK_VALIDATION"] = "false"
    points = POINTS[:1] if quick else (GRID if grid else POINTS)
    if not quick:
        # Not measured: writes the bytecode caches and warms the file cache, so that run 1 is like run 7.
        print("warm-up (not measured)", file=sys.stderr, flush=True)
        for case in (FLOOR, LIBRARY, L2):
            runner.run(case)
        runner.run(SCALE, jobs=points[0][0], queues=points[0][1])

    print(f"floor and movies importer, {repetitions} interleaved repetitions", file=sys.stderr, flush=True)
    for rep in range(repetitions):
        label = f"[{rep + 1}/{repetitions}] "
        results.floor.append(runner.run(FLOOR, label=label))
        if not quick:
            no_validation = {"CDK_VALIDATION": "false"}
            results.floor_no_validation.append(
                runner.run(FLOOR, label=label, name=FLOOR_NO_VALIDATION, env=no_validation)
            )
        # Pairs alternate their order (A B, B A, ...) so neither version always runs first.
        order = (LIBRARY, L2) if rep % 2 == 0 else (L2, LIBRARY)
        for case in order:
            (results.library if case == LIBRARY else results.l2).append(runner.run(case, label=label))
        if rep == 0:
            check_resource_sets(results)

    if not quick:
        print("movies importer, both versions in one warm process", file=sys.stderr, flush=True)
        results.warm = runner.run(WARM, repetitions=repetitions, label="[1/1] ").phases

    print(f"scale, {len(points)} points, {repetitions} repetitions each", file=sys.stderr, flush=True)
    for rep in range(repetitions):
        # Points rotate too, so that load drift during the run spreads over all of them.
        rotated = points[rep % len(points) :] + points[: rep % len(points)]
        for jobs, queues in rotated:
            run = runner.run(SCALE, jobs=jobs, queues=queues, label=f"[{rep + 1}/{repetitions}] ")
            results.scale.setdefault((jobs, queues), []).append(run)
    results.scale = dict(sorted(results.scale.items()))
    if not quick:
        print(f"scale, {len(points)} points in one warm process", file=sys.stderr, flush=True)
        warm = runner.run(WARM_SCALE, repetitions=repetitions, points=points, label="[1/1] ").phases
        results.warm_scale = {parse_point(name): values for name, values in warm.items()}

    if test_suite:
        results.suite = run_test_suite(runner.env)
    results.load_at_end = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    return results


# ---------------------------------------------------------------------------------------------------------------------
# The report.
# ---------------------------------------------------------------------------------------------------------------------


def _phase(runs: Sequence[Run], name: str) -> float:
    return median([r.phases[name] for r in runs])


def _pair_ratios(results: Results, metric: str) -> list[float]:
    return [getattr(a, metric) / getattr(b, metric) for a, b in zip(results.library, results.l2, strict=True)]


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else ("met" if met else "**missed**")


def report(results: Results) -> tuple[str, dict[str, bool | None]]:
    """The report as Markdown, and whether each target was met (None: not measured in this run)."""
    out: list[str] = []
    targets: dict[str, bool | None] = {}
    n = results.repetitions
    lib_wall, lib_cpu = median([r.wall_s for r in results.library]), median([r.cpu_s for r in results.library])
    l2_wall, l2_cpu = median([r.wall_s for r in results.l2]), median([r.cpu_s for r in results.l2])
    wall_ratio = median(_pair_ratios(results, "wall_s"))
    cpu_ratio = median(_pair_ratios(results, "cpu_s"))

    out += [
        "# Benchmarks",
        "",
        *(
            [
                "**Quick mode: a check that the script runs, not a measurement** (one repetition, the smallest scale "
                "point, no test suite, aws-cdk-lib's CloudFormation validation off with `CDK_VALIDATION=false`).",
                "",
            ]
            if results.quick
            else []
        ),
        "Written by `make bench` (`benchmarks/run.py`"
        + (" --quick" if results.quick else "")
        + (" --grid" if results.grid else "")
        + f"). Every number below comes from this one run: medians over {n} repetition"
        + ("s" if n != 1 else "")
        + ", each synthesis in a new Python process (Python start-up, jsii kernel, constructs, synthesis: what a "
        "user pays for each `cdk synth` and each test process). No cdk-nag packs are registered in these runs.",
        "",
        "**Read the ratios, not the seconds.** The machine is shared (up to eight agents running tests on two cores "
        "during the run; see the load average), so absolute times are inflated and noisy. The comparison is fair "
        "because the runs are interleaved (floor, then the two versions in alternating order, repetition after "
        "repetition; scale points in rotating order), so load changes hit every case alike, and because medians and "
        "ratios of medians discard the outliers. CPU time (user + system of the Python process and its Node "
        "processes) is reported next to wall time: it depends much less on the load.",
        "",
        "## Machine",
        "",
        "| | |",
        "|---|---|",
        *[f"| {key} | {value} |" for key, value in results.machine.items()],
        f"| load average at end | {results.load_at_end} |",
        "",
        "## 1. Floor: an empty CDK app",
        "",
        "`cdk.App(context=<cdk.json>)` and `app.synth()`, nothing else.",
        "",
        *_floor_table(results),
        "",
        "## 2. Movies importer: batch_constructs against the same resources on the L2",
        "",
        "`apps/movies_importer` (batch_constructs) against `benchmarks/movies_l2.py` (aws-cdk-lib only, written as a "
        "careful L2 user would to get the same template: exact IAM in managed policies, queue time limits, "
        "Spot-aware retries, key policy, state timeout).",
        "",
        "| | batch_constructs | L2 | ratio (median of pair ratios) |",
        "|---|---:|---:|---:|",
        f"| wall, median | {seconds(lib_wall)} | {seconds(l2_wall)} | **{wall_ratio:.3f}** |",
        f"| wall, min-max | {spread([r.wall_s for r in results.library])} | {spread([r.wall_s for r in results.l2])} "
        "| |",
        f"| CPU, median | {seconds(lib_cpu)} | {seconds(l2_cpu)} | {cpu_ratio:.3f} |",
        *[_above_floor_row(results, metric) for metric in ("wall_s", "cpu_s")],
    ]
    for name, title in (
        ("jsii_s", "in process: `import aws_cdk`"),
        ("modules_s", "in process: import the app's modules"),
        ("build_s", "in process: build the construct tree"),
        ("synth_s", "in process: `app.synth()`"),
    ):
        lib, l2 = _phase(results.library, name), _phase(results.l2, name)
        out.append(f"| {title} | {seconds(lib)} | {seconds(l2)} | {_safe_ratio(lib, l2)} |")
    out += [
        f"| ratio of the medians (wall; drifts with the load, the pair ratios above do not) | | | "
        f"{lib_wall / l2_wall:.3f} |",
        f"| peak memory (largest process) | {median([r.max_rss_mb for r in results.library]):.0f} MB | "
        f"{median([r.max_rss_mb for r in results.l2]):.0f} MB | |",
        "",
        "The same template, checked on every run: the script stops unless the two templates are identical, "
        f"all {sum(results.library_counts.values())} resources with their properties and every other section "
        "(JSON inside state machine definitions compared by content, not key order).",
        "",
        *count_table(results.library_counts, results.l2_counts),
        "",
        *_warm_table(results),
    ]
    targets[RATIO_KEY] = wall_ratio <= RATIO_TARGET
    if results.warm:
        warm_library, warm_l2 = _warm_median(results.warm[LIBRARY], "wall"), _warm_median(results.warm[L2], "wall")
        if warm_library is not None and warm_l2:
            targets[WARM_RATIO_KEY] = warm_library / warm_l2 <= WARM_RATIO_TARGET

    out += _scale_report(results, targets)
    out += _suite_report(results, targets)

    out += [
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        f"| batch_constructs / L2 wall ratio <= {RATIO_TARGET} (new processes, median of pair ratios) | "
        f"{wall_ratio:.3f} (CPU {cpu_ratio:.3f}; above the floor {_above_floor_ratio(results)}) | "
        f"{_verdict(targets[RATIO_KEY])} |",
        f"| the same in one warm process, build + synth, <= {WARM_RATIO_TARGET} | {_warm_ratio(results)} | "
        f"{_verdict(targets.get(WARM_RATIO_KEY))} |",
        f"| linear growth with job definitions | {_linearity_text(results)} | "
        f"{_verdict(targets.get('linear growth'))} |",
        f"| test suite < {TEST_SUITE_TARGET_S:.0f} s (pytest wall) | "
        + (f"{results.suite.wall_s:.1f} s" if results.suite else "not run")
        + f" | {_verdict(targets.get(SUITE_KEY))} |",
        "",
    ]
    if not results.quick:
        out += [NOTES.strip(), ""]
    return "\n".join(out), targets


def _warm_values(entry: dict[str, Any] | None, metric: str) -> list[float] | None:
    """One app's warm samples: ``"wall"`` (build + synth) or ``"cpu"`` (Python and Node), None if not measured."""
    if not entry:
        return None
    if metric == "wall":
        return [b + s for b, s in zip(entry["build_s"], entry["synth_s"], strict=True)]
    cpu = entry.get("cpu_s") or []
    return None if not cpu or any(v is None for v in cpu) else [float(v) for v in cpu]


def _warm_median(entry: dict[str, Any] | None, metric: str) -> float | None:
    values = _warm_values(entry, metric)
    return median(values) if values else None


def _warm_ratio(results: Results) -> str:
    if not results.warm:
        return "not measured (`--quick`)"
    parts = []
    for metric in ("wall", "cpu"):
        a, b = _warm_median(results.warm[LIBRARY], metric), _warm_median(results.warm[L2], metric)
        if a is not None and b is not None:
            parts.append(_safe_ratio(a, b) if metric == "wall" else f"CPU {_safe_ratio(a, b)}")
    return parts[0] + (f" ({parts[1]})" if len(parts) > 1 else "") if parts else "-"


def _above_floor_ratio(results: Results) -> str:
    ratios = [
        (a.wall_s - f.wall_s) / (b.wall_s - f.wall_s)
        for f, a, b in zip(results.floor, results.library, results.l2, strict=True)
        if b.wall_s > f.wall_s
    ]
    return f"{median(ratios):.3f}" if ratios else "-"


def _above_floor_row(results: Results, metric: str) -> str:
    """Each run minus the floor of its own repetition (so load drift cancels), medians and the median ratio."""
    lib, l2, ratios = [], [], []
    for floor, a, b in zip(results.floor, results.library, results.l2, strict=True):
        base = getattr(floor, metric)
        lib.append(getattr(a, metric) - base)
        l2.append(getattr(b, metric) - base)
        if l2[-1] > 0:
            ratios.append(lib[-1] / l2[-1])
    title = "wall" if metric == "wall_s" else "CPU"
    ratio = f"{median(ratios):.3f}" if ratios else "-"
    return f"| {title} above the floor (same repetition) | {seconds(median(lib))} | {seconds(median(l2))} | {ratio} |"


def _floor_table(results: Results) -> list[str]:
    columns = [("empty app", results.floor)]
    if results.floor_no_validation:
        columns.append(("empty app, `CDK_VALIDATION=false`", results.floor_no_validation))
    rows = [
        "| | " + " | ".join(title for title, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]

    def row(title: str, value: Callable[[list[Run]], str]) -> str:
        return f"| {title} | " + " | ".join(value(runs) for _, runs in columns) + " |"

    rows += [
        row("wall, median", lambda runs: seconds(median([r.wall_s for r in runs]))),
        row("wall, min-max", lambda runs: spread([r.wall_s for r in runs])),
        row("CPU, median", lambda runs: seconds(median([r.cpu_s for r in runs]))),
        row("in process: `import aws_cdk` (jsii kernel and assembly)", lambda runs: seconds(_phase(runs, "jsii_s"))),
        row("in process: `app.synth()`", lambda runs: seconds(_phase(runs, "synth_s"))),
        row("peak memory (largest process)", lambda runs: f"{median([r.max_rss_mb for r in runs]):.0f} MB"),
    ]
    if results.floor_no_validation:
        rows += [
            "",
            "aws-cdk-lib 2.275 validates every synthesized template against CloudFormation rules with a WebAssembly "
            "engine that it starts once per process, even for an app without stacks; the second column shows the "
            "floor without it (`CDK_VALIDATION=false`; the project keeps it on: it is what fails a synth on "
            "CloudFormation errors, with `@aws-cdk/core:validateAgainstDefaultRules`).",
        ]
    return rows


def _warm_table(results: Results) -> list[str]:
    warm = results.warm
    if not warm:
        return []
    lib, l2 = warm[LIBRARY], warm[L2]
    rounds = len(lib["build_s"])
    lines = [
        f"Both versions again, alternately in ONE process ({rounds} round{'s' if rounds != 1 else ''} after an untimed "
        "one): what each further synthesis costs once Python and Node are warm, as in a test session, and the "
        "requests each version sends to the jsii kernel (each one a round trip to Node; counted, not timed):",
        "",
        "| | batch_constructs | L2 | ratio |",
        "|---|---:|---:|---:|",
    ]
    for key, title in (("build_s", "build the construct tree"), ("synth_s", "`app.synth()`")):
        lines.append(_ratio_row(f"{title}, median", median(lib[key]), median(l2[key])))
    lines.append(_ratio_row("build + synth, median", _warm_median(lib, "wall"), _warm_median(l2, "wall"), bold=True))
    cpu_a, cpu_b = _warm_median(lib, "cpu"), _warm_median(l2, "cpu")
    if cpu_a is not None and cpu_b is not None:
        lines.append(_ratio_row("CPU of build + synth (Python and Node), median", cpu_a, cpu_b))
    calls_a, calls_b = lib["calls"][0], l2["calls"][0]
    if calls_a is not None and calls_b is not None:
        lines.append(f"| jsii requests per app | {calls_a} | {calls_b} | {_safe_ratio(calls_a, calls_b)} |")
    return [*lines, ""]


def _ratio_row(title: str, a: float | None, b: float | None, *, bold: bool = False) -> str:
    if a is None or b is None:
        return f"| {title} | - | - | - |"
    ratio = _safe_ratio(a, b)
    return f"| {title} | {seconds(a)} | {seconds(b)} | {f'**{ratio}**' if bold else ratio} |"


def _safe_ratio(a: float, b: float) -> str:
    return f"{a / b:.3f}" if b > 0 else "-"


def _warm_total(results: Results, point: tuple[int, int], metric: str = "wall") -> float | None:
    """Median build + synth of one scale point in the warm process (``"wall"`` or ``"cpu"``), or None."""
    return _warm_median(results.warm_scale.get(point), metric)


def _warm_calls(results: Results, point: tuple[int, int]) -> int | None:
    warm = results.warm_scale.get(point)
    calls: int | None = warm["calls"][0] if warm else None
    return calls


def _scale_size(results: Results, point: tuple[int, int]) -> tuple[int, int]:
    """Resources and template bytes of one scale point."""
    run = results.scale[point][0]
    return sum(counts_by_type(load_template(run, SCALE_STACK)).values()), template_path(run, SCALE_STACK).stat().st_size


def _segments(results: Results) -> list[tuple[tuple[int, int], tuple[int, int], dict[str, float | None]]]:
    """Consecutive default points (by jobs): what each added job and each added resource cost."""
    points = [p for p in POINTS if p in results.scale]
    segments: list[tuple[tuple[int, int], tuple[int, int], dict[str, float | None]]] = []
    for a, b in itertools.pairwise(points):
        (resources_a, bytes_a), (resources_b, bytes_b) = _scale_size(results, a), _scale_size(results, b)
        jobs, resources = b[0] - a[0], resources_b - resources_a
        wall = median([r.wall_s for r in results.scale[b]]) - median([r.wall_s for r in results.scale[a]])
        cpu = median([r.cpu_s for r in results.scale[b]]) - median([r.cpu_s for r in results.scale[a]])
        warm_a, warm_b = _warm_total(results, a), _warm_total(results, b)
        warm = warm_b - warm_a if warm_a is not None and warm_b is not None else None
        warm_cpu_a, warm_cpu_b = _warm_total(results, a, "cpu"), _warm_total(results, b, "cpu")
        warm_cpu = warm_cpu_b - warm_cpu_a if warm_cpu_a is not None and warm_cpu_b is not None else None
        calls_a, calls_b = _warm_calls(results, a), _warm_calls(results, b)
        segments.append(
            (
                a,
                b,
                {
                    "resources_per_job": resources / jobs,
                    "bytes_per_job": (bytes_b - bytes_a) / jobs,
                    "wall_ms_per_job": 1000 * wall / jobs,
                    "cpu_ms_per_job": 1000 * cpu / jobs,
                    "warm_ms_per_job": None if warm is None else 1000 * warm / jobs,
                    "warm_ms_per_resource": None if warm is None else 1000 * warm / resources,
                    "warm_cpu_ms_per_job": None if warm_cpu is None else 1000 * warm_cpu / jobs,
                    "warm_cpu_ms_per_resource": None if warm_cpu is None else 1000 * warm_cpu / resources,
                    "cpu_ms_per_resource": 1000 * cpu / resources,
                    "calls_per_job": None if calls_a is None or calls_b is None else (calls_b - calls_a) / jobs,
                },
            )
        )
    return segments


def _linearity(results: Results) -> tuple[str, float, float, str] | None:
    """(metric, first segment, last segment, unit) of the linearity check, or None without three points."""
    segments = _segments(results)
    if len(segments) < 2:
        return None
    first, last = segments[0][2], segments[-1][2]
    for key, metric in (
        ("warm_cpu_ms_per_resource", "warm build + synth CPU per added resource"),
        ("warm_ms_per_resource", "warm build + synth wall time per added resource"),
    ):
        warm_first, warm_last = first[key], last[key]
        if warm_first is not None and warm_last is not None:
            return metric, warm_first, warm_last, "ms"
    cpu_first, cpu_last = first["cpu_ms_per_resource"], last["cpu_ms_per_resource"]
    assert cpu_first is not None and cpu_last is not None
    return "CPU per added resource (new processes)", cpu_first, cpu_last, "ms"


def _linearity_text(results: Results) -> str:
    check = _linearity(results)
    if check is None:
        return "needs three scale points (not in --quick)"
    metric, first, last, unit = check
    return f"{metric}: {first:.1f} {unit} (first segment), {last:.1f} {unit} (last): x{last / first:.2f}"


def _optional(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _scale_report(results: Results, targets: dict[str, bool | None]) -> list[str]:
    which = "the full 3x3 grid" if results.grid else ", ".join(f"({j} jobs, {q} queues)" for j, q in results.scale)
    out = [
        "## 3. Scale: job definitions and queues in one stack",
        "",
        f"Points: {which}. `benchmarks/scale.py`: one network, a Fargate Spot and a Fargate environment shared by "
        "every queue, the jobs spread over the queues round-robin, one job role and one execution role per queue "
        "(with the default two roles per job, a stack passes CloudFormation's 500 resources at about 90 jobs). "
        "Each point is synthesized in new processes (wall, CPU: what one `cdk synth` of that stack costs) and again "
        "in one warm process (build + synth without start-up, wall and CPU of Python and Node: much less noisy, so "
        "the growth is judged on the warm CPU).",
        "",
        "| jobs | queues | resources | template bytes | wall, median | CPU, median | build (in process) | "
        "synth (in process) | warm build + synth | warm CPU | jsii requests | peak memory |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for point, runs in results.scale.items():
        resources, size = _scale_size(results, point)
        out.append(
            f"| {point[0]} | {point[1]} | {resources} | {size:,} | {seconds(median([r.wall_s for r in runs]))} | "
            f"{seconds(median([r.cpu_s for r in runs]))} | {seconds(_phase(runs, 'build_s'))} | "
            f"{seconds(_phase(runs, 'synth_s'))} | {_optional(_warm_total(results, point), '.2f')} s | "
            f"{_optional(_warm_total(results, point, 'cpu'), '.2f')} s | "
            f"{_optional(_warm_calls(results, point), ',')} | {median([r.max_rss_mb for r in runs]):.0f} MB |"
        )
    segments = _segments(results)
    if segments:
        out += [
            "",
            "Growth between consecutive points (queues grow too, so the per-resource column is the linearity "
            "check: a cost that grows faster than the stack shows as a rising cost per added resource):",
            "",
            "| from -> to | resources per job | template bytes per job | wall per job | CPU per job | "
            "warm per job | warm CPU per job | warm CPU per resource | jsii requests per job |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for a, b, g in segments:
            out.append(
                f"| ({a[0]}, {a[1]}) -> ({b[0]}, {b[1]}) | {_optional(g['resources_per_job'], '.2f')} | "
                f"{_optional(g['bytes_per_job'], ',.0f')} | {_optional(g['wall_ms_per_job'], '.0f')} ms | "
                f"{_optional(g['cpu_ms_per_job'], '.0f')} ms | {_optional(g['warm_ms_per_job'], '.1f')} ms | "
                f"{_optional(g['warm_cpu_ms_per_job'], '.1f')} ms | "
                f"{_optional(g['warm_cpu_ms_per_resource'], '.1f')} ms | {_optional(g['calls_per_job'], '.0f')} |"
            )
    check = _linearity(results)
    if check is not None:
        metric, first, last, _ = check
        targets["linear growth"] = last <= LINEARITY_TOLERANCE * first
        out += [
            "",
            f"Linear: {metric} of the last segment within x{LINEARITY_TOLERANCE} of the first segment's "
            f"(x{last / first:.2f}): {'yes' if targets['linear growth'] else 'no'}.",
        ]
    if results.grid and len(results.scale) >= 4:
        points = list(results.scale)
        rows = [[1.0, float(j), float(q)] for j, q in points]
        series: list[tuple[str, list[float | None]]] = [
            ("warm build + synth CPU", [_warm_total(results, p, "cpu") for p in points]),
            ("warm build + synth wall time", [_warm_total(results, p) for p in points]),
            ("CPU in new processes", [median([r.cpu_s for r in results.scale[p]]) for p in points]),
        ]
        for title, maybe in series:
            values = [v for v in maybe if v is not None]
            if len(values) != len(points):
                continue
            base, per_job, per_queue = solve_linear(rows, values)
            fitted = [base + per_job * j + per_queue * q for j, q in points]
            worst = max(abs(f - v) / v for f, v in zip(fitted, values, strict=True))
            out.append(
                f"\nLeast-squares fit over the grid, {title}: {base:.2f} s + {1000 * per_job:.1f} ms per job + "
                f"{1000 * per_queue:.1f} ms per queue; largest deviation from the fit {100 * worst:.1f}%."
            )
    out.append("")
    return out


def _suite_report(results: Results, targets: dict[str, bool | None]) -> list[str]:
    out = ["## 4. Test suite", ""]
    suite = results.suite
    if suite is None:
        return [*out, "Not run (`--quick` or `--skip-tests`).", ""]
    targets[SUITE_KEY] = suite.wall_s < TEST_SUITE_TARGET_S
    out += [
        "`pytest` (the venv's, the whole `tests/` directory, once, including the benchmark smoke test):",
        "",
        "| | |",
        "|---|---|",
        f"| wall (process) | {suite.wall_s:.1f} s |",
        f"| pytest's own time | {'-' if suite.pytest_s is None else f'{suite.pytest_s:.1f} s'} |",
        f"| CPU (user + system, with its Node processes) | {suite.cpu_s:.1f} s |",
        f"| result | {suite.summary or 'no summary line'} (exit {suite.exit_code}) |",
        "",
    ]
    if suite.slowest:
        out += ["Ten slowest steps (pytest `--durations=10`):", "", "```", *suite.slowest, "```", ""]
    return out


#: What profiling found (written into BENCHMARKS.md by full runs). Its numbers come from the profiling sessions, not
#: from the run the report shows.
NOTES: Final = """
## What profiling found

Tools: per-phase timings inside the child process, CPU of the process tree read from `/proc`, `python -X importtime`
and cProfile of the imports, and the requests Python sends to the jsii kernel counted by call site (and the callbacks
Node makes into Python). Measured on 2026-12-02 on this machine at commits a5f32ff and 1dc04b7, apart from the run
above: the numbers are of the same order, not the same.

1. **Most of the floor is not the library's or the L2's.** At its first synthesis aws-cdk-lib 2.275 starts a
   WebAssembly rule engine (`@aws/cloudformation-validate`) in the Node process, even for an app without stacks:
   most of the floor's synthesis (section 1 shows the floor with and without it, `CDK_VALIDATION=false`). Ending the
   process (the jsii kernel stopping, Python's finalization) takes another 1.2-1.5 s after the synthesis, the same
   for both versions. The project keeps the validation on: it is what fails a synth on CloudFormation errors.
2. **In a new process the library costs about 0.13 s more CPU than the L2 version.** Measured without the
   validation engine (`CDK_VALIDATION=false`, 10 interleaved pairs, medians): Python 1.26 s against 1.20 s, Node
   1.87 s against 1.80 s. With the engine on, a synthesis costs 8-11 s of CPU, so that is 1-2% of it; the full runs
   measure 1.01-1.03 in CPU (last three runs) and 0.90-1.05 in wall time (six runs): a spread as large as the gap.
   What the library adds is work the hand-written L2 version does not do; none of it is a re-read or a repeated
   computation:
   - Importing: about 0.05 s of CPU for the library's own modules once the shared aws_cdk modules are loaded and the
     kernel has answered a first request (about 45 modules, 14 dataclasses, the rule registry, nine module-level jsii
     requests for the defaults shown in signatures: `memory=Size.gibibytes(2)`, `timeout=Duration.hours(1)`, ...).
     The first jsii request of a process costs 0.13 s of wall (0.08 s of CPU: jsii loads typeguard, asyncio and
     more); the library makes it while importing, the L2 version while building, so that part of the import
     phase's difference is moved, not added.
   - Building: 308 requests against 272 (in a new process), plus 17 callbacks from Node into Python. The callbacks are
     aws-cdk-lib's grants and the state machine's own statements reaching `ManagedPolicyRole.add_to_principal_policy`
     (so that grants land in a customer-managed policy, as the NIST, HIPAA and PCI packs require): about 45 ms of
     wall in all, most of it the 28 requests they make (adding each statement to the managed policy). The L2 version
     passes `role.without_policy_updates()` and writes each managed policy by hand, so it has none. The other extra
     requests are the acknowledgements the library places on its own constructs (network routes, the
     restrict-default-security-group provider, the dead-letter queue, the state machine policy: the L2 version
     repeats only those of the resources the app itself creates or grants), the synth-time stack checks (one
     `find_all`, the tags of the Batch resources) and construct facts read once and remembered
     (`_internal/memo.py`).
   - Synthesizing: two deferred checks run in Python while Node synthesizes (about 15 ms).
   Each of these is a feature (compliance, synth-time checks, grants in managed policies). Taking any away to reach
   the target would take away what the library is for.
   The baseline itself had drifted until 2026-12-02: the library had gained confused-deputy conditions, the
   `kms:ViaService` conditions, the job's `rejects/` grant and table-key grant, the table on the stack's key, the
   retained dead-letter queue and `SkipDeregisterOnUpdate`, which `movies_l2.py` did not follow (8 of 57 resources
   differed; the run compared only the counts by type). It builds the same template again, and the run now stops
   on any difference. In one A/B of 11 pairs before and after that change the CPU pair ratio went from 1.019 to
   1.001 (different loads; the spread between such A/Bs is about 0.02).
3. **In one warm process (a test session) the library costs 0.96-1.17 times the L2 version** over the last four
   runs (the report above is one of them): the remembered construct facts, the cached queue capacities
   (`BatchQueue.capacities()`, invalidated by `add_environment`) and `is_known` answering Python values without
   jsii offset most of the extra requests (303 against 272 per app).
4. **Growth is linear in the requests and close to linear in time**: 13-14 jsii requests and 2.5-2.8 resources per
   job definition with roles shared per queue (section 3), and 3-9 ms of warm CPU per added resource. The time per
   resource of the two segments has differed by x0.82 to x1.43 between runs with the same code. A separate warm
   run with a fourth point (150 jobs, 30 queues, 454 resources; 4 rounds) gave 4.1, 5.1 and 4.4 ms per added
   resource over its three segments: no cost that grows with the stack. With the default two roles per job, a job
   adds five resources and one stack holds about 90 jobs before CloudFormation's 500-resource limit.

Done since the first profile (2026-11-22, commit 5efde1e): the queue capacities cached; `batch_constructs`,
`batch_constructs.triggers` and `batch_constructs.jobs` loaded lazily (PEP 562); `is_known` without jsii for Python
values; `CfnResource in type(c).__mro__` in the stack checks; construct facts remembered; `zoneinfo` imported only
for a time zone; the Step Functions timeouts as plain seconds.

Not measured here: the cdk-nag packs (the example apps' tests register all five; they add to every synthesis of an
app in the test suite), and `cdk synth` through the CLI (which starts the same Python process after its own
start-up).
"""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--repetitions", "-n", type=int, default=DEFAULT_REPETITIONS, help="default: %(default)s")
    parser.add_argument("--quick", action="store_true", help="1 repetition, smallest scale point, no test suite")
    parser.add_argument("--grid", action="store_true", help="scale over the full 3x3 grid of jobs x queues")
    parser.add_argument("--skip-tests", action="store_true", help="do not time the test suite")
    parser.add_argument("--output", type=pathlib.Path, help="default: BENCHMARKS.md at the root (none with --quick)")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--outdir", help=argparse.SUPPRESS)
    parser.add_argument("--jobs", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--queues", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--points", default="", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child in (WARM, WARM_SCALE):
        points = [parse_point(text) for text in args.points.split(",") if text]
        print(json.dumps(warm_child(args.child, max(args.repetitions, 1), args.outdir, points)))
        return 0
    if args.child:
        print(json.dumps(child(args.child, args.outdir, args.jobs, args.queues)))
        return 0
    repetitions = 1 if args.quick else args.repetitions
    if repetitions < 1:
        parser.error("--repetitions must be at least 1")
    output: pathlib.Path | None = args.output or (None if args.quick else ROOT / "BENCHMARKS.md")
    try:
        with tempfile.TemporaryDirectory(prefix="batch-constructs-bench-") as workdir:
            results = benchmark(
                repetitions=repetitions,
                quick=args.quick,
                grid=args.grid,
                test_suite=not (args.quick or args.skip_tests),
                workdir=pathlib.Path(workdir),
            )
            text, _ = report(results)
    except BenchmarkError as error:
        print(f"\nBENCHMARK FAILED: {error}", file=sys.stderr)
        return 1
    print(text)
    if output is not None:
        output.write_text(text)
        print(f"\nwrote {output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
