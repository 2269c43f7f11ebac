"""Figures for ``canyu bench calls-feed``: complaint feeds back-tested day by day.

Train on some days of a feed (the FTC's Do-Not-Call complaints), build the zone's pack as of
the last training day, and ask what share of the next day's complaints a phone holding that pack
would block or warn on; what share of random valid numbers of the zone it would block or warn on
(the cost); and how big the pack and a day's delta are. Side by side: the parent commit's rules
(one friend's mark per complaint from accounts created by the import, the trust rules as they
are) and this commit's (feeds as sources, suspicious numbers and ranges). Pure: the rules' own
functions (canyu.calls.feeds, ranges, pack, service.scoring.feed_label), no database.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from canyu.calls import feeds, numbers, ranges, reputation
from canyu.calls.pack import Pack, PackReader, make_delta
from canyu.calls.reputation import Category
from canyu.calls.service.scoring import feed_label
from canyu.calls.settings import CallsSettings

Complaints = Counter[tuple[str, date]]


def read_days(paths: Sequence[Path], region: str) -> list[tuple[date, Complaints]]:
    out = []
    for path in paths:
        day = feeds.day_from_name(path.name)
        if day is None:
            raise ValueError(f"{path.name}: name the file by its day (YYYY-MM-DD.json)")
        rows = feeds.read_feed(path.read_bytes(), "ftc-json", region=region, day=day)
        out.append((day, rows.complaints))
    return out


def _keyed(complaints: Complaints, zone: str) -> dict[int, list[tuple[date, int]]]:
    out: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for (e164, day), count in complaints.items():
        if numbers.zone_of_e164(e164) == zone:
            out[numbers.pack_key(e164)].append((day, count))
    return out


def ours(complaints: Complaints, zone: str, as_of: date, s: CallsSettings, version: int) -> Pack:
    """The pack this commit builds from a feed's complaints, as of a day."""
    labels: list[tuple[int, Category]] = []
    suspicious: list[int] = []
    evidence: dict[int, float] = {}
    for key, reports in _keyed(complaints, zone).items():
        score = feeds.evidence(
            reports, as_of=as_of, weight=1.0, half_life_days=s.feed_half_life_days
        )
        label = feed_label({Category.TELEMARKETING: score}, settings=s, labelled=False)
        if label is not None:
            labels.append((key, label))
        elif score >= s.feed_warn_score:
            suspicious.append(key)
        if label is not None or score >= s.feed_warn_score:
            evidence[key] = score
    blocks = ranges.suspicious_ranges(evidence, budget=s.range_budget * ranges.valid_numbers(zone))
    created = int(datetime.combine(as_of, datetime.min.time(), UTC).timestamp())
    return Pack.from_entries(zone, version, created, labels, suspicious=suspicious, ranges=blocks)


def parent(complaints: Complaints, zone: str, as_of: date, s: CallsSettings, version: int) -> Pack:
    """The parent commit's pack: each complaint a mark by a friend the import created (dated by
    the mark: a new account, no device, no known network), spread over its day, scored by the
    trust rules as of the end of ``as_of`` (kinder than the parent's real replay, which scored
    against today and labelled nothing)."""
    end = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), UTC).timestamp()
    labels: list[tuple[int, Category]] = []
    reporter = 0
    for key, reports in _keyed(complaints, zone).items():
        marks = []
        for day, count in reports:
            start = datetime.combine(day, datetime.min.time(), UTC).timestamp()
            for i in range(count):
                reporter += 1
                at = start + (i + 0.5) * 86_400 / count
                marks.append(reputation.Mark(reporter, Category.TELEMARKETING, at, 0.0))
        label = reputation.assess(marks, now=end, thresholds=s.thresholds()).label
        if label is not None:
            labels.append((key, label))
    created = int(end)
    return Pack.from_entries(zone, version, created, labels)


def _figures(
    build: Callable[[Complaints, str, date, CallsSettings, int], Pack],
    days: list[tuple[date, Complaints]],
    test: Complaints,
    zone: str,
    probes: list[int],
    settings: CallsSettings,
) -> dict[str, Any]:
    train: Complaints = Counter()
    for _day, complaints in days:
        train.update(complaints)
    last = days[-1][0]
    before: Complaints = Counter()
    for _day, complaints in days[:-1]:
        before.update(complaints)
    pack = build(train, zone, last, settings, 2)
    previous = build(before, zone, last - timedelta(days=1), settings, 1)
    data = pack.encode()
    reader = PackReader(data)
    blocked = warned = total = 0
    for (e164, _day), count in test.items():
        total += count
        if numbers.zone_of_e164(e164) != zone:
            continue
        key = numbers.pack_key(e164)
        category = reader.lookup(key)
        if category is not None and category in reputation.BLOCKING:
            blocked += count
        elif reader.is_suspicious(key):
            warned += count
    flagged = sum(
        1
        for key in probes
        if reader.lookup(key) in reputation.BLOCKING or reader.is_suspicious(key)
    )
    delta = make_delta(previous, pack)
    return {
        "intercepted_share": (blocked + warned) / max(1, total),
        "blocked_share": blocked / max(1, total),
        "random_flagged_share": flagged / max(1, len(probes)),
        "labelled": pack.count,
        "suspicious_numbers": int(pack.suspicious.size),
        "suspicious_ranges": sum(int(b.size) for b in pack.ranges.values()),
        "pack_bytes": len(data),
        "delta_bytes": len(delta),
        "delta_share": len(delta) / len(data),
        "test_complaints": total,
    }


def feed_figures(
    train: Sequence[Path],
    test: Path,
    *,
    settings: CallsSettings,
    random_numbers: int = 100_000,
    seed: int = 1,
) -> dict[str, Any]:
    """This commit's figures (top level) and the parent's (under "parent")."""
    region = settings.default_region
    days = sorted(read_days(train, region))
    [(_test_day, test_complaints)] = read_days([test], region)
    zone = numbers.zone_of_region(region)
    probes = [
        numbers.pack_key(e164) for e164 in ranges.random_valid(zone, random_numbers, seed=seed)
    ]
    figures = _figures(ours, days, test_complaints, zone, probes, settings)
    figures["parent"] = _figures(parent, days, test_complaints, zone, probes, settings)
    figures["zone"] = f"+{zone}"
    figures["random_numbers"] = random_numbers
    return figures
