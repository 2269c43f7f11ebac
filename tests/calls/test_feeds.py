"""Complaint feeds: reading files, the importer (as of its own day, nothing half-written), the
range signal, zone packs with exact deltas, and the phone's warn verdict."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_DATA, MarketOpener
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from canyu.calls import feeds, ranges, service
from canyu.calls import pack as P
from canyu.calls.models import Feed, FeedReport, Number
from canyu.calls.reputation import Category
from canyu.calls.settings import CallsSettings, get_calls_settings
from canyu.cli import app
from canyu.client.calls import CallsClient
from canyu.db import Database
from canyu.web.templating import LOCALE_COOKIE

runner = CliRunner()
DAY = date(2021, 4, 14)
# Valid US numbers (libphonenumber): two reported twice, one once; one invalid twice.
GOOD = ["2092705358", "4105338179", "4694216272"]
FEED = [GOOD[0], GOOD[0], GOOD[1], GOOD[1], GOOD[2], "1234567890", "1234567890", "12"]


def test_a_feed_file_is_read_with_bad_numbers_counted_by_reason() -> None:
    rows = feeds.read_feed(json.dumps(FEED).encode(), "ftc-json", region="US", day=DAY)
    assert rows.rows == 8
    assert rows.accepted == 5
    assert rows.complaints[("+12092705358", DAY)] == 2
    assert rows.numbers["+12092705358"][0] == "US"
    # One line per reason, with its count, however many numbers share it.
    assert sum(rows.errors.values()) == 3
    assert len(rows.errors) <= 2
    csv = b"number,date,count\n+1 209 270 5358,2021-04-13,3\n4105338179,not a date,1\n"
    rows = feeds.read_feed(csv, "csv", region="US", day=DAY)
    assert rows.complaints == {("+12092705358", date(2021, 4, 13)): 3}
    assert rows.errors == {"its date is not an ISO date": 1}


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"{not json", "ftc-json"),
        (b'{"a": 1}', "ftc-json"),
        (b"a,b\n1,2\n", "csv"),
        (b"\xff", "csv"),
    ],
)
def test_a_file_not_of_its_format_is_refused_whole(data: bytes, fmt: str) -> None:
    with pytest.raises(feeds.FeedError):
        feeds.read_feed(data, fmt, region="US", day=DAY)


def test_feed_evidence_is_scored_as_of_a_day() -> None:
    reports = [(DAY, 2)]
    assert feeds.evidence(reports, as_of=DAY, weight=1.0, half_life_days=7) == 2.0
    later = feeds.evidence(reports, as_of=date(2021, 4, 21), weight=1.0, half_life_days=7)
    assert later == pytest.approx(1.0)
    # Complaints after the moment scored do not count: a replay sees only its past.
    assert feeds.evidence(reports, as_of=date(2021, 4, 13), weight=1.0, half_life_days=7) == 0


def test_ranges_take_the_densest_blocks_within_the_budget() -> None:
    dense = {10_000_000_100 + i: 1.0 for i in range(5)}  # 5 in one block of 100
    sparse = {10_000_500_000 + 400 * i: 1.0 for i in range(3)}  # 3 in one block of 10,000
    chosen = ranges.suspicious_ranges({**dense, **sparse}, budget=20_000)
    # Densest first (100, then the two 1,000s), then 10,000s while the budget lasts.
    assert chosen == {2: [100_000_001], 3: [10_000_000, 10_000_500], 4: [1_000_000]}
    # A tight budget keeps only the densest; a cleared number's block is never taken.
    assert ranges.suspicious_ranges({**dense, **sparse}, budget=100) == {2: [100_000_001]}
    assert ranges.suspicious_ranges(dense, budget=10**6, exempt=[10_000_000_150]) == {}


def test_a_zone_pack_warns_on_ranges_and_blocks_on_labels(tmp_path: Path) -> None:
    labelled = 12_092_705_358
    suspicious = 14_105_338_179
    pack = P.Pack.from_entries(
        "1",
        1,
        0,
        [(labelled, Category.FRAUD)],
        suspicious=[suspicious, labelled],  # a label wins over "suspicious"
        ranges={3: [14_694_216]},
    )
    phone = CallsClient("http://127.0.0.1:9", "unused", data_dir=tmp_path, default_region="US")
    phone._install("1", pack.encode())
    block = phone.check("+1 209 270 5358")
    assert (block.action, block.spam, block.category) == ("block", True, "fraud")
    assert phone.check("(410) 533-8179").action == "warn"
    warn = phone.check("+14694216999")  # same block of 1,000 as a reported range
    assert (warn.action, warn.spam, warn.category) == ("warn", False, "suspicious")
    assert phone.is_spam("+14694216999") == (False, "suspicious")
    # A Canadian number is in the same +1 pack: one pack serves the whole numbering plan.
    assert phone.check("+1 604 555 0100").action == "none"
    assert phone.current_pack("CA") is phone.current_pack("US")
    assert phone.check("+8613800138000").action == "none"  # no +86 pack


def test_a_small_packs_daily_delta_is_exact_and_small() -> None:
    rng = np.random.default_rng(5)
    keys = np.unique(rng.integers(12_000_000_000, 19_999_999_999, 520, dtype=np.uint64))[:500]
    v1 = P.Pack.from_entries("1", 1, 100, [(int(k), Category.TELEMARKETING) for k in keys])
    changed = [(int(k), Category.TELEMARKETING) for k in keys[10:]]
    changed += [(int(k) + 1, Category.FRAUD) for k in keys[:5]]  # 10 gone, 5 new: a day
    v2 = P.Pack.from_entries("1", 2, 200, changed)
    delta = P.make_delta(v1, v2)
    _new, encoded = P.apply_delta(P.decode(v1.encode()), delta)
    assert encoded == v2.encode()
    assert len(delta) < 0.1 * len(v2.encode())
    ranged = P.Pack.from_entries("1", 3, 300, changed, ranges={3: [12_000_000, 12_000_001]})
    _new, encoded = P.apply_delta(v2, P.make_delta(v2, ranged))
    assert encoded == ranged.encode()


def _import(database: Database, settings: CallsSettings, day: date, numbers: list[str]) -> None:
    rows = feeds.read_feed(json.dumps(numbers).encode(), "ftc-json", region="US", day=day)
    with database.session() as s:
        service.import_feed(
            s,
            rows=rows,
            options=service.FeedOptions("FTC", "ftc-json", region="US"),
            as_of=day,
            file_name=f"{day}.json",
            settings=settings,
        )


@pytest.mark.db
def test_a_feed_is_replayed_as_of_its_own_day(database: Database, tmp_path: Path) -> None:
    settings = CallsSettings(pack_dir=tmp_path / "packs", default_region="US")
    _import(database, settings, DAY, FEED)
    with database.session() as s:
        labels = dict(s.execute(select(Number.e164, Number.label)).all())
        assert labels["+12092705358"] == "telemarketing"  # two complaints that day
        assert labels["+14694216272"] is None  # one: only suspicious
        number = s.scalar(select(Number).where(Number.e164 == "+12092705358"))
        assert number is not None
        lines = service.feed_lines(s, number_id=number.id)
        assert [(line.feed, line.week, line.last_day) for line in lines] == [("FTC", 2, DAY)]
    # The next day adds to the same feed, per day; no friend accounts are made.
    _import(database, settings, date(2021, 4, 15), [GOOD[2]])
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Feed)) == 1
        assert s.scalar(select(func.sum(FeedReport.count))) == 6
        # A day-old complaint counts 0.5 ** (1/7) with a week's half-life: 1.91, below a label.
        row = s.scalar(select(Number).where(Number.e164 == "+14694216272"))
        assert row is not None
        assert row.label is None
        assert row.feed_score == pytest.approx(1 + 0.5 ** (1 / 7))


@pytest.mark.db
def test_import_feed_command_reports_and_never_half_writes(
    tmp_path: Path, database: Database, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANYU_DEFAULT_REGION", "US")
    get_calls_settings.cache_clear()
    good = tmp_path / "2021-04-14.json"
    good.write_text(json.dumps(FEED))
    args = ["--source", "FTC", "--format", "ftc-json", "--database-url", database_url]
    result = runner.invoke(app, ["calls", "import-feed", str(good), *args])
    assert result.exit_code == 0, result.output
    assert "5 complaints" in result.output
    assert "skipped 2" in result.output
    bad = tmp_path / "2021-04-15.json"
    bad.write_text('["2092705358", ')
    result = runner.invoke(app, ["calls", "import-feed", str(bad), *args])
    assert result.exit_code != 0
    assert "nothing was imported" in result.output
    with database.session() as s:
        assert s.scalar(select(func.sum(FeedReport.count))) == 5
    get_calls_settings.cache_clear()


@pytest.mark.skipif(not (SHARED_DATA / "calls/ftc_dnc").is_dir(), reason="no FTC data here")
def test_the_real_feed_reads_with_few_refusals() -> None:
    path = SHARED_DATA / "calls/ftc_dnc/2021-04-17.json"
    rows = feeds.read_feed(path.read_bytes(), "ftc-json", region="US", day=DAY)
    assert rows.rows == 4_768
    assert sum(rows.errors.values()) < 100


@pytest.mark.db
def test_a_numbers_page_shows_the_feed_beside_friends_marks(
    calls_client: TestClient, database: Database, calls_settings: CallsSettings
) -> None:
    _import(database, calls_settings, DAY, FEED)
    page = calls_client.get("/calls/numbers/%2B12092705358", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "from complaint feeds" in page.text
    assert "Reported to FTC 2 times in the week to 2021-04-14" in page.text
    warned = calls_client.get("/calls/numbers/%2B14694216272", headers={"Accept": "text/html"})
    assert 'data-label="suspicious"' in warned.text
    calls_client.cookies.set(LOCALE_COOKIE, "zh")
    zh = calls_client.get("/calls/numbers/%2B12092705358", headers={"Accept": "text/html"})
    assert "收到投诉 2 次" in zh.text


@pytest.mark.db
def test_a_zone_pack_holds_feed_labels_and_warnings_until_they_decay(
    database: Database, open_markets: MarketOpener, tmp_path: Path
) -> None:
    settings = CallsSettings(pack_dir=tmp_path / "packs", default_region="US")
    _import(database, settings, DAY, FEED)
    open_markets("US")
    then = service.end_of(DAY)
    with database.session() as s:
        built = service.build_pack(s, region="CA", settings=settings, publisher=None, now=then)
    assert (built.region, built.count) == ("1", 2)  # Canada's zone is the US's: +1
    reader = P.PackReader((tmp_path / "packs" / "1" / "pack.cyp").read_bytes())
    assert reader.lookup(12_092_705_358) == Category.TELEMARKETING
    assert reader.is_suspicious(14_694_216_272)
    # A month on, the first build of the day rescores: the complaints have faded.
    with database.session() as s:
        later = service.build_pack(
            s, region="+1", settings=settings, publisher=None, now=then + timedelta(days=30)
        )
        assert later.count == 0
        assert s.scalar(select(Number.label).where(Number.e164 == "+12092705358")) is None
    reader = P.PackReader((tmp_path / "packs" / "1" / "pack.cyp").read_bytes())
    assert not reader.is_suspicious(14_694_216_272)
