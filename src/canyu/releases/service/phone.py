"""What the platform tells a phone besides updates, and what the phone files for its owner:
the owner's notices ("fixed in build X, it is on your phone now", status changes, comments) and
feedback posted from the device with its product, model, build and channel filled in."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from canyu.accounts.models import User
from canyu.community import service as community
from canyu.community.models import Notification, Post
from canyu.devices.models import Device
from canyu.devices.push import Message
from canyu.devices.topics import device_topic
from canyu.errors import Forbidden
from canyu.releases.models import ReleaseProduct

MAX_NOTICES = 100
MAX_LOG = 4_000  # characters of a log excerpt kept in a post


def owner_of(session: Session, device: Device) -> User:
    owner = session.get(User, device.owner_id) if device.owner_id is not None else None
    if owner is None:
        raise Forbidden("This device is not registered to a friend's account.")
    return owner


def device_notices(
    session: Session, *, device: Device, after: int = 0, limit: int = MAX_NOTICES
) -> tuple[User | None, list[Notification]]:
    """The owner's notices newer than ``after`` (the last id the phone holds), oldest first.
    A device without an owner has none."""
    owner = session.get(User, device.owner_id) if device.owner_id is not None else None
    if owner is None:
        return None, []
    found = session.scalars(
        select(Notification)
        .where(Notification.user_id == owner.id, Notification.id > after)
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    return owner, list(found)


def notice_push(device: Device) -> Message:
    """The doorbell for a device's new notice: no content (the topic is not private), only
    "fetch your notices"; the phone fetches them with its token."""
    return device_topic(device.id), {"event": "notice"}


def device_feedback(
    session: Session,
    *,
    device: Device,
    kind: str,
    title: str,
    body: str,
    log: str | None = None,
) -> Post:
    """A post by the device's owner, with the device's product, model, build and channel, and
    the end of a log excerpt if one was attached."""
    owner = owner_of(session, device)
    product = session.get(ReleaseProduct, device.product_id)
    build = device.current_version or "unknown"
    footer = (
        f"\n\n---\nSent from the device: {product.name if product else 'unknown product'}, "
        f"model {device.model}, build {build}, {device.channel} channel."
    )
    excerpt = ""
    if log and log.strip():
        tail = log.strip()[-MAX_LOG:]
        excerpt = f"\n\nLog excerpt:\n```\n{tail}\n```"
    room = community.MAX_BODY - len(footer) - len(excerpt)
    text = body.strip()[: max(0, room)] or title
    return community.create_post(
        session,
        author=owner,
        kind=kind,
        title=title,
        body=f"{text}{footer}{excerpt}",
        device_model=device.model,
        software_build=device.current_version,
    )
