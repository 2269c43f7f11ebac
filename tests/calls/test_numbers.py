"""Number parsing and the keys and hashes derived from it."""

from __future__ import annotations

import hashlib

import pytest

from canyu.calls import numbers


def test_spellings_of_one_number_normalise_to_one_e164() -> None:
    a = numbers.normalise("+86 138-0013-8000")
    b = numbers.normalise("13800138000", "CN")
    c = numbers.normalise("(+86) 138 0013 8000", "IN")
    assert a == b == c
    assert a.e164 == "+8613800138000"
    assert a.region == "CN"
    assert a.number_type == "mobile"
    assert a.national == "13800138000"


@pytest.mark.parametrize(
    ("raw", "region", "reason"),
    [
        ("+861380013800", None, "not a valid number in CN"),
        ("hello", "CN", "does not look like a phone number"),
        ("12345", None, "no valid country code"),
        ("", "CN", "empty"),
        ("+86 1" + "3" * 70, None, "longer than"),
    ],
)
def test_invalid_numbers_are_refused_with_a_reason(
    raw: str, region: str | None, reason: str
) -> None:
    with pytest.raises(numbers.InvalidNumber) as info:
        numbers.normalise(raw, region)
    assert reason in info.value.reason


def test_pack_keys_keep_lengths_and_leading_zeros_apart() -> None:
    italy_zero = numbers.normalise("+39 06 1234 5678")  # Rome: the 0 is part of the number
    assert italy_zero.national.startswith("0")
    keys = {
        numbers.pack_key(italy_zero.e164),
        numbers.pack_key("+39612345678"),
        numbers.pack_key("+8613800138000"),
        numbers.pack_key("+861380013800"),
    }
    assert len(keys) == 4
    assert numbers.pack_key("+8613800138000") == 113800138000
    assert numbers.pack_key("+8613800138000") < numbers.pack_key("+8613800138001")
    # Non-geographic numbers keep their country code in the key.
    assert numbers.pack_key("+80012345678") == int("1" + "80012345678")
    with pytest.raises(numbers.InvalidNumber):
        numbers.pack_key("8613800138000")


def test_hash_prefix_and_bucket_ranges_agree() -> None:
    e164 = "+8613800138000"
    digest = numbers.number_hash(e164)
    assert digest == hashlib.sha256(e164.encode()).hexdigest()
    bucket = numbers.bucket_of(digest)
    for length in range(1, 9):
        low, high = numbers.bucket_range(digest[:length])
        assert low <= bucket < high
        assert high - low == 16 ** (8 - length)


def test_the_phones_fast_path_agrees_with_normalise() -> None:
    for raw, region in (
        ("138 0013 8000", "CN"),
        ("+39 06 1234 5678", None),
        ("+1 415 555 2671", "CN"),
    ):
        full = numbers.normalise(raw, region)
        assert numbers.e164_and_region(raw, region) == (full.e164, full.region)
    assert numbers.e164_and_region("+861380013800") is None
    assert numbers.e164_and_region("banana", "CN") is None
    assert numbers.e164_and_region("") is None
