"""What the hotspots routes and pages take from the app: how claim codes are looked for."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from canyu.hotspots import service


def claim_checks(request: Request, *, dns: bool) -> dict[str, Any]:
    """``verify_claim``'s ways of looking for a code: the page fetcher, and with ``dns`` a TXT
    lookup (tests give the app their own fetcher, ``state.hotspots_fetcher``, or resolver,
    ``state.hotspots_resolver``)."""
    state = request.app.state
    fetch = getattr(state, "hotspots_fetcher", None) or service.http_fetcher
    lookup = service.dns_txt(getattr(state, "hotspots_resolver", None)) if dns else None
    return {"fetch": fetch, "dns_lookup": lookup}
