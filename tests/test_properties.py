"""``PROPERTY_SCALE``: how many times its own example count each property test runs (``make properties``, which
selects the Hypothesis tests by the ``hypothesis`` mark Hypothesis's pytest plugin gives them)."""

from __future__ import annotations

import os

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


@settings(max_examples=examples(100), deadline=None, database=None)
@given(text=st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=6))  # environ-safe
def test_any_text_is_a_positive_scale_or_an_error_naming_the_variable(text: str) -> None:
    """Whatever the variable holds, the scale is a positive integer written in ASCII digits, or one when blank."""
    saved = os.environ.get(SCALE_VARIABLE)
    os.environ[SCALE_VARIABLE] = text
    try:
        try:
            value = scale()
        except ValueError as error:
            assert str(error).startswith(f"{SCALE_VARIABLE}={text.strip()!r}: use a positive integer")
            return
        assert value >= 1
        assert value == 1 if not text.strip() else str(value) == text.strip().lstrip("0")
    finally:
        if saved is None:
            del os.environ[SCALE_VARIABLE]
        else:
            os.environ[SCALE_VARIABLE] = saved
