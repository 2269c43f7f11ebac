"""The device registry's API: a device gives up its token, the team revokes one. Thin: rules
live in canyu.devices.service. Enrolment, check-ins and reports are the update service's
(canyu.releases.api), which builds on this registry."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from canyu.accounts.deps import TeamUser
from canyu.db import MAX_ID
from canyu.deps import DbSession
from canyu.devices import service
from canyu.devices.deps import CurrentDevice

router = APIRouter(prefix="/api/v1", tags=["devices"])


@router.delete("/devices/me", status_code=status.HTTP_204_NO_CONTENT)
def revoke_me(device: CurrentDevice, session: DbSession) -> None:
    """Revoke this device's token (a reset or a sale): it must register again."""
    service.revoke(session, device_id=device.id)


@router.post("/devices/{device_id}/revoke", status_code=status.HTTP_204_NO_CONTENT)
def revoke(
    device_id: Annotated[int, Path(ge=1, le=MAX_ID)], actor: TeamUser, session: DbSession
) -> None:
    service.revoke(session, device_id=device_id, actor=actor)
