"""Duplicate-retrieval benchmark for :mod:`canyu.community.similarity` on real bug trackers.

Data layout (GitBugs, as in ``shared/data/feedback_dupes``): a reports CSV with the columns
``Issue id``, ``Summary`` (title), ``Description`` (body) and ``Created``, and a links CSV with
``Issue id`` and ``Duplicate id`` (one id or several, comma-separated).
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from canyu.community import vectors
from canyu.community.similarity import DEFAULT_METHOD, SimilarityIndex

ProgressCallback = Callable[[int, int], None]

REPORT_COLUMNS = ("Issue id", "Summary", "Description", "Created")
LINK_COLUMNS = ("Issue id", "Duplicate id")
# Jira exports write "30/Sep/21 17:20"; Bugzilla exports are ISO 8601 (fromisoformat).
_DATE_FORMATS = ("%d/%b/%y %H:%M", "%d/%b/%Y %H:%M", "%d/%b/%y %I:%M %p")
# Average precision is computed over this many top results; duplicates ranked lower count as
# not retrieved.
AP_DEPTH = 100
# How many suggestions a page shows at most: the ones whose precision the threshold is chosen for.
SHOWN = 5
# Thresholds tried when calibrating, in steps of 0.01.
_THRESHOLDS = [step / 100 for step in range(101)]


class DedupDataError(ValueError):
    """The reports or links file cannot be used; the message says why, for a person."""


@dataclass(frozen=True)
class Report:
    issue_id: int
    title: str
    body: str
    created: datetime


@dataclass(frozen=True)
class DedupDataset:
    reports: list[Report]  # sorted by creation time, oldest first
    group_of: dict[int, int]  # issue id -> duplicate group (smallest issue id of the group)


@dataclass(frozen=True)
class DedupResult:
    recall_at_1: float
    recall_at_5: float
    recall_at_10: float
    map: float
    queries: int
    p50_ms: float
    p95_ms: float
    # Of the top SHOWN hits marked likely duplicates for the duplicate queries: the share that
    # are right, how many were shown, and the share of queries with a right one among them.
    likely_precision: float
    likely_shown: int
    likely_recall: float
    # The least score threshold at which that precision reaches 0.5 (1.0 when none does).
    half_precision_threshold: float
    # The same precision over every report, duplicate or not: a lower bound, since trackers
    # leave many duplicates unlinked.
    likely_precision_all_reports: float

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _read_csv(path: Path, required: Iterable[str], what: str) -> list[dict[str, str]]:
    # Bug descriptions can hold long stack traces, past csv's default 128 KiB field limit.
    csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise DedupDataError(
                    f"{what} file {path} lacks the column(s) {', '.join(missing)} "
                    f"(found: {', '.join(reader.fieldnames or []) or 'no header'})"
                )
            return list(reader)
    except FileNotFoundError as error:
        raise DedupDataError(f"{what} file {path} does not exist") from error
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DedupDataError(f"cannot read {what} file {path}: {error}") from error


def _parse_id(raw: str, path: Path, line: int) -> int:
    try:
        return int(raw.strip())
    except ValueError as error:
        raise DedupDataError(f"{path}, row {line}: issue id {raw!r} is not a number") from error


def _parse_created(raw: str, path: Path, line: int) -> datetime:
    text = raw.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        for date_format in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(text, date_format)
                break
            except ValueError:
                continue
    if parsed is None:
        raise DedupDataError(f"{path}, row {line}: cannot read the date {raw!r}")
    # Exports without a zone are taken as UTC so that all dates compare.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def load_dataset(reports_path: Path, links_path: Path) -> DedupDataset:
    """Read and validate a reports CSV and its duplicate links CSV.

    Duplicate groups are the connected components of the links, taken over all linked ids, so
    two reports linked only through a report missing from the reports file are still one group.
    """
    reports: list[Report] = []
    seen: set[int] = set()
    for line, row in enumerate(_read_csv(reports_path, REPORT_COLUMNS, "reports"), start=2):
        issue_id = _parse_id(row["Issue id"], reports_path, line)
        if issue_id in seen:
            raise DedupDataError(f"{reports_path}, row {line}: issue id {issue_id} repeats")
        seen.add(issue_id)
        created = _parse_created(row["Created"], reports_path, line)
        reports.append(Report(issue_id, row["Summary"] or "", row["Description"] or "", created))
    if not reports:
        raise DedupDataError(f"reports file {reports_path} has no reports")
    reports.sort(key=lambda report: (report.created, report.issue_id))

    parent: dict[int, int] = {}

    def root(issue_id: int) -> int:
        parent.setdefault(issue_id, issue_id)
        while parent[issue_id] != issue_id:
            parent[issue_id] = parent[parent[issue_id]]
            issue_id = parent[issue_id]
        return issue_id

    for line, row in enumerate(_read_csv(links_path, LINK_COLUMNS, "links"), start=2):
        issue_id = _parse_id(row["Issue id"], links_path, line)
        for raw in (row["Duplicate id"] or "").split(","):
            if raw.strip():
                a, b = root(issue_id), root(_parse_id(raw, links_path, line))
                parent[max(a, b)] = min(a, b)
    group_of = {report.issue_id: root(report.issue_id) for report in reports}
    return DedupDataset(reports, group_of)


def evaluate(
    dataset: DedupDataset,
    method: str = DEFAULT_METHOD,
    progress: ProgressCallback | None = None,
    *,
    exact_vectors: bool = False,
) -> DedupResult:
    """Replay the reports in creation order against an incremental :class:`SimilarityIndex`.

    Each report is first used as a query (title + body) against the reports filed before it,
    then added to the index. A report counts as a query when its duplicate group holds an
    earlier report. For a query with ``R`` earlier group members and ranked list ``r_1..r_100``
    of earlier reports:

    - Recall@k is 1 when any group member is among the top k results, else 0;
    - AP = (1/R) * sum over ranks i <= 100 where ``r_i`` is a group member of precision@i
      (members ranked below 100 add 0);

    both averaged over the queries (MAP is the mean of AP). Latency is the wall time of each
    ``search`` call.

    The top ``SHOWN`` hits marked ``likely_duplicate`` are what a page suggests; one is right
    when it is an earlier member of the query's group. Their precision is measured over the
    duplicate queries (and, as a lower bound, over every report, each also being searched).
    """
    index = SimilarityIndex(method, stored_form=None if exact_vectors else vectors.as_stored)
    members_seen: dict[int, set[int]] = {}  # group -> earlier reports of the group
    hits = {1: 0, 5: 0, 10: 0}
    average_precisions: list[float] = []
    latencies_ms: list[float] = []
    total = len(dataset.reports)
    # (score, likely, right) of the top SHOWN hits, for duplicate queries and for every report.
    shown: list[tuple[float, bool, bool]] = []
    shown_all: list[tuple[float, bool, bool]] = []
    found_likely = 0
    for done, report in enumerate(dataset.reports, start=1):
        group = dataset.group_of[report.issue_id]
        earlier = members_seen.setdefault(group, set())
        start = time.perf_counter()
        ranked = index.search(f"{report.title}\n{report.body}", k=AP_DEPTH)
        elapsed_ms = (time.perf_counter() - start) * 1000.0
        top = [(hit.score, hit.likely_duplicate, hit.doc_id in earlier) for hit in ranked[:SHOWN]]
        shown_all.extend(top)
        if earlier:
            shown.extend(top)
            found_likely += any(likely and right for _, likely, right in top)
            latencies_ms.append(elapsed_ms)
            ranks = [rank for rank, hit in enumerate(ranked, start=1) if hit.doc_id in earlier]
            for k in hits:
                hits[k] += bool(ranks) and ranks[0] <= k
            average_precisions.append(
                sum(found / rank for found, rank in enumerate(ranks, start=1)) / len(earlier)
            )
        index.add(report.issue_id, report.title, report.body)
        earlier.add(report.issue_id)
        if progress is not None:
            progress(done, total)

    queries = len(average_precisions)
    if queries == 0:
        return DedupResult(0.0, 0.0, 0.0, 0.0, 0, 0.0, 0.0, 0.0, 0, 0.0, 1.0, 0.0)
    likely = [right for _, is_likely, right in shown if is_likely]
    return DedupResult(
        recall_at_1=hits[1] / queries,
        recall_at_5=hits[5] / queries,
        recall_at_10=hits[10] / queries,
        map=sum(average_precisions) / queries,
        queries=queries,
        p50_ms=_percentile(latencies_ms, 50),
        p95_ms=_percentile(latencies_ms, 95),
        likely_precision=_share(likely),
        likely_shown=len(likely),
        likely_recall=found_likely / queries,
        half_precision_threshold=next(
            (
                t
                for t in _THRESHOLDS
                if _share([right for score, _, right in shown if score >= t]) >= 0.5
            ),
            1.0,
        ),
        likely_precision_all_reports=_share(
            [right for _, is_likely, right in shown_all if is_likely]
        ),
    )


def evaluate_files(
    reports_path: Path,
    links_path: Path,
    method: str = DEFAULT_METHOD,
    progress: ProgressCallback | None = None,
) -> DedupResult:
    """:func:`load_dataset` then :func:`evaluate`."""
    return evaluate(load_dataset(reports_path, links_path), method, progress)


def _share(flags: list[bool]) -> float:
    """The share of true flags (0 for none)."""
    return sum(flags) / len(flags) if flags else 0.0


def _percentile(values: list[float], percent: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(math.ceil(percent / 100 * len(ordered)) - 1, 0)]
