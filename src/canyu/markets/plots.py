"""Inline SVG for the markets pages (pure: values in, markup out; no script, no tiles).

The world map colours each country by its score; the S-curve plot shows a country's
internet-use series, its fitted logistic and where its smartphone share stands on it; a
sparkline shows one indicator over time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

from canyu.markets.geo import world
from canyu.markets.scoring import SCurve

# Light to deep orange (the brand's accent), in five steps of the score's rank.
PALETTE = ("#fde7d6", "#fbc49a", "#f89a55", "#ef6c1a", "#b94a07")
NO_DATA = "#e3e3e8"


def colour(position: float) -> str:
    """The palette step for a position in [0, 1] (1 = best)."""
    index = min(len(PALETTE) - 1, max(0, int(position * len(PALETTE))))
    return PALETTE[index]


def world_map(
    scores: Mapping[str, tuple[float, int]],
    *,
    names: Mapping[str, str],
    opened: set[str],
    href: str,
    label: str,
) -> Markup:
    """Every country's outline, filled by its rank among ``scores`` (iso3 -> (score, rank));
    opened markets are outlined; each links to ``href`` with ``{iso3}`` filled in."""
    geo = world()
    total = max(len(scores), 1)
    parts = [
        f'<svg class="mk-map" viewBox="0 0 {geo.width:.0f} {geo.height:.0f}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for iso3, country in geo.countries.items():
        if not country.path:
            continue
        name = escape(names.get(iso3, country.name_en))
        got = scores.get(iso3)
        if got is None:
            parts.append(
                f'<path d="{country.path}" fill="{NO_DATA}" data-iso3="{iso3}">'
                f"<title>{name}</title></path>"
            )
            continue
        score, rank = got
        fill = colour(1.0 - (rank - 1) / total)
        stroke = ' class="mk-open"' if iso3 in opened else ""
        parts.append(
            f'<a href="{escape(href.format(iso3=iso3))}"><path d="{country.path}" fill="{fill}"'
            f'{stroke} data-iso3="{iso3}" data-rank="{rank}"><title>{name}: #{rank}, '
            f"{score:.3f}</title></path></a>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (paths are ours; names are escaped)


def _scale(lo: float, hi: float, out_lo: float, out_hi: float) -> tuple[float, float]:
    span = (hi - lo) or 1.0
    k = (out_hi - out_lo) / span
    return k, out_lo - lo * k


def scurve_plot(curve: SCurve, *, asof: int, labels: Mapping[str, str]) -> Markup:
    """Internet use by year (dots), the fitted logistic (line, extended five years past the
    as-of year), the smartphone share now (a ring) and the take-off band (10-25 % of the
    ceiling)."""
    width, height, pad_l, pad_r, pad_t, pad_b = 560.0, 260.0, 40.0, 12.0, 12.0, 28.0
    first = min([y for y, _ in curve.points] + [asof - 15])
    last = asof + 5
    kx, bx = _scale(first, last, pad_l, width - pad_r)
    ky, by = _scale(0.0, 100.0, height - pad_b, pad_t)

    def x(year: float) -> float:
        return kx * year + bx

    def y(value: float) -> float:
        return ky * value + by

    out = [
        f'<svg class="mk-plot" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(labels["title"])}" xmlns="http://www.w3.org/2000/svg">'
    ]
    band_top, band_bottom = y(min(100.0, curve.ceiling * 0.25)), y(curve.ceiling * 0.10)
    out.append(
        f'<rect x="{pad_l}" y="{band_top:.1f}" width="{width - pad_l - pad_r:.1f}" '
        f'height="{band_bottom - band_top:.1f}" class="mk-band"><title>{escape(labels["band"])}'
        "</title></rect>"
    )
    for tick in (0, 25, 50, 75, 100):
        out.append(
            f'<line x1="{pad_l}" x2="{width - pad_r}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'class="mk-grid"/><text x="{pad_l - 6}" y="{y(tick) + 4:.1f}" class="mk-tick" '
            f'text-anchor="end">{tick}%</text>'
        )
    step = 5 if last - first <= 30 else 10
    for year in range((first // step + 1) * step, last + 1, step):
        out.append(
            f'<text x="{x(year):.1f}" y="{height - 8}" class="mk-tick" text-anchor="middle">'
            f"{year}</text>"
        )
    out.append(
        f'<line x1="{x(asof - 1):.1f}" x2="{x(asof - 1):.1f}" y1="{pad_t}" y2="{height - pad_b}" '
        f'class="mk-now"><title>{escape(labels["now"])}</title></line>'
    )
    samples = [first + i * (last - first) / 80 for i in range(81)]
    path = "M" + "L".join(f"{x(t):.1f} {y(curve.at(t)):.1f}" for t in samples)
    out.append(f'<path d="{path}" class="mk-fit"><title>{escape(labels["fit"])}</title></path>')
    for year, value in curve.points:
        if year >= first:
            out.append(
                f'<circle cx="{x(year):.1f}" cy="{y(value):.1f}" r="2.6" class="mk-point">'
                f"<title>{year}: {value:.1f}%</title></circle>"
            )
    out.append(
        f'<circle cx="{x(asof - 1):.1f}" cy="{y(curve.level):.1f}" r="6" class="mk-level">'
        f"<title>{escape(labels['level'])}: {curve.level:.1f}%</title></circle>"
    )
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 (numbers and escaped labels only)


def sparkline(points: Sequence[tuple[int, float]], *, first: int, last: int, label: str) -> Markup:
    """One indicator over time, on its own scale."""
    width, height = 160.0, 36.0
    if not points:
        return Markup("")
    values = [v for _, v in points]
    lo, hi = min(values), max(values)
    kx, bx = _scale(first, max(last, first + 1), 2.0, width - 2.0)
    ky, by = _scale(lo, hi if hi > lo else lo + 1.0, height - 3.0, 3.0)
    path = "M" + "L".join(f"{kx * yr + bx:.1f} {ky * v + by:.1f}" for yr, v in points)
    return Markup(  # noqa: S704 (numbers and an escaped label only)
        f'<svg class="mk-spark" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f'<path d="{path}" class="mk-spark-line"/></svg>'
    )
