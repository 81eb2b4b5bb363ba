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
- moto lists the methods of a service's response class once per process (:func:`_list_response_methods_once`)
  instead of on every request.
- :func:`client`: the tests' own clients (the ones that build a world in moto and look at it) are created once per
  process. Creating one builds a class with a method per operation (EC2: about 600, 0.1-0.2 s); moto answers any
  client whose session was made after moto was imported, whichever ``mocked_aws()`` is active when it calls.
"""

from __future__ import annotations

import functools
import os
from typing import Any

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.core.models import MockAWS

__all__ = ["client", "mocked_aws"]


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


def _list_response_methods_once() -> None:
    """Memoise moto's lookup of a response class's methods (the operations it answers) for the whole test process.

    moto runs ``inspect.getmembers`` on the service's response class for every request to find the method of the
    action (EC2's class has about 1,000 attributes: a tenth of a typical request's CPU time). The classes are moto's
    own and never change while the tests run; the lookup's only caller tests membership in the list.
    """
    from moto.core import responses

    responses.method_names_from_class = functools.cache(responses.method_names_from_class)


_list_response_methods_once()

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


@functools.cache
def client(service: str, region: str) -> Any:
    """A boto3 client for the tests' own calls to moto, created once per process (per xdist worker).

    Its credentials are moto's dummy ones, given explicitly: the client does not depend on the environment of the
    test that happens to create it first. Call it only inside ``mocked_aws()``: outside, it would call AWS.
    """
    import boto3

    return boto3.client(
        service,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
    )
