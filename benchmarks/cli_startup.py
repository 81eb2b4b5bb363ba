"""Cold start of the operations CLI: ``python benchmarks/cli_startup.py`` (``--repetitions N``, ``--json``).

Each command runs in a new Python process, ``--repetitions`` times, interleaved so that the machine's load affects all
alike; the report gives the median wall time and the median CPU time (user + system of the child, from
``os.wait4``), which the load of a shared machine disturbs much less than the wall time:

- ``python -c pass``: the interpreter's own floor;
- ``python -m batch_constructs --help``: the CLI's cold start (target: 0.3 s wall, issue 17);
- ``python -c "import boto3"``: what a command pays on top when it creates its first client;
- ``python -c "import batch_constructs.cli"``: the package import alone (no aws_cdk, no jsii).
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time
from typing import Final

ROOT: Final = pathlib.Path(__file__).resolve().parents[1]
TARGET_S: Final = 0.3
COMMANDS: Final = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "batch-constructs --help": [sys.executable, "-m", "batch_constructs", "--help"],
    "import batch_constructs.cli": [sys.executable, "-c", "import batch_constructs.cli"],
    "import boto3": [sys.executable, "-c", "import boto3"],
}


def _run(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command`` in a new process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed with exit code {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(repetitions: int, *, warm_up: bool = True) -> dict[str, dict[str, float]]:
    """Median wall and CPU seconds of each command over ``repetitions`` interleaved runs.

    ``warm_up``: one unmeasured run of each command first, which writes the .pyc files, so that every measured run is
    a cold process with warm bytecode (the smoke test, which does not judge the numbers, skips it).
    """
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in COMMANDS}
    if warm_up:
        for command in COMMANDS.values():
            _run(command)
    for _ in range(repetitions):
        for name, command in COMMANDS.items():
            samples[name].append(_run(command))
    return {
        name: {
            "wall_s": round(statistics.median(w for w, _ in runs), 3),
            "cpu_s": round(statistics.median(c for _, c in runs), 3),
        }
        for name, runs in samples.items()
    }


def report(results: dict[str, dict[str, float]], repetitions: int) -> str:
    lines = [
        f"CLI cold start, medians of {repetitions} runs (new process each; CPU = user + system)",
        "",
        "| command | wall (s) | CPU (s) |",
        "|---|---|---|",
    ]
    lines += [f"| `{name}` | {r['wall_s']:.3f} | {r['cpu_s']:.3f} |" for name, r in results.items()]
    help_wall = results["batch-constructs --help"]["wall_s"]
    verdict = "met" if help_wall <= TARGET_S else "NOT met"
    lines += ["", f"Target `batch-constructs --help` <= {TARGET_S} s wall: {verdict} ({help_wall:.3f} s)."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=15)
    parser.add_argument("--json", action="store_true", help="print the medians as JSON")
    args = parser.parse_args(argv)
    results = measure(args.repetitions)
    print(json.dumps(results, indent=2) if args.json else report(results, args.repetitions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
