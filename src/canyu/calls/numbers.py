"""Phone numbers: parsing and normalisation with Google's libphonenumber (``phonenumbers``),
the hash devices use for private lookups, and the integer key used in offline packs.

No database here. Every number the calls domain stores or answers about went through
:func:`normalise`, so two spellings of one number ("+86 138 0013 8000", "13800138000" in CN)
are the same E.164 string.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType
from phonenumbers import ValidationResult as Possible

MAX_INPUT = 64
NON_GEOGRAPHIC = "001"

_TYPE_NAMES: dict[int, str] = {
    PhoneNumberType.FIXED_LINE: "fixed_line",
    PhoneNumberType.MOBILE: "mobile",
    PhoneNumberType.FIXED_LINE_OR_MOBILE: "fixed_line_or_mobile",
    PhoneNumberType.TOLL_FREE: "toll_free",
    PhoneNumberType.PREMIUM_RATE: "premium_rate",
    PhoneNumberType.SHARED_COST: "shared_cost",
    PhoneNumberType.VOIP: "voip",
    PhoneNumberType.PERSONAL_NUMBER: "personal_number",
    PhoneNumberType.PAGER: "pager",
    PhoneNumberType.UAN: "uan",
    PhoneNumberType.VOICEMAIL: "voicemail",
}

_PARSE_REASONS: dict[int, str] = {
    NumberParseException.INVALID_COUNTRY_CODE: (
        "it has no valid country code; write it as +<country code><number> or give the region"
    ),
    NumberParseException.NOT_A_NUMBER: "it does not look like a phone number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "it is too short after the international prefix",
    NumberParseException.TOO_SHORT_NSN: "it is too short",
    NumberParseException.TOO_LONG: "it is too long",
}

_POSSIBLE_REASONS: dict[int, str] = {
    Possible.INVALID_COUNTRY_CODE: "its country code does not exist",
    Possible.TOO_SHORT: "it is too short for its region",
    Possible.TOO_LONG: "it is too long for its region",
    Possible.INVALID_LENGTH: "its length is not used in its region",
}


class InvalidNumber(ValueError):
    """A number that cannot be normalised; ``reason`` is readable by people."""

    def __init__(self, raw: str, reason: str) -> None:
        super().__init__(f"{raw!r} is not a valid phone number: {reason}.")
        self.raw = raw
        self.reason = reason


@dataclass(frozen=True)
class PhoneNumber:
    e164: str  # "+8613800138000"
    region: str  # ISO 3166 alpha-2 of the number, e.g. "CN" ("001" for non-geographic)
    number_type: str  # "mobile", "fixed_line", ... (see _TYPE_NAMES)
    country_code: int  # 86
    national: str  # national significant number, digits only, e.g. "13800138000"

    @property
    def key(self) -> int:
        return pack_key(self.e164)

    def formatted(self) -> str:
        """International format for people: "+86 138 0013 8000"."""
        return phonenumbers.format_number(
            phonenumbers.parse(self.e164), PhoneNumberFormat.INTERNATIONAL
        )


def normalise(raw: str, region: str | None = None) -> PhoneNumber:
    """Parse ``raw`` ("+86 138-0013-8000", or "13800138000" with region "CN") and return it in
    E.164 with its region and type. Raises :class:`InvalidNumber` with the reason when
    libphonenumber says it is not a valid number for its region."""
    text = raw.strip()
    if not text:
        raise InvalidNumber(raw, "it is empty")
    if len(text) > MAX_INPUT:
        raise InvalidNumber(raw[:MAX_INPUT], f"it is longer than {MAX_INPUT} characters")
    default = region.upper() if region else None
    try:
        parsed = phonenumbers.parse(text, default)
    except NumberParseException as exc:
        raise InvalidNumber(raw, _PARSE_REASONS.get(exc.error_type, str(exc))) from None
    possible = phonenumbers.is_possible_number_with_reason(parsed)
    if possible != Possible.IS_POSSIBLE and possible in _POSSIBLE_REASONS:
        raise InvalidNumber(raw, _POSSIBLE_REASONS[possible])
    number_region = phonenumbers.region_code_for_number(parsed)
    if not phonenumbers.is_valid_number(parsed):
        where = number_region or f"+{parsed.country_code}"
        raise InvalidNumber(raw, f"it is not a valid number in {where}")
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    number_type = _TYPE_NAMES.get(phonenumbers.number_type(parsed), "unknown")
    return PhoneNumber(
        e164=e164,
        region=number_region or "001",
        number_type=number_type,
        country_code=int(parsed.country_code or 0),
        national=phonenumbers.national_significant_number(parsed),
    )


def e164_and_region(raw: str, region: str | None = None) -> tuple[str, str] | None:
    """The E.164 form and region of a valid number, else None: the phone's fast path for an
    incoming call (no number type, no reasons)."""
    if not raw or len(raw) > MAX_INPUT:
        return None
    try:
        parsed = phonenumbers.parse(raw, region.upper() if region else None)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    e164 = phonenumbers.format_number(parsed, PhoneNumberFormat.E164)
    return e164, phonenumbers.region_code_for_number(parsed) or NON_GEOGRAPHIC


def is_region(code: str) -> bool:
    """True for a region libphonenumber knows ("CN", "IN", ...)."""
    return code.upper() in phonenumbers.SUPPORTED_REGIONS


# --- hashing for private lookups --------------------------------------------------------------


def number_hash(e164: str) -> str:
    """SHA-256 of the E.164 string, lowercase hex: what devices and the server both compute."""
    return hashlib.sha256(e164.encode("ascii")).hexdigest()


def hash_prefix(e164: str, length: int) -> str:
    return number_hash(e164)[:length]


def bucket_of(hash_hex: str) -> int:
    """The first 32 bits of a hash as an integer, stored and indexed for prefix range queries."""
    return int(hash_hex[:8], 16)


def bucket_range(prefix: str) -> tuple[int, int]:
    """The half-open range of :func:`bucket_of` values whose hash starts with ``prefix``."""
    shift = 4 * (8 - len(prefix))
    low = int(prefix, 16) << shift
    return low, low + (1 << shift)


# --- pack keys --------------------------------------------------------------------------------


def pack_key(e164: str) -> int:
    """The integer a pack stores for a number: ``int("1" + digits after the country code)``.

    The leading 1 keeps numbers of different lengths and with leading zeros (Italy's "06...")
    apart, and numbers of one operator block stay adjacent, which the pack's compression uses.
    Packs are per region, so the country code is left out, except for non-geographic numbers
    (region "001", several country codes), whose key keeps it. At most 15 digits, so a key is
    below 2**50. String work only: this runs for every number of a million-number pack.
    """
    if not e164.startswith("+") or not e164[1:].isdigit():
        raise InvalidNumber(e164, "it is not in E.164 form")
    digits = e164[1:]
    for length in (1, 2, 3):
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(digits[:length]))
        if regions:
            rest = digits if regions == (NON_GEOGRAPHIC,) else digits[length:]
            return int("1" + rest)
    raise InvalidNumber(e164, "its country code does not exist")


def key_from_national(national: str) -> int:
    return int("1" + national)


# --- calling zones ----------------------------------------------------------------------------
# A zone is a country calling code: one numbering plan, one pack. +1 (NANP) alone covers the US,
# Canada and twenty-odd Caribbean regions, which share one plan and call each other as locals, so
# a phone in the US needs all of them: one pack per zone, not per region.


def zone_of_region(region: str) -> str:
    """The zone ("1", "86") of an ISO region ("US", "CN"); raises InvalidNumber if unknown."""
    code = phonenumbers.country_code_for_region(region.upper())
    if not code:
        raise InvalidNumber(region, "it is not a region with a calling code")
    return str(code)


def zone_of_e164(e164: str) -> str:
    """The zone of an E.164 number (country codes are a prefix code: exactly one matches)."""
    digits = e164.lstrip("+")
    for length in (1, 2, 3):
        if int(digits[:length] or 0) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE:
            return digits[:length]
    raise InvalidNumber(e164, "its country code does not exist")


def zone_regions(zone: str) -> tuple[str, ...]:
    """The regions sharing a zone ("1" -> US, CA, ...; the first is the plan's main region)."""
    return tuple(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(int(zone), ()))


def parse_zone(value: str) -> str:
    """A zone from "+1", "1" or a region "US"; raises InvalidNumber otherwise."""
    text = value.strip().lstrip("+")
    if text.isdigit():
        if not zone_regions(text):
            raise InvalidNumber(value, "it is not a calling code")
        return str(int(text))
    return zone_of_region(text)


def normalise_digits(raw: str, region: str) -> PhoneNumber:
    """:func:`normalise` for bulk feeds, about three times faster on the common case: a string
    of national digits in ``region`` (no prefix, a length the region uses) is built directly
    instead of parsed, and checked with one type look-up instead of validation plus type.
    Anything else, and every refusal (for its reason), goes through :func:`normalise`."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region(region.upper())
    text = raw.strip()
    if (
        meta is None
        or not text.isdigit()
        or text[0] == "0"
        or (meta.national_prefix and text.startswith(meta.national_prefix))
        or meta.general_desc is None
        or len(text) not in (meta.general_desc.possible_length or ())
    ):
        return normalise(raw, region)
    parsed = phonenumbers.PhoneNumber(country_code=meta.country_code, national_number=int(text))
    kind = phonenumbers.number_type(parsed)
    number_region = phonenumbers.region_code_for_number(parsed)
    if kind == PhoneNumberType.UNKNOWN or number_region is None:
        return normalise(raw, region)  # refused, with its reason
    return PhoneNumber(
        e164=f"+{meta.country_code}{text}",
        region=number_region,
        number_type=_TYPE_NAMES.get(kind, "unknown"),
        country_code=int(meta.country_code or 0),
        national=text,
    )
