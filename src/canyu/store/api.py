"""The store's JSON API: catalogue, sales, the queue, purchases, payment, draws, the console."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, Header, Path, Request
from fastapi.responses import Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from canyu import fastpath
from canyu.accounts.deps import CurrentUser, MaybeUser, TeamUser
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.errors import CanyuError, InvalidInput, NotFound
from canyu.store import service
from canyu.store.ledger import DrawPending, LedgerUnavailable, Reservation
from canyu.store.ledger_redis import RedisLedger
from canyu.store.models import Sku
from canyu.store.passes import PASS_HEADER
from canyu.store.runtime import StoreRuntime, store_runtime
from canyu.store.schemas import (
    DrawOut,
    FCodeOut,
    JoinOut,
    ListingIn,
    ListingOut,
    OrderOut,
    PayIn,
    ProductIn,
    ProductOut,
    PurchaseIn,
    ReferralOut,
    ReservationOut,
    SaleIn,
    SaleOut,
    SkuIn,
    SkuOut,
    SpotOut,
    StatsOut,
)

router = APIRouter(prefix="/api/v1", tags=["store"])

SaleId = Annotated[int, Path(ge=1, le=MAX_ID)]


# --- catalogue ----------------------------------------------------------------------------------


@router.get("/store/products", response_model=list[ProductOut])
def products(session: DbSession) -> list[ProductOut]:
    return [ProductOut.of(p) for p in service.list_products(session)]


@router.post("/store/products", response_model=ProductOut, status_code=201)
def create_product(body: ProductIn, session: DbSession, user: TeamUser) -> ProductOut:
    product = service.create_product(session, actor=user, **body.model_dump())
    return ProductOut.of(product)


@router.post("/store/products/{slug}/skus", response_model=SkuOut, status_code=201)
def add_sku(slug: str, body: SkuIn, session: DbSession, user: TeamUser) -> SkuOut:
    product = service.get_product(session, slug=slug)
    sku = service.add_sku(session, actor=user, product=product, code=body.code, label=body.label)
    return SkuOut(id=sku.id, code=sku.code, label=sku.label, listings=[])


@router.put("/store/skus/{sku_id}/listings/{country}", response_model=ListingOut)
def set_listing(
    sku_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    country: Annotated[str, Path(min_length=2, max_length=2)],
    body: ListingIn,
    session: DbSession,
    user: TeamUser,
) -> ListingOut:
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise NotFound(f"No SKU {sku_id}.")
    listing = service.set_listing(
        session,
        actor=user,
        sku=sku,
        country=country,
        price=body.price,
        stock=body.stock,
        currency=body.currency,
    )
    return ListingOut.of(listing)


# --- sales --------------------------------------------------------------------------------------


@router.get("/sales", response_model=list[SaleOut])
def sales(request: Request, session: DbSession) -> list[SaleOut]:
    runtime = store_runtime(request)
    now = runtime.now()
    return [
        SaleOut.of(service.sale_view(session, ledger=runtime.ledger, sale_id=sale.id, now=now))
        for sale in service.upcoming_sales(session, now=now)
    ]


@router.post("/sales", response_model=SaleOut, status_code=201)
def create_sale(body: SaleIn, request: Request, session: DbSession, user: TeamUser) -> SaleOut:
    runtime = store_runtime(request)
    now = runtime.now()
    sale = service.create_sale(
        session, actor=user, ledger=runtime.ledger, now=now, **body.model_dump()
    )
    return SaleOut.of(service.sale_view(session, ledger=runtime.ledger, sale_id=sale.id, now=now))


@router.get("/sales/{sale_id}", response_model=SaleOut)
def sale(sale_id: SaleId, request: Request, session: DbSession, user: MaybeUser) -> SaleOut:
    runtime = store_runtime(request)
    view = service.sale_view(
        session,
        ledger=runtime.ledger,
        sale_id=sale_id,
        viewer_id=user.id if user else None,
        now=runtime.now(),
    )
    return SaleOut.of(view)


@router.get("/sales/{sale_id}/draw", response_model=DrawOut)
def draw(sale_id: SaleId, session: DbSession) -> DrawOut:
    """The published draw: re-run it with `canyu store verify-draw --file draw.json`."""
    record = service.draw_record(session, sale=service.get_sale(session, sale_id=sale_id))
    if record is None:
        raise NotFound("The draw is made at the start of the sale; the seed is revealed then.")
    return DrawOut(
        sale_id=record.sale_id,
        commitment=record.commitment,
        seed=record.seed_hex,
        entrants=record.entrants,
        order=record.order,
    )


@router.post("/sales/{sale_id}/queue", response_model=JoinOut)
def join(sale_id: SaleId, request: Request, session: DbSession, user: CurrentUser) -> JoinOut:
    """Join the queue: before the start you enter the draw, after it you queue in order of
    arrival. Joining again is harmless and returns the same place."""
    runtime = store_runtime(request)
    spot = service.join_queue(
        session, ledger=runtime.ledger, sale_id=sale_id, user=user, now=runtime.now()
    )
    return JoinOut(
        spot=SpotOut(joined=spot.joined, in_draw=spot.in_draw, position=spot.position, ahead=None),
        sale_pass=runtime.passes.issue(sale_id=sale_id, buyer_id=user.id),
    )


@router.post(
    "/sales/{sale_id}/purchases",
    response_model=ReservationOut,
    status_code=201,
    responses={
        409: {"description": "Not started, not your turn, sold out, over the limit, F-code used"},
        422: {"description": "Bad quantity or Idempotency-Key, or the key reused differently"},
    },
)
async def purchase(
    sale_id: SaleId,
    request: Request,
    body: Annotated[PurchaseIn | None, Body()] = None,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
    sale_pass: Annotated[str | None, Header(alias=PASS_HEADER)] = None,
) -> Response:
    """Reserve units for the checkout window. Authenticated by the sale pass from joining the
    queue; a retry with the same Idempotency-Key returns the same reservation."""
    reservation = await place_purchase(
        store_runtime(request),
        sale_id=sale_id,
        sale_pass=sale_pass,
        idempotency_key=idempotency_key,
        wanted=body or PurchaseIn(),
    )
    headers = {"Idempotent-Replayed": "true"} if reservation.replayed else None
    return Response(
        ReservationOut.of(reservation).model_dump_json(),
        status_code=201,
        media_type="application/json",
        headers=headers,
    )


async def place_purchase(
    runtime: StoreRuntime,
    *,
    sale_id: int,
    sale_pass: str | None,
    idempotency_key: str | None,
    wanted: PurchaseIn,
) -> Reservation:
    """A purchase request, from the route or the fast lane: with Redis and the sale's terms
    known, one Lua call and no database; otherwise the service in a worker thread."""
    buyer_id = runtime.passes.buyer(sale_pass, sale_id=sale_id)
    referrer_id = runtime.referrals.referrer(wanted.referral)
    terms = runtime.cached_terms(sale_id)
    if isinstance(runtime.ledger, RedisLedger) and terms is not None and wanted.fcode is None:
        request = service.purchase_request(
            sale_id=sale_id,
            buyer_id=buyer_id,
            quantity=wanted.quantity,
            idempotency_key=idempotency_key,
            referrer_id=referrer_id,
        )
        try:
            return await runtime.ledger.areserve(terms, request, now=runtime.now())
        except (DrawPending, LedgerUnavailable):
            pass  # the synchronous path makes the draw or loads the sale, then reserves
    return await run_in_threadpool(
        _reserve, runtime, sale_id, buyer_id, wanted, idempotency_key, referrer_id
    )


PURCHASE_PATH = re.compile(r"^/api/v1/sales/([1-9][0-9]{0,9})/purchases$")
MAX_PURCHASE_BODY = 16 * 1024


class PurchaseFastLane:
    """ASGI middleware for the crowd's one request, ``POST /api/v1/sales/{id}/purchases``:
    the same ``place_purchase`` as the route, without FastAPI's routing and dependency
    resolution (per request they cost more than the purchase itself). Bodies that do not
    validate go on to the app, which answers with its usual 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = PURCHASE_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if found is None or scope["method"] != "POST" or int(found[1]) > MAX_ID:
            await self.app(scope, receive, send)
            return
        body = await fastpath.read_body(receive, MAX_PURCHASE_BODY)
        try:
            if len(body) > MAX_PURCHASE_BODY:
                raise InvalidInput("The purchase body is too large.")
            wanted = PurchaseIn.model_validate_json(body) if body.strip() else PurchaseIn()
        except ValidationError:
            await self.app(scope, _replay(body), send)
            return
        except CanyuError as exc:
            await fastpath.send_error(send, exc)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            reservation = await place_purchase(
                store_runtime(scope["app"]),
                sale_id=int(found[1]),
                sale_pass=headers.get(PASS_HEADER),
                idempotency_key=headers.get("idempotency-key"),
                wanted=wanted,
            )
        except Exception as exc:
            # As the app answers: 4xx for ours, 503 for an outage, else a 500 naming the request.
            await fastpath.send_error(send, fastpath.as_error(exc, where="purchase"))
            return
        extra = [(b"idempotent-replayed", b"true")] if reservation.replayed else []
        payload = ReservationOut.of(reservation).model_dump_json().encode()
        await fastpath.send_json(send, 201, payload, extra)


