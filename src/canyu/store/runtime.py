"""What the store's routes share inside one app: the ledger, token signers, the payment
provider and the immutable terms of sales already seen (so the hot path skips the database)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime

from fastapi import FastAPI, Request
from sqlalchemy.orm import Session

from canyu.db import Database, utcnow
from canyu.store import service
from canyu.store.ledger import Ledger, SaleTerms, make_ledger
from canyu.store.passes import ReferralCodes, SalePasses
from canyu.store.payments import PaymentProvider, provider_named
from canyu.store.settings import StoreSettings, get_store_settings


@dataclass
class StoreRuntime:
    ledger: Ledger
    passes: SalePasses
    referrals: ReferralCodes
    provider: PaymentProvider
    settings: StoreSettings
    database: Database
    # The store's clock; tests move it instead of waiting for a sale to start.
    now: Callable[[], datetime] = utcnow
    # SQLite has one writer at a time: threads of a process queue here instead of spinning on
    # the file lock (its busy handler sleeps up to 100 ms per retry).
    writer_lock: threading.Lock | None = None
    _terms: dict[int, SaleTerms] = field(default_factory=dict)

    def terms(self, session: Session, sale_id: int) -> SaleTerms:
        """A sale's terms never change after creation, so each process reads them once."""
        terms = self._terms.get(sale_id)
        if terms is None:
            terms = SaleTerms.of(service.get_sale(session, sale_id=sale_id))
            self._terms[sale_id] = terms
        return terms

    def cached_terms(self, sale_id: int) -> SaleTerms | None:
        return self._terms.get(sale_id)

    def writing(self) -> AbstractContextManager[object]:
        return self.writer_lock or nullcontext()


def configure(app: FastAPI) -> StoreRuntime:
    """The app's store runtime (canyu.store.install makes it when the app is built)."""
    store_settings = get_store_settings()
    secret: str = app.state.secret_key
    runtime = StoreRuntime(
        ledger=make_ledger(app.state.settings.redis_url, prefix=store_settings.redis_prefix),
        passes=SalePasses(secret),
        referrals=ReferralCodes(secret),
        provider=provider_named(store_settings.payment_provider),
        settings=store_settings,
        database=app.state.database,
        writer_lock=(
            threading.Lock() if app.state.database.engine.dialect.name == "sqlite" else None
        ),
    )
    app.state.store = runtime
    return runtime


def store_runtime(source: Request | FastAPI) -> StoreRuntime:
    app = source.app if isinstance(source, Request) else source
    runtime: StoreRuntime = app.state.store
    return runtime
