"""Which device is asking: devices authenticate with their own token
(``Authorization: Bearer cyd_...``), not a friend's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from canyu.deps import DbSession
from canyu.devices import identity, service
from canyu.devices.models import Device


def current_device(request: Request, session: DbSession) -> Device:
    raw = identity.bearer(request.headers.get("authorization"))
    return service.authenticate(session, raw_token=raw)


CurrentDevice = Annotated[Device, Depends(current_device)]