def _replay(body: bytes) -> Receive:
    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _reserve(
    runtime: StoreRuntime,
    sale_id: int,
    buyer_id: int,
    wanted: PurchaseIn,
    idempotency_key: str | None,
    referrer_id: int | None,
) -> Reservation:
    with runtime.writing(), runtime.database.session() as session:
        runtime.terms(session, sale_id)
        return service.reserve(
            session,
            ledger=runtime.ledger,
            sale_id=sale_id,
            buyer_id=buyer_id,
            quantity=wanted.quantity,
            idempotency_key=idempotency_key,
            fcode=wanted.fcode,
            referrer_id=referrer_id,
            now=runtime.now(),
        )


@router.get("/sales/{sale_id}/stats", response_model=StatsOut)
def stats(sale_id: SaleId, request: Request, session: DbSession, user: TeamUser) -> StatsOut:
    """The console's live view: ledger counters and the sell-out curve."""
    runtime = store_runtime(request)
    result = service.sale_stats(session, ledger=runtime.ledger, sale_id=sale_id, now=runtime.now())
    return StatsOut(
        sale=SaleOut.of(result.view),
        paid_units=result.paid_units,
        reserved_units=result.reserved_units,
        curve=result.curve,
    )


@router.post("/sales/{sale_id}/fcodes", response_model=list[FCodeOut], status_code=201)
def issue_fcodes(sale_id: SaleId, session: DbSession, user: TeamUser) -> list[FCodeOut]:
    """Give the sale's F-code slice to the friends with the most contribution credit."""
    codes = service.issue_fcodes(session, actor=user, sale_id=sale_id)
    return [FCodeOut.of(c) for c in codes]


