"""``PROPERTY_SCALE``: how many times its own example count each property test runs (``make properties``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .properties import SCALE_VARIABLE, examples, scale


def test_unset_or_blank_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCALE_VARIABLE, raising=False)
    assert (scale(), examples(60)) == (1, 60)
    monkeypatch.setenv(SCALE_VARIABLE, " ")
    assert examples(60) == 60


def test_a_positive_integer_multiplies_every_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCALE_VARIABLE, "20")
    assert examples(60) == 1200


@pytest.mark.parametrize("text", ["0", "-2", "1.5", "lots", "\u0662"])
def test_anything_else_is_an_error_naming_the_variable(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(SCALE_VARIABLE, text)
    with pytest.raises(ValueError, match=rf"PROPERTY_SCALE={text!r}: use a positive integer"):
        examples(60)


@settings(max_examples=examples(20), deadline=None, database=None)
@given(count=st.integers(0, 10_000))
def test_examples_scale_any_count(count: int) -> None:
    assert examples(count) == count * scale()


def test_every_property_test_is_marked_and_only_those(request: pytest.FixtureRequest) -> None:
    """conftest marks each Hypothesis test ``property`` (the one above included); ``make properties`` selects them by
    that mark."""
    items = {item.nodeid: item for item in request.session.items}
    assert items[f"{__name__.replace('.', '/')}.py::test_examples_scale_any_count"].get_closest_marker("property")
    for item in items.values():
        is_property = bool(getattr(getattr(item, "obj", None), "is_hypothesis_test", False))
        assert bool(item.get_closest_marker("property")) == is_property, item.nodeid
