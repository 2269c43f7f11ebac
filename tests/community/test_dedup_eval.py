"""The duplicate-retrieval benchmark: protocol, metrics, input errors and the real SeaMonkey set."""

from __future__ import annotations

import csv
from collections.abc import Callable, Collection, Sequence
from pathlib import Path

import pytest

from canyu.community.similarity import FloatArray, SimilarHit, SimilarityIndex
from canyu.lab import dedup_eval
from canyu.lab.dedup_eval import DedupDataError, evaluate, evaluate_files, load_dataset

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "feedback_dupes"

# (id, title, body, created) in file order, which is not time order. Report 7 is the oldest.
REPORTS = [
    (
        1,
        "Disk full error on datanode",
        "The datanode stops with a disk full error.",
        "01/Jan/21 10:00",
    ),
    (2, "Login page times out", "The login page never loads.", "02/Jan/21 10:00"),
    (3, "Datanode reports disk full", "Disk full although there is free space.", "03/Jan/21 10:00"),
    (4, "Scheduler ignores queue capacity", "Jobs exceed the queue capacity.", "04/Jan/21 10:00"),
    (5, "Disk full on datanode after upgrade", "After the upgrade: disk full.", "05/Jan/21 10:00"),
    (6, "Login page session expires", "Session on the login page expires.", "06/Jan/21 10:00"),
    (7, "Queue capacity not respected by scheduler", "Capacity is ignored.", "31/Dec/20 23:00"),
    (8, "Zebra xylophone quartz", "Wombat.", "07/Jan/21 10:00"),
]
# 1-3 and 3-5 make {1, 3, 5} one group through 3; 99 is not among the reports.
LINKS = [(1, "3"), (3, "1, 5"), (4, "7"), (2, "6, 99"), (8, "2"), (5, "")]


def write_csv(path: Path, header: list[str], rows: Sequence[Sequence[object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    reports = write_csv(
        tmp_path / "reports.csv",
        ["Summary", "Issue id", "Status", "Created", "Description"],
        [(title, issue, "Open", created, body) for issue, title, body, created in REPORTS],
    )
    links = write_csv(tmp_path / "links.csv", ["Issue id", "Duplicate id"], LINKS)
    return reports, links


def test_reports_are_ordered_by_time_and_groups_follow_links_transitively(
    files: tuple[Path, Path],
) -> None:
    dataset = load_dataset(*files)
    assert [report.issue_id for report in dataset.reports] == [7, 1, 2, 3, 4, 5, 6, 8]
    group = dataset.group_of
    assert group[1] == group[3] == group[5]
    assert group[2] == group[6] == group[8]
    assert group[4] == group[7]
    assert len({group[1], group[2], group[4]}) == 3


def test_each_query_ranks_only_earlier_reports(
    files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = load_dataset(*files)
    created = {report.issue_id: report.created for report in dataset.reports}
    searched: list[tuple[str, set[int]]] = []

    class RecordingIndex(SimilarityIndex):
        def __init__(
            self, method: str, *, stored_form: Callable[[FloatArray], FloatArray] | None = None
        ) -> None:
            super().__init__(method, stored_form=stored_form)
            self.ids: set[int] = set()

        def add(self, doc_id: int, title: str, body: str) -> None:
            super().add(doc_id, title, body)
            self.ids.add(doc_id)

        def search(
            self, query: str, k: int = 10, exclude: Collection[int] = ()
        ) -> list[SimilarHit]:
            searched.append((query.split("\n")[0], set(self.ids)))
            return super().search(query, k, exclude)

    monkeypatch.setattr(dedup_eval, "SimilarityIndex", RecordingIndex)
    evaluate(dataset, "bm25")
    titles = {title: issue for issue, title, _, _ in REPORTS}
    # Every report is searched (as a friend typing it would be), each against earlier ones.
    assert [titles[title] for title, _ in searched] == [7, 1, 2, 3, 4, 5, 6, 8]
    for title, indexed in searched:
        assert all(created[other] < created[titles[title]] for other in indexed)


def test_metrics_on_a_hand_checked_case(files: tuple[Path, Path]) -> None:
    # With BM25, reports 3, 4, 5 and 6 rank an earlier duplicate first (5 ranks both 1 and 3
    # on top, AP 1); report 8 shares no word with anything earlier, so it finds nothing (AP 0).
    progress: list[tuple[int, int]] = []
    result = evaluate_files(*files, method="bm25", progress=lambda d, t: progress.append((d, t)))
    assert result.queries == 5
    assert result.recall_at_1 == pytest.approx(4 / 5)
    assert result.recall_at_5 == pytest.approx(4 / 5)
    assert result.recall_at_10 == pytest.approx(4 / 5)
    assert result.map == pytest.approx(4 / 5)
    assert 0 <= result.p50_ms <= result.p95_ms
    assert progress[-1] == (8, 8)
    assert list(result.as_dict()) == [
        "recall_at_1",
        "recall_at_5",
        "recall_at_10",
        "map",
        "queries",
        "p50_ms",
        "p95_ms",
        "likely_precision",
        "likely_shown",
        "likely_recall",
        "half_precision_threshold",
        "likely_precision_all_reports",
    ]
    assert 0 <= result.likely_precision <= 1
    assert 0 <= result.half_precision_threshold <= 1


def test_iso_dates_with_time_zones_are_read(tmp_path: Path) -> None:
    reports = write_csv(
        tmp_path / "r.csv",
        ["Issue id", "Summary", "Description", "Created"],
        [(1, "b", "", "2020-01-04 02:32:49+00:00"), (2, "a", "", "2020-01-02 17:14:21+00:00")],
    )
    links = write_csv(tmp_path / "l.csv", ["Issue id", "Duplicate id"], [])
    assert [r.issue_id for r in load_dataset(reports, links).reports] == [2, 1]


def test_missing_column_is_a_readable_error(tmp_path: Path, files: tuple[Path, Path]) -> None:
    reports = write_csv(tmp_path / "r.csv", ["Issue id", "Summary"], [(1, "a")])
    with pytest.raises(DedupDataError, match=r"lacks the column\(s\) Description, Created"):
        load_dataset(reports, files[1])


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (("x1", "t", "b", "01/Jan/21 10:00"), "issue id 'x1' is not a number"),
        (("1", "t", "b", "yesterday"), "row 2: cannot read the date 'yesterday'"),
    ],
)
def test_bad_values_are_readable_errors(
    tmp_path: Path, files: tuple[Path, Path], row: tuple[str, ...], message: str
) -> None:
    reports = write_csv(
        tmp_path / "r.csv", ["Issue id", "Summary", "Description", "Created"], [row]
    )
    with pytest.raises(DedupDataError, match=message):
        load_dataset(reports, files[1])


def test_missing_or_unreadable_file_is_a_readable_error(
    tmp_path: Path, files: tuple[Path, Path]
) -> None:
    with pytest.raises(DedupDataError, match="does not exist"):
        load_dataset(tmp_path / "nope.csv", files[1])
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(DedupDataError, match="cannot read"):
        load_dataset(binary, files[1])


@pytest.mark.data
@pytest.mark.skipif(not DATA.is_dir(), reason=f"real duplicate data not found at {DATA}")
def test_seamonkey_recall_at_10_is_at_least_0_85_and_likely_suggestions_are_right() -> None:
    result = evaluate_files(DATA / "SeaMonkey_bugs.csv", DATA / "SeaMonkey_bugs-combined.csv")
    assert result.queries > 40
    assert result.recall_at_10 >= 0.85, result
    assert result.likely_precision >= 0.5, result
