"""Range tables: what a geo database or a cloud feed says about address ranges, as
Parquet the engine joins (``<lake>/enrichment/<kind>-<content key>.parquet``).

One schema for every source, one row per (range, bucket) — see :mod:`.ip`:

==================  =====================================================
``bucket``          the /16 (IPv4) or /32 (IPv6) the row is joined on
``start``, ``end``  the range, inclusive, as 32 hex digits
``asn``             autonomous system number (geo databases)
``as_org``          its organisation
``country``         ISO 3166-1 alpha-2
``network``         ``aws`` / ``gcp`` / ``azure`` (cloud feeds)
``service``         the provider's service (``EC2``, ``AzureStorage``, ``Google Cloud``)
``region``          the provider's region (``us-east-1``, ``westeurope``)
==================  =====================================================

Ranges within one table never overlap (a database's networks are disjoint; cloud
feeds are flattened, the most specific prefix winning), so an address matches at
most one row of each table.

A table is written once per content of its sources and found again by the key:
nothing is rebuilt until a database file or a stored feed changes. A sidecar
``.json`` keeps where it came from, so a file unchanged since (same path, size and
modification time) is not even hashed again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crownwatch.enrichment.ip import bucket_rows

FORMAT = 1  # bump when the table layout changes: every cache is rebuilt

SCHEMA = pa.schema(
    [
        ("bucket", pa.string()),
        ("start", pa.string()),
        ("end", pa.string()),
        ("asn", pa.int64()),
        ("as_org", pa.string()),
        ("country", pa.string()),
        ("network", pa.string()),
        ("service", pa.string()),
        ("region", pa.string()),
    ]
)
ATTRS = ("asn", "as_org", "country", "network", "service", "region")


@dataclass(frozen=True)
class Span:
    """One range and what is known about it."""

    lo: int
    hi: int
    asn: int | None = None
    as_org: str | None = None
    country: str | None = None
    network: str | None = None
    service: str | None = None
    region: str | None = None

    def attrs(self) -> tuple:
        return (self.asn, self.as_org, self.country, self.network, self.service, self.region)


def cache_dir(lake_root: Path) -> Path:
    return Path(lake_root) / "enrichment"


def write_spans(spans: Iterable[Span], out: Path, batch: int = 200_000) -> dict[str, int]:
    """Write ``spans`` (in address order) as a range table at ``out`` — atomically,
    via a temporary file. Adjacent spans with the same attributes are merged first
    (a City database's many networks of one country become one range). Returns
    counts: ``spans`` read, ``ranges`` after merging, ``rows`` written, ``skipped``
    (ranges too wide to join)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
    counts = {"spans": 0, "ranges": 0, "rows": 0, "skipped": 0}
    cols: dict[str, list] = {f.name: [] for f in SCHEMA}
    writer = pq.ParquetWriter(tmp, SCHEMA, compression="zstd")

    def flush() -> None:
        if cols["bucket"]:
            writer.write_table(pa.table(cols, schema=SCHEMA))
            for v in cols.values():
                v.clear()

    def emit(s: Span) -> None:
        counts["ranges"] += 1
        n = 0
        for b, lo, hi in bucket_rows(s.lo, s.hi):
            cols["bucket"].append(b)
            cols["start"].append(lo)
            cols["end"].append(hi)
            for name, v in zip(ATTRS, s.attrs(), strict=True):
                cols[name].append(v)
            n += 1
        counts["rows"] += n
        if n == 0:
            counts["skipped"] += 1
        if len(cols["bucket"]) >= batch:
            flush()

    try:
        cur: Span | None = None
        for s in spans:
            counts["spans"] += 1
            if (
                cur is not None
                and s.lo == cur.hi + 1
                and s.attrs() == cur.attrs()
                and _same_family(cur.lo, s.hi)
            ):
                cur = Span(cur.lo, s.hi, *cur.attrs())
                continue
            if cur is not None:
                emit(cur)
            cur = s
        if cur is not None:
            emit(cur)
        flush()
        writer.close()
        os.replace(tmp, out)
    except BaseException:
        writer.close()
        tmp.unlink(missing_ok=True)
        raise
    return counts


def _same_family(lo: int, hi: int) -> bool:
    # merging must not join an IPv4-mapped range with its IPv6 neighbours, nor grow
    # an IPv6 range past what the bucket join can use
    from crownwatch.enrichment.ip import MAX_BUCKETS, bucket_count

    return bucket_count(lo, hi) <= MAX_BUCKETS


def flatten(spans: Iterable[tuple[Span, tuple]]) -> Iterator[Span]:
    """Overlapping ranges made disjoint: each address keeps the span with the lowest
    rank (rank: any sortable tuple — the cloud feeds rank the most specific prefix
    first, then the named service before a provider-wide one). Yields in address
    order."""
    import heapq

    items = sorted(spans, key=lambda sr: sr[0].lo)
    points = sorted({s.lo for s, _ in items} | {s.hi + 1 for s, _ in items})
    heap: list[tuple[tuple, int, Span]] = []
    i = 0
    for k, p in enumerate(points[:-1]):
        while i < len(items) and items[i][0].lo <= p:
            s, rank = items[i]
            heapq.heappush(heap, (rank, i, s))
            i += 1
        while heap and heap[0][2].hi < p:
            heapq.heappop(heap)
        if heap:
            best = heap[0][2]
            yield Span(p, points[k + 1] - 1, *best.attrs())


@dataclass
class Sidecar:
    """What a cached range table was built from."""

    path: str
    size: int
    mtime_ns: int
    key: str
    table: str

    @classmethod
    def read(cls, p: Path) -> Sidecar | None:
        try:
            return cls(**json.loads(p.read_text()))
        except (OSError, ValueError, TypeError):
            return None

    def write(self, p: Path) -> None:
        tmp = p.with_name(p.name + f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps(self.__dict__, indent=1))
        os.replace(tmp, p)
