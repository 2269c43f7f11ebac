"""The rules of the calls domain: marks, scoring, labels, private lookups, appeals, packs.

Plain keyword-only functions that take a session and return values; no HTTP. The pure parts
(scoring, pack format, number parsing) live in reputation.py, pack.py and numbers.py.

The rules live in one module per part; this package's namespace is their public face."""

from __future__ import annotations

from canyu.calls.service.common import (
    CATEGORIES,
    MAX_BUSINESS,
    MAX_REASON,
    SOURCES,
    NotVerified,
    network_id,
    parse_category,
    parse_number,
    parse_region,
)
from canyu.calls.service.decisions import (
    CodeSent,
    appeal_queue,
    decide_appeal,
    decide_number,
    file_appeal,
    request_code,
    review_queue,
    verify_code,
)
from canyu.calls.service.feeds import (
    FeedImported,
    FeedLine,
    FeedOptions,
    end_of,
    feed_lines,
    import_feed,
)
from canyu.calls.service.imports import ImportReport, import_marks, reason_of
from canyu.calls.service.lookups import BucketEntry, labelled_total, lookup_bucket, prefix_length
from canyu.calls.service.marks import MarkResult, get_number, list_marks, mark_number, withdraw_mark
from canyu.calls.service.packs import (
    BuiltPack,
    build_due_packs,
    build_pack,
    publish_pack,
    resolve_zone,
    zones_due,
)
from canyu.calls.service.scoring import recompute_reporter_stats, rescore, rescore_dirty
from canyu.calls.service.sms import (
    PublishedModel,
    publish_sms_model,
    report_sms,
    reports_for_training,
)
from canyu.calls.service.views import (
    NumberSummary,
    first_publication_after,
    label_reporters,
    stats,
    summarise,
)

__all__ = [
    "CATEGORIES",
    "MAX_BUSINESS",
    "MAX_REASON",
    "SOURCES",
    "BucketEntry",
    "BuiltPack",
    "CodeSent",
    "FeedImported",
    "FeedLine",
    "FeedOptions",
    "ImportReport",
    "MarkResult",
    "NotVerified",
    "NumberSummary",
    "PublishedModel",
    "appeal_queue",
    "build_due_packs",
    "build_pack",
    "decide_appeal",
    "decide_number",
    "end_of",
    "feed_lines",
    "file_appeal",
    "first_publication_after",
    "get_number",
    "import_feed",
    "import_marks",
    "label_reporters",
    "labelled_total",
    "list_marks",
    "lookup_bucket",
    "mark_number",
    "network_id",
    "parse_category",
    "parse_number",
    "parse_region",
    "prefix_length",
    "publish_pack",
    "publish_sms_model",
    "reason_of",
    "recompute_reporter_stats",
    "report_sms",
    "reports_for_training",
    "request_code",
    "rescore",
    "rescore_dirty",
    "resolve_zone",
    "review_queue",
    "stats",
    "summarise",
    "verify_code",
    "withdraw_mark",
    "zones_due",
]
