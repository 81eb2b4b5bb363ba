"""moto for the run-time tests (job code, the submitter Lambda, the CLI), configured once for the whole suite.

These settings make a mocked test cost milliseconds instead of seconds, without changing what moto answers:

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
- moto's response serializer looks up which attribute of a result holds each output member once per member and value
  (:func:`_memoise_moto_member_aliases`): a DynamoDB Scan of 300 items took about 0.4 s of the test's time, half of it
  recomputing the same aliases.
"""

from __future__ import annotations

import functools
import itertools
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

import pytest
from moto import mock_aws
from moto.core.base_backend import BackendDict
from moto.core.config import DefaultConfig
from moto.core.models import MockAWS

__all__ = [
    "FAKE_CREDENTIALS",
    "client",
    "mocked_aws",
    "mocked_aws_for_module",
    "on_demand_table",
    "plain_upload_client",
    "reset_backends",
    "unique_name",
]


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


def _memoise_moto_member_aliases() -> None:
    """Memoise where moto's response serializer finds each output member in results that are plain dicts.

    moto serialises every response by asking, for each output member of each value, which keys of the Python value
    may hold it (``"Items"``, ``"items"``, ...: ``XFormedAttributePicker.get_possible_keys``, a chain of alias
    providers) and taking the first key present. For an exact ``dict`` the list of keys is a function of the member
    name, its botocore shape and the shape's parent alone: the providers read the shape's name, type, serialization
    and parent, and the value's class (``dict``) and ``Meta`` attribute (a dict has none). botocore's shapes are built
    once per service model and never change (moto sets ``parent`` as it walks, which is part of the key; the memo
    holds the shapes, so their ids stay theirs). The lookup below is then the picker's own (first key present, else
    ``None``), done only for the picker moto makes for every response (default providers, no response transformers);
    any other value or picker goes the original way.
    """
    from moto.core import serialize
    from moto.core.constants import MISSING
    from moto.core.utils import get_value

    original = serialize.ResponseSerializer.get_value
    memo: dict[tuple[str, int, int], tuple[tuple[str, ...], object, object]] = {}

    def memoised(self: serialize.ResponseSerializer, value: Any, key: str, shape: Any) -> Any:
        picker = self._value_picker
        if (
            type(value) is not dict
            or type(picker) is not serialize.XFormedAttributePicker
            or picker.alias_providers is not serialize.DEFAULT_ALIAS_PROVIDERS
            or picker.response_transformers
        ):
            return original(self, value, key, shape)
        parent = getattr(shape, "parent", None)
        memo_key = (key, id(shape), id(parent))
        if memo_key not in memo:
            context = serialize.AttributePickerContext(obj=value, key=key, shape=shape)
            memo[memo_key] = (tuple(picker.get_possible_keys(context)), shape, parent)
        for possible_key in memo[memo_key][0]:
            found = get_value(value, possible_key, MISSING)
            if found is not MISSING:
                return found
        return None

    serialize.ResponseSerializer.get_value = memoised  # type: ignore[method-assign]


_memoise_moto_member_aliases()

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
    backends, so each test must work on resources of its own (:func:`unique_name`) or start from empty backends
    (:func:`reset_backends`), and must not depend on the order they run in. The yielded ``MonkeyPatch`` undoes its
    changes when the module ends.
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


def reset_backends() -> None:
    """Empty every moto backend, as entering ``mocked_aws()`` does, inside a world already entered (about 1 ms).

    This is the reset ``mock_aws`` runs on entry (``BackendDict.reset``: every backend in use is dropped and made
    anew on its next request), without the request patching entry also redoes (about 70 ms). A test that starts with
    it sees the same empty AWS a fresh ``mocked_aws()`` gives it; clients made earlier keep working.
    """
    BackendDict.reset()


def on_demand_table(dynamodb: Any, name: str, key: str, key_type: str = "S") -> None:
    """Create the on-demand DynamoDB table ``name`` with the single partition key ``key`` (``S``, ``N`` or ``B``)."""
    dynamodb.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": key_type}],
        BillingMode="PAY_PER_REQUEST",
    )


def plain_upload_client() -> Any:
    """An S3 client that sends bodies as they are, for a test's own large uploads (inside a mocked world).

    botocore's default (``request_checksum_calculation="when_supported"``) frames a PutObject body as aws-chunked
    with a CRC32 trailer, re-joining the body once per chunk (2 s for 32 MiB here), and moto unframes it again; with
    ``when_required`` the same bytes are stored in 0.5 s. Only the test's set-up uses it: the code under test keeps
    the clients it makes or is given, with botocore's defaults.
    """
    import boto3
    from botocore.config import Config

    return boto3.client("s3", config=Config(request_checksum_calculation="when_required"))
