"""moto for the run-time tests (job code, the submitter Lambda, the CLI), configured once for the whole suite.

Two settings make a mocked test cost milliseconds instead of seconds, without changing what moto answers:

- ``MOTO_EC2_LOAD_DEFAULT_AMIS=false``: moto otherwise builds its whole AMI catalogue (about 41,000 objects) every time
  an EC2 backend is created, i.e. in every test that touches EC2 or Batch. No test here describes images.
- ``reset_boto3_session: False``: moto otherwise drops boto3's default session on every ``mock_aws()``, so each test
  re-parses the service models (EC2's alone is several MB of JSON) for every client it creates. moto intercepts
  requests through botocore's built-in handlers, which every session gets as long as moto is imported before the
  session is created; importing this module (the root conftest does) guarantees that.
"""

from __future__ import annotations

import os

os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from moto import mock_aws
from moto.core.config import DefaultConfig
from moto.core.models import MockAWS

__all__ = ["mocked_aws"]

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
