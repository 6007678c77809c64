"""Live data in: small batches from sending organisations (``POST /api/feeds/{kind}``), files
dropped into a folder (``uec watch DIR``), and each source's freshness against its expected interval.

Both paths load through :func:`uec.ingest.ingest`, so a batch gets the same validation, quarantine
and atomic load as ``uec ingest``; both are audited.

>>> "attendances" in feed_kinds() and "sites" not in feed_kinds()
True
"""

from uec.feeds.batch import MAX_BYTES, FeedRefused, feed_kinds, load_file, load_warnings, receive
from uec.feeds.freshness import Freshness, expected_intervals, freshness
from uec.feeds.watch import Outcome, kind_of, scan, watch

__all__ = [
    "MAX_BYTES",
    "FeedRefused",
    "Freshness",
    "Outcome",
    "expected_intervals",
    "feed_kinds",
    "freshness",
    "kind_of",
    "load_file",
    "load_warnings",
    "receive",
    "scan",
    "watch",
]
