"""Where an order goes, checked before it is paid (no database): the address must be complete,
in the sale's country, with a postcode of that country's shape and a phone number that
country dials (``phonenumbers``, Google's libphonenumber data)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers

from canyu.errors import Forbidden, InvalidInput

# Postcode shapes of the countries the store sells in; others: 2-10 letters, digits, spaces.
POSTCODES = {
    "CN": re.compile(r"^\d{6}$"),
    "IN": re.compile(r"^\d{6}$"),
    "US": re.compile(r"^\d{5}(-\d{4})?$"),
    "DE": re.compile(r"^\d{5}$"),
    "FR": re.compile(r"^\d{5}$"),
    "JP": re.compile(r"^\d{3}-?\d{4}$"),
    "GB": re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),
}
OTHER_POSTCODE = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,9}$")
LIMITS = {"name": 100, "phone": 32, "line": 200, "city": 100, "postcode": 16}


@dataclass(frozen=True)
class Address:
    name: str
    phone: str
    line: str
    city: str
    postcode: str
    country: str


def require_country(*, sale_country: str, buyer_country: str) -> None:
    """A sale sells in one country: buyers whose account is elsewhere are refused, saying so."""
    if buyer_country.upper() != sale_country.upper():
        raise Forbidden(
            f"This sale is for buyers in {sale_country}; your account is in {buyer_country}.",
            details={"sale_country": sale_country, "buyer_country": buyer_country},
        )


def checked(address: Address, *, sale_country: str) -> Address:
    """The address cleaned (trimmed, postcode upper-case, phone in E.164), or a 4xx naming the
    field: 403 for a country the sale does not deliver to, 422 for the rest."""
    fields = {}
    for field, maximum in LIMITS.items():
        value = " ".join(str(getattr(address, field)).split())
        if not 1 <= len(value) <= maximum or any(ord(c) < 32 for c in value):
            raise InvalidInput(
                f"The delivery {field} has 1 to {maximum} characters.",
                details={"field": f"address.{field}"},
            )
        fields[field] = value
    country = address.country.strip().upper()
    if country != sale_country.upper():
        raise Forbidden(
            f"This sale delivers only in {sale_country}, not to {country or 'no country'}.",
            details={"field": "address.country", "sale_country": sale_country},
        )
    postcode = fields["postcode"].upper()
    if not POSTCODES.get(country, OTHER_POSTCODE).match(postcode):
        raise InvalidInput(
            f"{fields['postcode']} is not a postcode in {country}.",
            details={"field": "address.postcode"},
        )
    try:
        phone = phonenumbers.parse(fields["phone"], country)
    except phonenumbers.NumberParseException:
        phone = None
    if phone is None or not phonenumbers.is_valid_number_for_region(phone, country):
        raise InvalidInput(
            f"{fields['phone']} is not a phone number in {country}.",
            details={"field": "address.phone"},
        )
    return Address(
        name=fields["name"],
        phone=phonenumbers.format_number(phone, phonenumbers.PhoneNumberFormat.E164),
        line=fields["line"],
        city=fields["city"],
        postcode=postcode,
        country=country,
    )