# --- orders -------------------------------------------------------------------------------------


@router.get("/orders", response_model=list[OrderOut])
def orders(session: DbSession, user: CurrentUser) -> list[OrderOut]:
    return [OrderOut.of(o) for o in service.orders_for(session, buyer_id=user.id)]


@router.get("/orders/{number}", response_model=OrderOut)
def order(number: str, session: DbSession, user: CurrentUser) -> OrderOut:
    return OrderOut.of(service.get_order(session, number=number, buyer_id=user.id))


@router.post("/orders/{number}/pay", response_model=OrderOut)
def pay(
    number: str, body: PayIn, request: Request, session: DbSession, user: CurrentUser
) -> OrderOut:
    """Pay a reservation inside its checkout window (the same order paid twice stays paid)."""
    runtime = store_runtime(request)
    paid = service.pay(
        session,
        provider=runtime.provider,
        order_number=number,
        buyer_id=user.id,
        payment_token=body.payment_token,
        address=body.address.address(),
        now=runtime.now(),
    )
    return OrderOut.of(paid)


@router.get("/me/fcodes", response_model=list[FCodeOut])
def my_fcodes(session: DbSession, user: CurrentUser) -> list[FCodeOut]:
    return [FCodeOut.of(c) for c in service.fcodes_for(session, user_id=user.id)]


@router.get("/me/referral", response_model=ReferralOut)
def my_referral(request: Request, session: DbSession, user: CurrentUser) -> ReferralOut:
    code = store_runtime(request).referrals.code(user.id)
    base = request.app.state.settings.base_url.rstrip("/")
    return ReferralOut(
        code=code,
        url=f"{base}/store/r/{code}",
        credited=service.referral_count(session, user_id=user.id),
    )
