"""Complaint feeds, pure: reading a regulator's or carrier's file and weighing its complaints.

A feed (the US Do-Not-Call complaints, China's 12321 reports, a carrier's honeypot) is a source
with its own provenance, weight and half-life, not a crowd of fake friends: its complaints are
counted per number and day, and a number's feed evidence as of a moment is
``sum(weight * count * 0.5 ** (age in days / half_life_days))``. No database here.

Formats:

* ``ftc-json``: a JSON list of numbers (strings or integers), one element per complaint, all of
  one day (the FTC's daily "reported calls" files as published, 10-digit US numbers).
* ``csv``: a header with ``number`` and optional ``date`` (ISO date or time; default the file's
  day), ``count`` (complaints, default 1) and ``region`` (default the feed's region).

Bad numbers are counted by reason ("it is not a valid number in US": 120), never one line each;
a file that is not of its format is refused whole.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from canyu.calls import numbers

FORMATS = ("ftc-json", "csv")
MAX_COUNT = 1_000_000


class FeedError(ValueError):
    """A file that cannot be read as its format: nothing of it is imported."""


@dataclass
class FeedRows:
    """Complaints per (E.164, day), each number's (region, type), and what was skipped, by
    reason."""

    complaints: Counter[tuple[str, date]] = field(default_factory=Counter)
    numbers: dict[str, tuple[str, str]] = field(default_factory=dict)
    rows: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return sum(self.complaints.values())

    def skip(self, row: int, reason: str, raw: str = "") -> None:
        self.errors[reason] += 1
        if len(self.examples) < 5:
            self.examples.append(f"row {row}: {raw[:40]!r}: {reason}")


def day_from_name(name: str) -> date | None:
    """The day a daily file is named after ("2021-04-14.json"), if it is."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
    try:
        return date.fromisoformat(stem[:10])
    except ValueError:
        return None


def _parse_day(raw: str, default: date) -> date | None:
    text = raw.strip()
    if not text:
        return default
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _parse_count(raw: str) -> int | None:
    text = raw.strip()
    if not text:
        return 1
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_COUNT else None


class _Normaliser:
    """libphonenumber on each distinct spelling once: complaint files repeat numbers a lot."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, str], numbers.PhoneNumber | str] = {}

    def __call__(self, raw: str, region: str) -> numbers.PhoneNumber | str:
        """The number, or the reason it is refused."""
        key = (raw, region)
        found = self.cache.get(key)
        if found is None:
            try:
                found = numbers.normalise_digits(raw, region)
            except numbers.InvalidNumber as exc:
                found = exc.reason
            self.cache[key] = found
        return found


def read_feed(
    data: bytes, fmt: str, *, region: str, day: date, progress: Callable[[int], None] | None = None
) -> FeedRows:
    """Every complaint of a feed file; raises FeedError for a file not of its format."""
    if fmt not in FORMATS:
        raise FeedError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FeedError("the file is not UTF-8 text") from None
    out = FeedRows()
    normalise = _Normaliser()
    rows = _ftc_rows(text) if fmt == "ftc-json" else _csv_rows(text)
    for raw, raw_day, raw_count, raw_region in rows:
        out.rows += 1
        if progress is not None and out.rows % 2_000 == 0:
            progress(out.rows)
        when, count = _parse_day(raw_day, day), _parse_count(raw_count)
        if when is None:
            out.skip(out.rows, "its date is not an ISO date", raw_day)
            continue
        if count is None:
            out.skip(out.rows, f"its count is not a whole number in 1..{MAX_COUNT:,}", raw_count)
            continue
        found = normalise(raw, raw_region.strip().upper() or region)
        if isinstance(found, str):
            out.skip(out.rows, found, raw)
            continue
        out.complaints[(found.e164, when)] += count
        out.numbers[found.e164] = (found.region, found.number_type)
    if progress is not None:
        progress(out.rows)
    return out


def count_rows(data: bytes, fmt: str) -> int:
    """How many rows a file has (the progress bar's total); 0 when it cannot tell."""
    if fmt == "csv":
        return max(0, data.count(b"\n") - 1)
    return data.count(b",") + 1 if data.strip() else 0


def _ftc_rows(text: str) -> Iterable[tuple[str, str, str, str]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FeedError(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(items, list):
        raise FeedError("an ftc-json file is a JSON list of numbers")
    return [
        (
            str(item) if isinstance(item, str | int) and not isinstance(item, bool) else "",
            "",
            "",
            "",
        )
        for item in items
    ]


def _csv_rows(text: str) -> Iterable[tuple[str, str, str, str]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    if "number" not in fields:
        raise FeedError("a csv feed needs a header with a 'number' column")
    reader.fieldnames = fields
    try:
        return [
            (
                r.get("number") or "",
                r.get("date") or "",
                r.get("count") or "",
                r.get("region") or "",
            )
            for r in reader
        ]
    except csv.Error as exc:
        raise FeedError(f"bad CSV: {exc}") from None


# --- weighing -----------------------------------------------------------------------------------


def evidence(
    reports: Iterable[tuple[date, int]], *, as_of: date, weight: float, half_life_days: float
) -> float:
    """A number's evidence from one feed as of a day: complaints after ``as_of`` do not count
    (a replay scores as of its own time)."""
    total = 0.0
    for day, count in reports:
        age = (as_of - day).days
        if age >= 0:
            total += weight * count * 0.5 ** (age / half_life_days)
    return total
