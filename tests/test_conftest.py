"""The session set-up in tests/conftest.py, where it changes how pytest itself runs."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

from .conftest import ROOT


def test_quickly_ended_workers_still_report_every_result_and_the_failure(tmp_path: pathlib.Path) -> None:
    # GIVEN a run on two pytest-xdist workers that end the way this suite's workers end (conftest._end_worker_quickly)
    (tmp_path / "conftest.py").write_text(
        "from tests.conftest import _end_worker_quickly\n"
        "def pytest_configure(config):\n"
        "    if hasattr(config, 'workerinput'):\n"
        "        _end_worker_quickly(config)\n"
    )
    (tmp_path / "test_a.py").write_text("def test_passes():\n    pass\n")
    (tmp_path / "test_b.py").write_text("def test_fails():\n    assert 1 == 2\n")
    (tmp_path / "test_c.py").write_text("def test_prints():\n    print('printed by a worker')\n")
    # WHEN it runs
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-rA", "--rootdir", str(tmp_path)],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    # THEN every result reached the controller, captured output included, and the failure fails the run
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 2 passed" in result.stdout, result.stdout
    assert "printed by a worker" in result.stdout
    assert "assert 1 == 2" in result.stdout
