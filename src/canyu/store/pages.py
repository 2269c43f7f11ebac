"""The store's pages: products, the sale page, order history, and the team's sale console.
Thin: every rule is in ``service``; refusals are shown on the page they came from."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.deps import MaybeUser
from canyu.accounts.models import User
from canyu.db import MAX_ID
from canyu.deps import DbSession, RowId
from canyu.errors import CanyuError, InvalidInput
from canyu.i18n import Gettext, display_country, gettext_for
from canyu.store import service
from canyu.store.delivery import Address
from canyu.store.ledger import SaleTerms
from canyu.store.models import FCode, Listing, Product
from canyu.store.money import format_price
from canyu.store.runtime import StoreRuntime, store_runtime
from canyu.web.csrf import check_csrf
from canyu.web.forms import FormStr, redirect, signin_redirect
from canyu.web.templating import TEMPLATE_DIR, is_secure, render, request_locale

router = APIRouter(include_in_schema=False)

REFERRAL_COOKIE = "canyu_ref"


ADDRESS_FIELDS = {
    "address.name": "Recipient",
    "address.phone": "Phone number",
    "address.line": "Street address",
    "address.city": "City",
    "address.postcode": "Postcode",
    "address.country": "Country",
}


def refusal_text(exc: CanyuError, _: Gettext, language: str = "en") -> str:
    """What a refused purchase means, in the viewer's language."""
    details = exc.details if isinstance(exc.details, dict) else {}
    if "sale_country" in details:
        names = {
            "country": display_country(str(details["sale_country"]), language),
            "yours": display_country(str(details.get("buyer_country", "")), language),
        }
        if "buyer_country" in details:
            return (
                _("This sale is for buyers in %(country)s; your account is in %(yours)s.") % names
            )
        return _("This sale delivers only in %(country)s.") % names
    if str(details.get("field", "")) in ADDRESS_FIELDS:
        label = _(ADDRESS_FIELDS[str(details["field"])])
        return _("Check the delivery address: %(field)s.") % {"field": label}
    messages = {
        "not_started": _("The sale has not started yet."),
        "queue_not_open": _("The queue for this sale is not open yet."),
        "not_in_queue": _("Join the queue first."),
        "sold_out": _("Sold out. Units of unpaid reservations come back when they expire."),
        "over_limit": _("You already hold the most units one friend may buy in this sale."),
        "fcode_used": _("This F-code has already been used."),
        "reservation_expired": _("This reservation expired and its unit went back to the sale."),
        "payment_declined": _("The payment was declined."),
        "draw_pending": _("The draw is being made; retry in a second."),
    }
    if exc.code == "not_your_turn":
        return _(
            "You are number %(position)s in line; positions up to %(admitted)s may buy now."
        ) % {
            "position": details.get("position"),
            "admitted": details.get("admitted"),
        }
    return messages.get(exc.code) or _(exc.message)


# Product pictures, beside the app's other static files (canyu.app mounts them at /static).
PHOTOS = TEMPLATE_DIR.parent / "static" / "store"


class PageContext:
    """Helpers the store templates use: prices and country names in the viewer's language."""

    def __init__(self, language: str) -> None:
        self.language = language

    def price(self, amount: Decimal, currency: str, country: str) -> str:
        return format_price(amount, currency, country=country, language=self.language)

    def country(self, code: str) -> str:
        return display_country(code, self.language)

    @staticmethod
    def photo(product: Product) -> str | None:
        """The product's picture, shipped as a static file named by its slug (an SVG of a few
        kB, so that pages stay light), or None."""
        name = f"{product.slug}.svg"
        return f"/static/store/{name}" if (PHOTOS / name).is_file() else None

    def name(self, product: Product) -> str:
        """A product's name in Chinese when the viewer reads Chinese and one exists."""
        if self.language == "zh" and product.name_zh:
            return product.name_zh
        return product.name


def _page(
    request: Request,
    template: str,
    user: User | None,
    context: dict[str, Any],
    *,
    status_code: int = 200,
) -> Response:
    language = request_locale(request, user)
    return render(
        request,
        template,
        {"store": PageContext(language), "nav": "store", **context},
        user=user,
        status_code=status_code,
    )


# --- products -----------------------------------------------------------------------------------


@router.get("/store", response_class=HTMLResponse)
def store_index(request: Request, session: DbSession, user: MaybeUser) -> Response:
    runtime = store_runtime(request)
    now = runtime.now()
    sales = [
        service.sale_view(session, ledger=runtime.ledger, sale_id=sale.id, now=now)
        for sale in service.upcoming_sales(session, now=now)
    ]
    return _page(
        request,
        "store/index.html",
        user,
        {"products": service.list_products(session), "sales": sales, "now": now},
    )


