"""Payment providers: the interface a real provider implements, and the built-in fake one.

A provider charges a reservation once per order number (its idempotency key: a retried charge
returns the first charge) and can refund a charge whose reservation expired meanwhile. The
``fingerprint`` identifies the payment instrument without revealing it (the store uses it to
refuse self-referrals paid with the referrer's own card). See docs/store.md.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from canyu.errors import CanyuError


class PaymentDeclined(CanyuError):
    status_code = 402
    code = "payment_declined"


@dataclass(frozen=True)
class Charge:
    reference: str  # the provider's id for the charge
    fingerprint: str  # stable per payment instrument, opaque


class PaymentProvider(Protocol):
    name: str

    def charge(
        self, *, idempotency_key: str, amount: Decimal, currency: str, payment_token: str
    ) -> Charge:
        """Take the money or raise ``PaymentDeclined``; the same key never charges twice."""
        ...

    def refund(self, *, reference: str) -> None:
        """Give back a whole charge (its reservation expired before it was recorded)."""
        ...


class FakeProvider:
    """Deterministic provider for the demo and the tests.

    Payment tokens: ``fake_ok`` (or any token starting ``fake_ok``) is accepted and the whole
    token is the instrument, so ``fake_ok_alice`` and ``fake_ok_bob`` are two different cards;
    ``fake_decline`` is declined. Charges are kept in memory."""

    name = "fake"

    def __init__(self) -> None:
        self._charges: dict[str, tuple[Charge, Decimal, str]] = {}
        self.refunded: set[str] = set()
        self._lock = threading.Lock()

    def charge(
        self, *, idempotency_key: str, amount: Decimal, currency: str, payment_token: str
    ) -> Charge:
        if amount <= 0:
            raise PaymentDeclined("Nothing to charge.")
        if not payment_token.startswith("fake_ok"):
            raise PaymentDeclined("The card was declined (fake provider).")
        with self._lock:
            if idempotency_key in self._charges:
                return self._charges[idempotency_key][0]
            digest = hashlib.sha256(payment_token.encode()).hexdigest()
            charge = Charge(reference=f"fake_ch_{idempotency_key[:24]}", fingerprint=digest[:32])
            self._charges[idempotency_key] = (charge, amount, currency)
            return charge

    def refund(self, *, reference: str) -> None:
        with self._lock:
            self.refunded.add(reference)


_PROVIDERS: dict[str, PaymentProvider] = {}


def provider_named(name: str) -> PaymentProvider:
    """The configured provider (``CANYU_STORE_PAYMENT_PROVIDER``); one instance per process."""
    if name not in _PROVIDERS:
        if name != "fake":
            raise ValueError(f"unknown payment provider {name!r}; built in: fake")
        _PROVIDERS[name] = FakeProvider()
    return _PROVIDERS[name]
