"""Countries: ISO codes, English and Chinese names, and the world map's outlines (pure; read
from ``world.json``, generated from Natural Earth by ``canyu.lab.markets_geo``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WORLD_JSON = Path(__file__).with_name("world.json")


@dataclass(frozen=True, slots=True)
class Country:
    iso3: str
    iso2: str
    name_en: str
    name_zh: str
    path: str  # SVG path on the map's box; "" for countries too small for a 1:110m map

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


@dataclass(frozen=True, slots=True)
class World:
    width: float
    height: float
    countries: dict[str, Country]
    by_iso2: dict[str, str]

    def resolve(self, code: str) -> Country | None:
        """A country by its ISO 3166-1 alpha-3 or alpha-2 code (any case)."""
        text = (code or "").strip().upper()
        if len(text) == 2:
            text = self.by_iso2.get(text, "")
        return self.countries.get(text)


@cache
def world() -> World:
    raw = json.loads(WORLD_JSON.read_text(encoding="utf-8"))
    countries = {
        iso3: Country(iso3, c.get("a2", ""), c["en"], c["zh"], c.get("d", ""))
        for iso3, c in raw["countries"].items()
    }
    return World(
        width=float(raw["width"]),
        height=float(raw["height"]),
        countries=countries,
        by_iso2={c.iso2: c.iso3 for c in countries.values() if c.iso2},
    )
