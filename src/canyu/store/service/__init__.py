"""The store's rules: catalogue, flash sales, the queue, reservations, payment, expiry,
F-codes and referrals. Keyword-only functions that take a session; no HTTP here.

Which ledger decides (SQL or Redis) is the caller's choice, passed as ``ledger=``; the rules
around it (validation, idempotency hashing, payment, expiry) are the same for both.

The rules live in one module per part; this package's namespace is their public face."""

from __future__ import annotations

from canyu.store.service.catalogue import (
    add_sku,
    create_product,
    get_listing,
    get_product,
    list_products,
    set_listing,
)
from canyu.store.service.common import MAX_LEAD, MAX_QUANTITY, MAX_STOCK
from canyu.store.service.purchases import (
    ReservationExpired,
    expire_due,
    fcode_for,
    get_order,
    join_queue,
    orders_for,
    pay,
    purchase_request,
    reconcile_releases,
    request_hash,
    reserve,
)
from canyu.store.service.rewards import fcodes_for, issue_fcodes, mailbox, referral_count
from canyu.store.service.sales import (
    Phase,
    create_sale,
    draw_now,
    draw_record,
    due_draws,
    get_sale,
    list_sales,
    phase_of,
    upcoming_sales,
)
from canyu.store.service.views import SaleStats, SaleView, sale_stats, sale_view, users_by_id

__all__ = [
    "MAX_LEAD",
    "MAX_QUANTITY",
    "MAX_STOCK",
    "Phase",
    "ReservationExpired",
    "SaleStats",
    "SaleView",
    "add_sku",
    "create_product",
    "create_sale",
    "draw_now",
    "draw_record",
    "due_draws",
    "expire_due",
    "fcode_for",
    "fcodes_for",
    "get_listing",
    "get_order",
    "get_product",
    "get_sale",
    "issue_fcodes",
    "join_queue",
    "list_products",
    "list_sales",
    "mailbox",
    "orders_for",
    "pay",
    "phase_of",
    "purchase_request",
    "reconcile_releases",
    "referral_count",
    "request_hash",
    "reserve",
    "sale_stats",
    "sale_view",
    "set_listing",
    "upcoming_sales",
    "users_by_id",
]
