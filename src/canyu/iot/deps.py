"""The fleet's filters from a query string, as the API and the page both read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from canyu.iot.service import FleetFilters

Filter = Annotated[str, Query(max_length=64)]


def fleet_filters(
    product: Filter = "",
    kind: Filter = "",
    model: Filter = "",
    version: Filter = "",
    channel: Filter = "",
    country: Filter = "",
    seen: Filter = "",
) -> FleetFilters:
    return FleetFilters(product, kind, model, version, channel, country, seen)


FleetQuery = Annotated[FleetFilters, Depends(fleet_filters)]
