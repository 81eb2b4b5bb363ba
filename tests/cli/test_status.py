"""``batch-constructs status`` against moto: it reads the whole region (every queue, every job of a queue), so each
test has a stack of its own (``fresh_stack``)."""

from __future__ import annotations

import json

import pytest

from .support import STACK, Deployed, force


@pytest.fixture
def deployed(fresh_stack: Deployed) -> Deployed:
    return fresh_stack


def test_status_of_a_stack_lists_queue_environment_and_job_counts(deployed: Deployed) -> None:
    deployed.submit("one")
    failed = deployed.submit("two")
    force(deployed, failed, "FAILED", "Essential container in task exited")
    code, out = deployed.run("status", STACK)
    assert code == 0
    queue = deployed.queue_arn.rsplit("/", 1)[-1]
    environment = deployed.environment_arn.rsplit("/", 1)[-1]
    assert f"{queue}  ENABLED  VALID   1         {environment}" in out
    assert f"{environment}  FARGATE  ENABLED  VALID   -              256" in out
    # The counts row is the queue's row made only of numbers: the queue row above it ends with the
    # environment's name, whose random physical suffix may end with a digit too.
    rows = [line.split() for line in out.splitlines() if line.startswith(queue)]
    counts = [row[1:] for row in rows if all(cell.isdigit() for cell in row[1:])]
    assert counts == [["0", "0", "0", "0", "0", "1", "1"]]


def test_status_json(deployed: Deployed) -> None:
    deployed.submit("one")
    code, out = deployed.run("status", "--json")
    assert code == 0
    doc = json.loads(out)
    assert [q["arn"] for q in doc["queues"]] == [deployed.queue_arn]
    assert doc["queues"][0]["jobs"]["SUCCEEDED"] == 1
    assert doc["computeEnvironments"][0]["maxvCpus"] == 256
