"""Signed tokens the store hands out: sale passes and referral codes.

A *sale pass* proves "this friend joined sale S" without a database lookup, so the purchase
hot path needs only Redis. It is issued when a signed-in friend joins the queue (and in bulk by
the benchmark, which stands in for a million sign-ups without a million password hashes).
"""

from __future__ import annotations

import hashlib

from itsdangerous import BadSignature, Signer, URLSafeSerializer

from canyu.errors import Unauthorized

PASS_HEADER = "x-sale-pass"  # noqa: S105 - a header name, not a secret


class SalePasses:
    def __init__(self, secret_key: str) -> None:
        self._signer = Signer(secret_key, salt="canyu-store-pass", digest_method=hashlib.sha256)

    def issue(self, *, sale_id: int, buyer_id: int) -> str:
        return self._signer.sign(f"{sale_id}.{buyer_id}").decode()

    def buyer(self, token: str | None, *, sale_id: int) -> int:
        """The buyer id a pass was issued to, for this sale only."""
        if not token:
            raise Unauthorized(f"Send the sale pass from joining the queue as {PASS_HEADER}.")
        try:
            value = self._signer.unsign(token).decode()
        except BadSignature:
            raise Unauthorized("This sale pass is not valid.") from None
        pass_sale, _, buyer = value.partition(".")
        if pass_sale != str(sale_id):
            raise Unauthorized("This sale pass is for another sale.")
        return int(buyer)


class ReferralCodes:
    def __init__(self, secret_key: str) -> None:
        self._serializer = URLSafeSerializer(secret_key, salt="canyu-store-referral")

    def code(self, user_id: int) -> str:
        return str(self._serializer.dumps(user_id))

    def referrer(self, code: str | None) -> int | None:
        if not code:
            return None
        try:
            value = self._serializer.loads(code)
        except BadSignature:
            return None
        return value if isinstance(value, int) else None
