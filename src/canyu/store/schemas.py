"""Request and response bodies of the store's JSON API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from canyu.store.delivery import Address
from canyu.store.ledger import Reservation
from canyu.store.models import FCode, Listing, Order, Product, Sale
from canyu.store.service import SaleView


class ListingOut(BaseModel):
    id: int
    country: str
    currency: str
    price: Decimal
    stock: int

    @classmethod
    def of(cls, listing: Listing) -> ListingOut:
        return cls(
            id=listing.id,
            country=listing.country,
            currency=listing.currency,
            price=listing.price,
            stock=listing.stock,
        )


class SkuOut(BaseModel):
    id: int
    code: str
    label: str
    listings: list[ListingOut]


class ProductOut(BaseModel):
    slug: str
    name: str
    name_zh: str
    description: str
    skus: list[SkuOut]

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        return cls(
            slug=product.slug,
            name=product.name,
            name_zh=product.name_zh,
            description=product.description,
            skus=[
                SkuOut(
                    id=sku.id,
                    code=sku.code,
                    label=sku.label,
                    listings=[ListingOut.of(listing) for listing in sku.listings],
                )
                for sku in product.skus
            ],
        )


class ProductIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slug: str = Field(max_length=64)
    name: str = Field(max_length=120)
    name_zh: str = Field("", max_length=120)
    description: str = Field("", max_length=4000)
    description_zh: str = Field("", max_length=4000)


class SkuIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(max_length=64)
    label: str = Field(max_length=120)


class ListingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    price: Decimal = Field(gt=0, max_digits=12, decimal_places=2)
    stock: int = Field(ge=0, le=10_000_000)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


class SaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    listing_id: int = Field(ge=1, le=2_147_483_647)
    starts_at: datetime
    stock: int = Field(ge=1, le=10_000_000)
    title: str = Field("", max_length=120)
    fcode_stock: int = Field(0, ge=0)
    buyer_limit: int = Field(1, ge=1, le=10)
    hold_minutes: int = Field(15, ge=1, le=24 * 60)
    prequeue_minutes: int = Field(10, ge=1, le=7 * 24 * 60)


class SpotOut(BaseModel):
    joined: bool
    in_draw: bool = Field(description="In the pre-queue draw; the position comes at the start.")
    position: int | None
    ahead: int | None = Field(description="Positions before yours that may still buy first.")


class SaleOut(BaseModel):
    id: int
    title: str
    country: str
    currency: str
    unit_price: Decimal
    queue_opens_at: datetime
    starts_at: datetime
    stock: int
    fcode_stock: int
    buyer_limit: int
    hold_minutes: int
    phase: str
    commitment: str = Field(description="SHA-256 of the draw's seed, published before the sale.")
    seed: str | None = Field(description="The seed in hex, revealed once the draw is made.")
    units_left: int
    fcode_units_left: int
    entrants: int
    queue_length: int
    admitted_upto: int
    sold_out_at: datetime | None
    sold_out_units: int | None
    sellout_seconds: float | None
    you: SpotOut | None

    @classmethod
    def of(cls, view: SaleView) -> SaleOut:
        sale: Sale = view.sale
        snapshot = view.snapshot
        you = None
        if view.spot is not None:
            you = SpotOut(
                joined=view.spot.joined,
                in_draw=view.spot.in_draw,
                position=view.spot.position,
                ahead=view.ahead,
            )
        return cls(
            id=sale.id,
            title=sale.title,
            country=sale.listing.country,
            currency=sale.listing.currency,
            unit_price=sale.listing.price,
            queue_opens_at=sale.queue_opens_at,
            starts_at=sale.starts_at,
            stock=sale.stock,
            fcode_stock=sale.fcode_stock,
            buyer_limit=sale.buyer_limit,
            hold_minutes=sale.hold_seconds // 60,
            phase=view.phase.value,
            commitment=sale.commitment,
            seed=sale.seed.hex() if snapshot.drawn else None,
            units_left=snapshot.public_left,
            fcode_units_left=snapshot.fcode_left,
            entrants=snapshot.entrants,
            queue_length=snapshot.queue_length,
            admitted_upto=view.admitted_upto,
            sold_out_at=snapshot.sold_out_at,
            sold_out_units=snapshot.sold_out_units,
            sellout_seconds=view.sellout_seconds,
            you=you,
        )


class JoinOut(BaseModel):
    spot: SpotOut
    sale_pass: str = Field(description="Send as the X-Sale-Pass header when buying.")


class PurchaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int = Field(1, description="Units, at least 1 and at most the sale's limit.")
    fcode: str | None = Field(None, max_length=32, description="Your F-code for this sale.")
    referral: str | None = Field(None, max_length=200, description="A friend's referral code.")


class ReservationOut(BaseModel):
    number: str
    sale_id: int
    quantity: int
    channel: str
    status: str = "reserved"
    expires_at: datetime
    replayed: bool

    @classmethod
    def of(cls, reservation: Reservation) -> ReservationOut:
        return cls(
            number=reservation.number,
            sale_id=reservation.sale_id,
            quantity=reservation.quantity,
            channel=reservation.channel,
            expires_at=reservation.expires_at,
            replayed=reservation.replayed,
        )


class AddressIn(BaseModel):
    """Where the order goes: in the sale's country (else 403), checked at payment."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100, examples=["Li Wei"])
    phone: str = Field(max_length=32, examples=["+86 138 0013 8000"])
    line: str = Field(max_length=200, examples=["88 Century Avenue, Apt 1203"])
    city: str = Field(max_length=100, examples=["Shanghai"])
    postcode: str = Field(max_length=16, examples=["200120"])
    country: str = Field(max_length=2, examples=["CN"])

    def address(self) -> Address:
        return Address(**self.model_dump())


class AddressOut(BaseModel):
    name: str
    phone: str
    line: str
    city: str
    postcode: str
    country: str


class PayIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    payment_token: str = Field(
        min_length=1, max_length=200, description="From the payment provider's client."
    )
    address: AddressIn


class OrderOut(BaseModel):
    number: str
    sale_id: int
    quantity: int
    channel: str
    status: str
    unit_price: Decimal
    currency: str
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    address: AddressOut | None = Field(default=None, description="Given when it was paid.")

    @classmethod
    def of(cls, order: Order) -> OrderOut:
        return cls(
            number=order.number,
            sale_id=order.sale_id,
            quantity=order.quantity,
            channel=order.channel,
            status=order.status,
            unit_price=order.unit_price,
            currency=order.currency,
            created_at=order.created_at,
            expires_at=order.expires_at,
            paid_at=order.paid_at,
            address=(
                AddressOut(
                    name=order.delivery_name,
                    phone=order.delivery_phone or "",
                    line=order.delivery_line or "",
                    city=order.delivery_city or "",
                    postcode=order.delivery_postcode or "",
                    country=order.delivery_country or "",
                )
                if order.delivery_name
                else None
            ),
        )


class FCodeOut(BaseModel):
    code: str
    sale_id: int
    user_id: int
    points: int
    used_by_order: str | None

    @classmethod
    def of(cls, fcode: FCode) -> FCodeOut:
        return cls(
            code=fcode.code,
            sale_id=fcode.sale_id,
            user_id=fcode.user_id,
            points=fcode.points,
            used_by_order=fcode.order_number,
        )


class DrawOut(BaseModel):
    sale_id: int
    commitment: str
    seed: str
    entrants: list[int]
    order: list[int]


class StatsOut(BaseModel):
    sale: SaleOut
    paid_units: int
    reserved_units: int
    curve: list[tuple[float, int]]


class ReferralOut(BaseModel):
    code: str
    url: str
    credited: int
