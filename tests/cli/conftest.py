"""The moto stacks the CLI tests run against (:mod:`tests.cli.support`): one per test, or one per module.

A test that changes what the stack deployed (disables its queue, deletes its route or role) or reads the whole region
(``status --json`` lists every queue, ``status STACK`` counts the queue's jobs) takes :func:`fresh_stack`: a world of
its own. A test that only adds things of its own to the stack (a job, a log stream, a job definition) and reads those
back takes :func:`shared_stack`: one deployment per module, as a user's stack serves many commands, so no test depends
on which others ran before it. moto cannot run both kinds at once (``mocked_aws()`` resets its backends only when no
other is active), so a module uses one kind only; :func:`~tests.cli.support.deployed_stack` refuses a nested world.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from .support import Clock, Deployed, deployed_stack


@pytest.fixture(scope="module")
def _module_stack() -> Iterator[Deployed]:
    with pytest.MonkeyPatch.context() as env, deployed_stack(env.setenv) as deployed:
        yield deployed


def _reset_job_transitions() -> None:
    """``force`` stops moto from moving jobs on; the next test gets moto's default progression again."""
    from moto.moto_api import state_manager

    state_manager.unset_transition("batch::job")


@pytest.fixture
def shared_stack(_module_stack: Deployed) -> Iterator[Deployed]:
    """The module's stack, with a fake clock of the test's own (a test may replace its ``sleep``)."""
    yield dataclasses.replace(_module_stack, clock=Clock())
    _reset_job_transitions()


@pytest.fixture
def fresh_stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[Deployed]:
    """A stack deployed into an empty moto for this test alone."""
    with deployed_stack(monkeypatch.setenv) as deployed:
        yield deployed
    _reset_job_transitions()
