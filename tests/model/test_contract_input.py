"""The queue contract as hostile input: whatever JSON reaches ``PlatformContract.from_json`` (a context file edited by
hand, a parameter written by another tool), it is read or refused with a BatchConfigurationError that names the
problem, never a KeyError, TypeError or ValueError from deep inside."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from batch_constructs.errors import BatchConfigurationError
from batch_constructs.model.contract import PlatformContract

from ..properties import examples

#: Every key the reader looks at, so that generated documents reach every branch.
KEYS = [
    "schemaVersion", "queues", "jobQueueArn", "platform", "environments", "fairShare", "shareIdentifiers", "name",
    "spot", "managed", "maxVcpus", "architectures", "instanceTypes", "instanceFamilies", "singleInstanceType", "efa",
    "shapes", "vcpus", "memoryMiB", "gpus", "isolatedEndpoints",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["FARGATE", "EC2", "arn:aws:batch:us-east-1:123456789012:job-queue/q", "x86_64", "m7i.large"]),
    st.text(max_size=8),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), inner),
    max_leaves=30,
)


def _document(version: object, queues: object) -> str:
    return json.dumps({"schemaVersion": version, "queues": queues})


@settings(max_examples=examples(100), deadline=None, database=None)
@given(
    version=st.one_of(st.just(1), SCALARS),
    queues=st.one_of(JSON, st.dictionaries(st.text(max_size=3), JSON, max_size=3)),
)
def test_any_document_is_read_or_refused_with_a_configuration_error(version: object, queues: object) -> None:
    try:
        contract = PlatformContract.from_json(_document(version, queues))
    except BatchConfigurationError as error:
        assert "queue contract" in str(error)
        return
    for queue in contract.queues.values():  # what the fit rules then compute on must be well-formed
        for _, capacity in queue.capacities():
            assert capacity.max_vcpus is None or (math.isfinite(capacity.max_vcpus) and capacity.max_vcpus >= 0)
            for shape in capacity.shapes or ():
                assert math.isfinite(shape.vcpus) and shape.vcpus > 0 and shape.memory_mib > 0 and shape.gpus >= 0


@settings(max_examples=examples(200), deadline=None, database=None)
@given(text=st.text(max_size=40) | st.binary(max_size=40).map(lambda b: b.decode("latin-1")))
def test_any_text_is_read_or_refused_with_a_configuration_error(text: str) -> None:
    try:
        PlatformContract.from_json(text)
    except BatchConfigurationError:
        pass


def _queue(**fields: object) -> dict[str, object]:
    return {"jobQueueArn": "arn:aws:batch:us-east-1:123456789012:job-queue/q", "platform": "EC2", **fields}


def _environment(**fields: object) -> dict[str, object]:
    return {"name": "Platform/Ec2", "platform": "EC2", **fields}


@pytest.mark.parametrize(
    ("queue", "message"),
    [
        (5, r"queue 'q' is 5, not an object"),
        (_queue(environments={"a": 1}), r"queue 'q': environments=\{\"a\": 1\} is not a list of objects"),
        (_queue(environments=[1]), r"queue 'q': environments=\[1\] is not a list of objects"),
        (_queue(fairShare="yes"), r"queue 'q': fairShare=\"yes\" is not true or false"),
        (_queue(shareIdentifiers="teamA"), r"queue 'q': shareIdentifiers=\"teamA\" is not a list of strings"),
        (_queue(environments=[_environment(spot="no")]), r"queue 'q', environment 0: spot=\"no\" is not true or"),
        (_queue(environments=[_environment(maxVcpus=-4)]), r"environment 0: maxVcpus=-4 is not a number of at least 0"),
        (_queue(environments=[_environment(maxVcpus=True)]), r"maxVcpus=true is not a number"),
        (_queue(environments=[_environment(platform="EKS")]), r"environment 0: platform=\"EKS\""),
        (_queue(environments=[_environment(architectures=["x86_64", 1])]), r"architectures=\[\"x86_64\", 1\] is not"),
        (_queue(environments=[_environment(shapes=[{"name": "m7i.large", "vcpus": 2}])]), r"shape 0: no memoryMiB"),
        (
            _queue(environments=[_environment(shapes=[{"name": "m7i.large", "vcpus": "2", "memoryMiB": 8192}])]),
            r"environment 0, shape 0: vcpus=\"2\" is not a number above 0",
        ),
        (
            _queue(environments=[_environment(shapes=[{"name": "g5.xlarge", "vcpus": 4, "memoryMiB": 0}])]),
            r"shape 0: memoryMiB=0 is not a size",
        ),
        (
            _queue(environments=[_environment(shapes=[{"name": "g5", "vcpus": 4, "memoryMiB": 16384, "gpus": 0.5}])]),
            r"gpus=0.5 is not a whole number of at least 0",
        ),
    ],
)
def test_a_known_field_of_the_wrong_type_is_an_error_naming_it(queue: object, message: str) -> None:
    with pytest.raises(BatchConfigurationError, match=r"\[queue-contract\] .*" + message):
        PlatformContract.from_json(_document(1, {"q": queue}))


def test_whole_numbers_written_as_floats_are_read_as_integers() -> None:
    shape = {"name": "g5.xlarge", "vcpus": 4.0, "memoryMiB": 16384.0, "gpus": 1.0}
    document = _document(1, {"q": _queue(environments=[_environment(shapes=[shape], maxVcpus=256.0)])})
    ((_, capacity),) = PlatformContract.from_json(document).queue("q").capacities()
    assert capacity.shapes is not None
    ((name, vcpus, memory, gpus),) = [(s.name, s.vcpus, s.memory_mib, s.gpus) for s in capacity.shapes]
    assert (name, vcpus, memory, gpus) == ("g5.xlarge", 4.0, 16384, 1)
    assert isinstance(memory, int) and isinstance(gpus, int) and capacity.max_vcpus == 256.0


def test_a_python_value_json_cannot_hold_is_shown_in_the_error() -> None:
    data = {"schemaVersion": 1, "queues": {"q": _queue(fairShare={1})}}
    with pytest.raises(BatchConfigurationError, match=r"fairShare=\{1\} is not true or false"):
        PlatformContract.from_dict(data)


def test_null_and_missing_facts_read_as_unknown() -> None:
    nulls = {key: None for key in ("spot", "managed", "maxVcpus", "shapes", "efa", "singleInstanceType")}
    document = _document(1, {"q": _queue(fairShare=None, shareIdentifiers=None, environments=[_environment(**nulls)])})
    queue = PlatformContract.from_json(document).queue("q")
    ((name, capacity),) = queue.capacities()
    assert name == "Platform/Ec2" and queue.fair_share is None and queue.share_identifiers == ()
    assert (capacity.spot, capacity.managed, capacity.max_vcpus, capacity.shapes, capacity.efa) == (
        False,
        True,
        None,
        None,
        None,
    )
    assert capacity.single_instance_type is None