@router.get("/store/products/{slug}", response_class=HTMLResponse)
def product_page(slug: str, request: Request, session: DbSession, user: MaybeUser) -> Response:
    runtime = store_runtime(request)
    now = runtime.now()
    product = service.get_product(session, slug=slug)
    listing_ids = {listing.id for sku in product.skus for listing in sku.listings}
    sales = [
        service.sale_view(session, ledger=runtime.ledger, sale_id=sale.id, now=now)
        for sale in service.upcoming_sales(session, now=now)
        if sale.listing_id in listing_ids
    ]
    return _page(
        request, "store/product.html", user, {"product": product, "sales": sales, "now": now}
    )


# --- the sale page ------------------------------------------------------------------------------


def _sale_page(
    request: Request,
    session: Session,
    user: User | None,
    sale_id: int,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    runtime = store_runtime(request)
    now = runtime.now()
    view = service.sale_view(
        session,
        ledger=runtime.ledger,
        sale_id=sale_id,
        viewer_id=user.id if user else None,
        now=now,
    )
    fcode = None
    if user is not None:
        fcode = session.scalar(
            select(FCode).where(FCode.sale_id == sale_id, FCode.user_id == user.id)
        )
    return _page(
        request,
        "store/sale.html",
        user,
        {
            "view": view,
            "now": now,
            "fcode": fcode,
            "error": error,
            # A fresh key per page view: a double click or a resubmitted form buys once.
            "purchase_key": secrets.token_urlsafe(18),
            "test_payments": runtime.provider.name == "fake",
            "reserved": request.query_params.get("reserved"),
        },
        status_code=status_code,
    )


@router.get("/store/sales/{sale_id}", response_class=HTMLResponse)
def sale_page(sale_id: RowId, request: Request, session: DbSession, user: MaybeUser) -> Response:
    return _sale_page(request, session, user, _sale_id(sale_id))


def _sale_id(value: int) -> int:
    if not 0 < value <= MAX_ID:
        raise InvalidInput("No such sale.")
    return value


def _refused(
    request: Request, session: Session, user: User, sale_id: int, exc: CanyuError
) -> Response:
    session.rollback()
    language = request_locale(request, user)
    return _sale_page(
        request,
        session,
        user,
        sale_id,
        error=refusal_text(exc, gettext_for(language), language),
        status_code=exc.status_code,
    )


@router.post("/store/sales/{sale_id}/join", response_class=HTMLResponse)
def join(
    sale_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/store/sales/{sale_id}")
    runtime = store_runtime(request)
    try:
        service.join_queue(
            session, ledger=runtime.ledger, sale_id=_sale_id(sale_id), user=user, now=runtime.now()
        )
        session.commit()
    except CanyuError as exc:
        return _refused(request, session, user, sale_id, exc)
    return redirect(f"/store/sales/{sale_id}")


@router.post("/store/sales/{sale_id}/buy", response_class=HTMLResponse)
def buy(
    sale_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    idempotency_key: FormStr = "",
    quantity: FormStr = "1",
    fcode: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/store/sales/{sale_id}")
    runtime = store_runtime(request)
    try:
        units = int(quantity) if quantity.strip().lstrip("-").isdigit() else 0
        with runtime.writing():
            reservation = service.reserve(
                session,
                ledger=runtime.ledger,
                sale_id=_sale_id(sale_id),
                buyer_id=user.id,
                quantity=units,
                idempotency_key=idempotency_key,
                fcode=fcode.strip() or None,
                referrer_id=_referrer(request, runtime),
                now=runtime.now(),
            )
            session.commit()
    except CanyuError as exc:
        return _refused(request, session, user, sale_id, exc)
    return redirect(f"/store/sales/{sale_id}?reserved={reservation.number}#checkout")


def _referrer(request: Request, runtime: StoreRuntime) -> int | None:
    return runtime.referrals.referrer(request.cookies.get(REFERRAL_COOKIE))


@router.post("/store/orders/{number}/pay", response_class=HTMLResponse)
def pay(
    number: str,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    payment_token: FormStr = "",
    name: FormStr = "",
    phone: FormStr = "",
    line: FormStr = "",
    city: FormStr = "",
    postcode: FormStr = "",
    country: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/store/orders")
    runtime = store_runtime(request)
    order = service.get_order(session, number=number, buyer_id=user.id)
    try:
        service.pay(
            session,
            provider=runtime.provider,
            order_number=number,
            buyer_id=user.id,
            payment_token=payment_token.strip() or "missing",
            address=Address(name, phone, line, city, postcode, country),
            now=runtime.now(),
        )
        session.commit()
    except CanyuError as exc:
        return _refused(request, session, user, order.sale_id, exc)
    return redirect(f"/store/sales/{order.sale_id}#checkout")


@router.get("/store/r/{code}")
def referral_link(code: str, request: Request) -> Response:
    """A friend's referral link: remembered for the next purchase in this browser."""
    response = redirect("/store")
    if store_runtime(request).referrals.referrer(code) is not None:
        response.set_cookie(
            REFERRAL_COOKIE,
            code,
            max_age=30 * 24 * 3600,
            httponly=True,
            samesite="lax",
            secure=is_secure(request),
        )
    return response


# --- order history ------------------------------------------------------------------------------


@router.get("/store/orders", response_class=HTMLResponse)
def orders_page(request: Request, session: DbSession, user: MaybeUser) -> Response:
    if user is None:
        return signin_redirect("/store/orders")
    runtime = store_runtime(request)
    code = runtime.referrals.code(user.id)
    return _page(
        request,
        "store/orders.html",
        user,
        {
            "orders": service.orders_for(session, buyer_id=user.id),
            "fcodes": service.fcodes_for(session, user_id=user.id),
            "referral_url": f"{str(request.base_url).rstrip('/')}/store/r/{code}",
            "referred": service.referral_count(session, user_id=user.id),
            "now": runtime.now(),
        },
    )


# --- the console --------------------------------------------------------------------------------


def _console(
    request: Request,
    session: Session,
    user: User,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    runtime = store_runtime(request)
    now = runtime.now()
    views = [
        service.sale_view(session, ledger=runtime.ledger, sale_id=sale.id, now=now)
        for sale in service.list_sales(session)
    ]
    listings = list(session.scalars(select(Listing).order_by(Listing.id)))
    return _page(
        request,
        "store/console.html",
        user,
        {
            "views": views,
            "listings": listings,
            "error": error,
            "form": form or {},
            "now": now,
            "nav": "console",
        },
        status_code=status_code,
    )


@router.get("/console/store", response_class=HTMLResponse)
def console(request: Request, session: DbSession, user: MaybeUser) -> Response:
    if user is None:
        return signin_redirect("/console/store")
    accounts.require_team(user)
    return _console(request, session, user)


@router.post("/console/store/sales", response_class=HTMLResponse)
def console_create_sale(
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
    listing_id: FormStr = "",
    title: FormStr = "",
    starts_at: FormStr = "",
    stock: FormStr = "",
    fcode_stock: FormStr = "0",
    buyer_limit: FormStr = "1",
    hold_minutes: FormStr = "15",
    prequeue_minutes: FormStr = "10",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect("/console/store")
    accounts.require_team(user)
    runtime = store_runtime(request)
    form = {
        "listing_id": listing_id,
        "title": title,
        "starts_at": starts_at,
        "stock": stock,
        "fcode_stock": fcode_stock,
        "buyer_limit": buyer_limit,
        "hold_minutes": hold_minutes,
        "prequeue_minutes": prequeue_minutes,
    }
    try:
        sale = service.create_sale(
            session,
            actor=user,
            ledger=runtime.ledger,
            listing_id=_number(listing_id, "listing_id"),
            title=title,
            starts_at=_utc(starts_at),
            stock=_number(stock, "stock"),
            fcode_stock=_number(fcode_stock, "fcode_stock"),
            buyer_limit=_number(buyer_limit, "buyer_limit"),
            hold_minutes=_number(hold_minutes, "hold_minutes"),
            prequeue_minutes=_number(prequeue_minutes, "prequeue_minutes"),
            now=runtime.now(),
        )
        session.commit()
    except CanyuError as exc:
        session.rollback()
        _ = gettext_for(request_locale(request, user))
        return _console(
            request, session, user, error=_(exc.message), form=form, status_code=exc.status_code
        )
    return redirect(f"/console/store/sales/{sale.id}")


def _number(value: str, field: str) -> int:
    text = value.strip()
    if not text.isdigit() or len(text) > 9:
        raise InvalidInput(f"{field.replace('_', ' ').capitalize()} is a whole number.")
    return int(text)


def _utc(value: str) -> datetime:
    """The console's start field: a local date and time typed as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput("Give the start as a date and time (UTC).") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@router.get("/console/store/sales/{sale_id}", response_class=HTMLResponse)
def console_sale(sale_id: RowId, request: Request, session: DbSession, user: MaybeUser) -> Response:
    if user is None:
        return signin_redirect(f"/console/store/sales/{sale_id}")
    accounts.require_team(user)
    runtime = store_runtime(request)
    stats = service.sale_stats(
        session, ledger=runtime.ledger, sale_id=_sale_id(sale_id), now=runtime.now()
    )
    fcodes = list(session.scalars(select(FCode).where(FCode.sale_id == sale_id)))
    holders = service.users_by_id(session, [c.user_id for c in fcodes])
    return _page(
        request,
        "store/console_sale.html",
        user,
        {
            "stats": stats,
            "terms": SaleTerms.of(stats.view.sale),
            "fcodes": fcodes,
            "holders": holders,
            "now": runtime.now(),
            "nav": "console",
        },
    )


@router.post("/console/store/sales/{sale_id}/fcodes")
def console_issue_fcodes(
    sale_id: RowId,
    request: Request,
    session: DbSession,
    user: MaybeUser,
    csrf_token: FormStr = "",
) -> Response:
    check_csrf(request, csrf_token)
    if user is None:
        return signin_redirect(f"/console/store/sales/{sale_id}")
    service.issue_fcodes(session, actor=user, sale_id=_sale_id(sale_id))
    session.commit()
    return redirect(f"/console/store/sales/{sale_id}#fcodes")
