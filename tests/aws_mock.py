"""moto for the run-time tests (job code, the submitter Lambda, the CLI), configured once for the whole suite.

Two settings make a mocked test cost milliseconds instead of seconds, without changing what moto answers:

- ``MOTO_EC2_LOAD_DEFAULT_AMIS=false``: moto otherwise builds its whole AMI catalogue (about 41,000 objects) every time
  an EC2 backend is created, i.e. in every test that touches EC2 or Batch. No test here describes images.
- ``reset_boto3_session: False``: moto otherwise drops boto3's default session on every ``mock_aws()``, so each test
  re-parses the service models (EC2's alone is several MB of JSON) for every client it creates. moto intercepts
  requests through botocore's built-in handlers, which every session gets as long as moto is imported before the
  session is created; importing this module (the root conftest does) guarantees that.
- botocore's JSON files are read once per process (:func:`_read_botocore_files_once`): code that makes its own
  ``boto3.Session`` (the CLI does, once per command, as a user's terminal process would) otherwise re-parses every
  service model per session.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

import pytest
from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.core.models import MockAWS

__all__ = ["FAKE_CREDENTIALS", "mocked_aws", "mocked_aws_for_module", "unique_name"]


def _read_botocore_files_once() -> None:
    """Memoise botocore's JSON file reads for the whole test process.

    The files are botocore's installed data (service models, endpoints, paginators), which never change while the
    tests run; botocore already shares one parsed file among all the uses within a session, so sharing it among
    sessions hands its code nothing it does not already handle.
    """
    from botocore.loaders import JSONFileLoader

    read = JSONFileLoader.load_file
    cache: dict[str, object] = {}

    def load_file(self: JSONFileLoader, file_path: str) -> object:
        if file_path not in cache:
            cache[file_path] = read(self, file_path)
        return cache[file_path]

    JSONFileLoader.load_file = load_file  # type: ignore[method-assign]


_read_botocore_files_once()

_CONFIG: DefaultConfig = {
    "batch": {"use_docker": False},  # moto's Batch ends jobs at once instead of running containers
    "core": {
        "mock_credentials": True,
        "passthrough": {"urls": [], "services": []},
        "reset_boto3_session": False,
        "service_whitelist": None,
    },
}


def mocked_aws() -> MockAWS:
    """``moto.mock_aws`` with the suite's settings: fresh, empty backends on entry, as ``mock_aws()`` gives."""
    return mock_aws(config=_CONFIG)


#: What boto3 needs to sign a request; moto accepts any value.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}


@contextmanager
def mocked_aws_for_module(region: str = "us-east-1") -> Iterator[pytest.MonkeyPatch]:
    """One moto world (and fake credentials, region, no profile) for a module-scoped fixture.

    Entering moto costs about 70 ms (its request patching and ``responses`` registry), and a fresh world makes every
    test create its clients and resources again; a module that enters it once pays that once. Its tests then share the
    backends, so each test must work on resources of its own (:func:`unique_name`) or reset exactly what it changes:
    pytest-randomly runs them in any order. The yielded ``MonkeyPatch`` undoes its changes when the module ends.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": region}.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        with mocked_aws():
            yield patch


_serial = itertools.count(1)


def unique_name(prefix: str) -> str:
    """``prefix-N``, N unique in this process: a resource only one test uses in a world shared by a module."""
    return f"{prefix}-{next(_serial)}"
