"""Store rules: F-codes."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import service as community
from canyu.store.models import (
    FCode,
    Order,
    ReferralCredit,
)
from canyu.store.service.sales import get_sale


def issue_fcodes(session: Session, *, actor: User, sale_id: int) -> list[FCode]:
    """Give the F-code slice to the friends with the most contribution credit (ties: the
    earlier account), one code each, never more codes than the slice has units."""
    accounts.require_team(actor)
    sale = get_sale(session, sale_id=sale_id)
    holders = set(session.scalars(select(FCode.user_id).where(FCode.sale_id == sale_id)))
    room = sale.fcode_stock - len(holders)
    if room <= 0:
        return []
    ranked = sorted(
        (
            (c.points, uid)
            for uid, c in community.contributions(session).items()
            if c.points > 0 and uid not in holders
        ),
        key=lambda item: (-item[0], item[1]),
    )[:room]
    codes = [
        FCode(code=_new_fcode(), sale_id=sale_id, user_id=uid, points=points)
        for points, uid in ranked
    ]
    session.add_all(codes)
    session.flush()
    return codes


def _new_fcode() -> str:
    # 16 characters of Crockford base32: unguessable, easy to read out and type.
    alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
    return "F" + "".join(secrets.choice(alphabet) for _ in range(15))


def fcodes_for(session: Session, *, user_id: int) -> list[FCode]:
    return list(
        session.scalars(select(FCode).where(FCode.user_id == user_id).order_by(FCode.id.desc()))
    )


def mailbox(email: str) -> str:
    """An address reduced to its mailbox: no +tag, and no dots where the provider ignores them."""
    local, _, domain = email.lower().partition("@")
    local = local.split("+", 1)[0]
    if domain in ("gmail.com", "googlemail.com"):
        local, domain = local.replace(".", ""), "gmail.com"
    return f"{local}@{domain}"


def _credit_referrer(session: Session, *, order: Order) -> None:
    """Credit the referrer on the referred friend's first paid order, unless it looks like the
    same person: the same mailbox, or a card the referrer has paid with."""
    if order.referrer_id is None or order.referrer_id == order.buyer_id:
        return
    if session.scalar(select(ReferralCredit).where(ReferralCredit.referred_id == order.buyer_id)):
        return
    referrer = session.get(User, order.referrer_id)
    buyer = session.get(User, order.buyer_id)
    if referrer is None or buyer is None or mailbox(referrer.email) == mailbox(buyer.email):
        return
    same_card = session.scalar(
        select(func.count())
        .select_from(Order)
        .where(
            Order.buyer_id == referrer.id,
            Order.payment_fingerprint == order.payment_fingerprint,
        )
    )
    if same_card:
        return
    try:
        with session.begin_nested():
            session.add(
                ReferralCredit(referrer_id=referrer.id, referred_id=buyer.id, order_id=order.id)
            )
    except IntegrityError:
        return  # credited by a concurrent payment of another order of the same friend


def referral_count(session: Session, *, user_id: int) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(ReferralCredit)
            .where(ReferralCredit.referrer_id == user_id)
        )
        or 0
    )
