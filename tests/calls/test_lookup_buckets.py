"""The private lookup's minimum bucket size holds at every size (issue 22): with 0, 1, 10 or
10,000 labelled numbers, every prefix answers at least ``lookup_min_bucket`` entries."""

from __future__ import annotations

import pytest
from sqlalchemy import insert

from canyu.calls import numbers, service
from canyu.calls.models import Number
from canyu.calls.settings import CallsSettings
from canyu.db import Database

KEY = "test-secret-key"


def _label(database: Database, count: int) -> list[str]:
    e164s = [f"+8613{i:09d}" for i in range(count)]
    rows = [
        {
            "e164": e164,
            "region": "CN",
            "number_type": "mobile",
            "hash_bucket": numbers.bucket_of(numbers.number_hash(e164)),
            "label": "fraud",
            "marks_count": 5,
        }
        for e164 in e164s
    ]
    with database.session() as s:
        for start in range(0, len(rows), 2000):
            s.execute(insert(Number), rows[start : start + 2000])
    return e164s


@pytest.mark.parametrize("count", [0, 1, 10, 10_000])
def test_every_bucket_holds_the_minimum(
    database: Database, calls_settings: CallsSettings, count: int
) -> None:
    labelled = _label(database, count)
    settings = calls_settings
    with database.session() as s:
        length = service.prefix_length(s, settings=settings, max_age=0)
        prefixes = [f"{i:0{length}x}" for i in range(16**length)]
        if len(prefixes) > 300:
            prefixes = prefixes[:: len(prefixes) // 300]
        sizes = {}
        for prefix in prefixes:
            bucket = service.lookup_bucket(
                s, prefix=prefix, settings=settings, decoy_key=KEY, max_age=0
            )
            assert all(e.hash.startswith(prefix) for e in bucket)
            sizes[prefix] = len(bucket)
            # The same prefix gives the same answer: decoys cannot be told apart by asking again.
            again = service.lookup_bucket(
                s, prefix=prefix, settings=settings, decoy_key=KEY, max_age=0
            )
            assert again == bucket
        assert min(sizes.values()) >= settings.lookup_min_bucket
        # Real labelled numbers are still found in their buckets.
        for e164 in labelled[:20]:
            digest = numbers.number_hash(e164)
            bucket = service.lookup_bucket(
                s, prefix=digest[:length], settings=settings, decoy_key=KEY, max_age=0
            )
            assert digest in {e.hash for e in bucket}
