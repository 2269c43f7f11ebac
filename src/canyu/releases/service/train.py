"""Releases rules: the weekly train."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from canyu.accounts import service as accounts
from canyu.accounts.models import User
from canyu.community import service as community
from canyu.community.models import Post, Status
from canyu.errors import Conflict
from canyu.releases import versions
from canyu.releases.models import (
    Build,
    Channel,
    ReleaseProduct,
    TrainItem,
)
from canyu.releases.service.builds import create_build, latest_build
from canyu.releases.service.common import log
from canyu.releases.service.products import get_product, list_products
from canyu.releases.train import TrainSchedule, holiday_name

BOARDING = frozenset({Status.ACCEPTED.value, Status.PLANNED.value})


def train_attach(session: Session, *, actor: User, product_key: str, post_id: int) -> Post:
    """Put a post on the product's next weekly train. An accepted post boarding the train is
    planned now (its friends hear of it); a planned post stays planned."""
    accounts.require_team(actor)
    product = get_product(session, key=product_key)
    post = community.get_post(session, post_id=post_id)
    if post.status not in BOARDING:
        raise Conflict(
            f"Post {post_id} is {post.status}; only accepted or planned posts board the train."
        )
    if session.get(TrainItem, (product.id, post.id)) is None:
        session.add(TrainItem(product_id=product.id, post_id=post.id, attached_by_id=actor.id))
        session.flush()
    if post.status == Status.ACCEPTED.value:
        community.change_status(session, actor=actor, post_id=post.id, status=Status.PLANNED.value)
    return post


def product_for_post(session: Session, *, post: Post) -> ReleaseProduct | None:
    """The product a post is about: the one its device model names (by name or key), or the
    only product there is; None when that cannot be told."""
    products = list_products(session)
    model = (post.device_model or "").strip().casefold()
    for product in products:
        if model and model in (product.name.casefold(), product.key.casefold()):
            return product
    return products[0] if len(products) == 1 else None


def trains_of(session: Session, *, post_id: int) -> list[ReleaseProduct]:
    """The products on whose next train the post is."""
    query = (
        select(ReleaseProduct)
        .join(TrainItem, TrainItem.product_id == ReleaseProduct.id)
        .where(TrainItem.post_id == post_id)
        .order_by(ReleaseProduct.name)
    )
    return list(session.scalars(query))


def board_when_planned(session: Session, post: Post, actor: User) -> None:
    """A post the team plans is on its product's next train at once (unless it already is on
    one, or its product cannot be told: the post's page then asks which)."""
    if post.status != Status.PLANNED.value or trains_of(session, post_id=post.id):
        return
    product = product_for_post(session, post=post)
    if product is not None:
        session.add(TrainItem(product_id=product.id, post_id=post.id, attached_by_id=actor.id))
        session.flush()


def train_detach(session: Session, *, actor: User, product_key: str, post_id: int) -> None:
    accounts.require_team(actor)
    product = get_product(session, key=product_key)
    session.execute(
        delete(TrainItem).where(TrainItem.product_id == product.id, TrainItem.post_id == post_id)
    )


def train_posts(session: Session, *, product_key: str) -> list[Post]:
    product = get_product(session, key=product_key)
    query = (
        select(Post)
        .join(TrainItem, TrainItem.post_id == Post.id)
        .where(TrainItem.product_id == product.id)
        .order_by(Post.vote_count.desc(), Post.id)
    )
    return list(session.scalars(query))


def cut_train(
    session: Session,
    *,
    actor: User | None,
    product_key: str,
    version: str | None = None,
    notes: str = "",
    allow_empty: bool = False,
) -> Build:
    """This week's developer build, from the planned posts the team put on the train."""
    accounts.require_team(actor)
    product = get_product(session, key=product_key)
    boarded = train_posts(session, product_key=product_key)
    planned = [p for p in boarded if p.status == Status.PLANNED.value]
    if not planned and not allow_empty:
        raise Conflict(
            f"No planned posts are on {product_key}'s train; attach some or allow an empty build."
        )
    if version is None:
        latest = latest_build(session, product_id=product.id, channel=Channel.DEVELOPER.value)
        parsed = versions.next_version(versions.parse_version(latest.version) if latest else None)
        version = str(parsed)
    build = create_build(
        session,
        actor=actor,
        product_key=product_key,
        channel=Channel.DEVELOPER.value,
        version=version,
        notes=notes,
        post_ids=[p.id for p in planned],
    )
    session.execute(
        delete(TrainItem).where(
            TrainItem.product_id == product.id, TrainItem.post_id.in_([p.id for p in boarded])
        )
    )
    return build


@dataclass(frozen=True)
class TrainRun:
    skipped_holiday: str | None
    builds: list[Build]
    nothing_planned: list[str]


def scheduled_train(
    session: Session, *, schedule: TrainSchedule, now: datetime, products: Sequence[str] = ()
) -> TrainRun:
    """What the weekly job does: cut every product's train, unless today is a public holiday."""
    local_day = now.astimezone(schedule.zone).date()
    holiday = holiday_name(schedule.country, local_day)
    if holiday:
        log.info("weekly train skipped: %s is %s in %s", local_day, holiday, schedule.country)
        return TrainRun(holiday, [], [])
    keys = list(products) or [p.key for p in list_products(session)]
    built: list[Build] = []
    empty: list[str] = []
    for key in keys:
        try:
            built.append(cut_train(session, actor=None, product_key=key))
        except Conflict as exc:
            log.info("weekly train for %s: %s", key, exc.message)
            empty.append(key)
    return TrainRun(None, built, empty)
