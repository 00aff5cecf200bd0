"""DuckDB and Spark agree, operation by operation, on the building blocks the detections
are made of — in seconds, on tables of a few rows.

``tests/test_detection_scenarios.py`` proves whole detections raise identical findings
on both engines; when it fails, it says *which finding* differs, not *which operation*.
Here each operation the detections use is built the way they build it (the shared
helpers of :mod:`crownwatch.detections` are called directly) and run on both engines:
rounding, casts, integer division, epoch seconds and hour/day numbers, buckets and
slices, the exact order statistics, distinct counts, ``collect``, the principal
regexes, and ``row_number`` with its tie-breakers. A new helper, or a detection that
starts using a new operation, adds a case here.

Results are compared exactly (floats to the bit) after sorting rows; arrays are
compared as sorted lists, as :func:`crownwatch.detections.base.row_to_finding` sorts
them before they reach a finding.
"""

from __future__ import annotations

import math
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import ibis
import pyarrow as pa
import pytest

import crownwatch.detections
from crownwatch.detections import _evidence
from crownwatch.detections._num import rounded
from crownwatch.detections._time import day_number, epoch, epoch_s, hour_number
from crownwatch.detections.base import MAX_SAMPLES, ref_order
from crownwatch.detections.contract import running
from crownwatch.detections.exfiltration._common import (
    empty_lists,
    order_stat,
    peer_group,
    principal_key,
)
from crownwatch.detections.identity._common import origin, run_keys
from crownwatch.engine import Engine
from crownwatch.lake import Lake
from tests.conftest import HAS_SPARK

pytestmark = [
    pytest.mark.spark,
    pytest.mark.skipif(not HAS_SPARK, reason="PySpark and a Java runtime are needed for Spark"),
]

TS = pa.timestamp("us", tz="UTC")


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    # the same test-sized Spark settings as the scenario parity test (one session per
    # process: whichever module starts it first sets them)
    os.environ.setdefault("SPARK_SHUFFLE_PARTITIONS", "1")
    lake = Lake(tmp_path_factory.mktemp("parity-ops"))
    spark = Engine(lake, "spark")
    session = spark.backend._session
    session.sparkContext.setLogLevel("ERROR")
    session.conf.set("spark.sql.codegen.wholeStage", "false")
    return {"duckdb": Engine(lake), "spark": spark}


def _norm(v):
    if isinstance(v, list):
        return sorted((_norm(x) for x in v), key=repr)
    if isinstance(v, datetime) and v.tzinfo is None:
        return v.replace(tzinfo=UTC)
    return v


def both(engines, build) -> tuple[list[dict], list[dict]]:
    """``build()`` on each engine inside a run of that engine (so helpers that ask
    :func:`current_engine` take the branch a detection run takes), executed; rows
    sorted, lists sorted."""
    out = []
    for eng in engines.values():
        with running(SimpleNamespace(engine=eng, cache={})):
            rows = eng.execute(build())
        rows = [{k: _norm(v) for k, v in r.items()} for r in rows]
        out.append(sorted(rows, key=lambda r: repr(sorted(r.items()))))
    return out[0], out[1]


def same(engines, build) -> list[dict]:
    """Assert both engines return identical rows; returns DuckDB's."""
    duck, spark = both(engines, build)
    diff = [(d, s) for d, s in zip(duck, spark, strict=False) if d != s]
    assert len(duck) == len(spark) and not diff, diff[:10] or (len(duck), len(spark))
    return duck


def table(**cols) -> ibis.Table:
    return ibis.memtable(pa.table(cols))


# -- numbers --------------------------------------------------------------------------

HALVES = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.05, 0.15, 0.25, 0.35, -0.25, -0.35]
HALVES += [1.005, 2.675, -2.675, 0.125, 0.0005, 1234.5675, 0.0, -0.0, 1e-9]


def test_round_of_halves(engines):
    """:func:`rounded` (every rounded evidence value: ratios, rates, shares, 1–3
    digits) on ties, negative ties, and decimals a double cannot hold exactly (2.675 is
    2.67499…, 0.15 is 0.1499…): the same on both engines, ties away from zero."""
    t = table(x=pa.array(HALVES, pa.float64()))
    rows = same(
        engines,
        lambda: t.select("x", **{f"r{n}": rounded(t.x, n) for n in (0, 1, 2, 3)}),
    )
    got = {r["x"]: r for r in rows}
    assert (got[0.5]["r0"], got[2.5]["r0"], got[-2.5]["r0"]) == (1.0, 3.0, -3.0)
    assert (got[0.15]["r1"], got[-0.35]["r1"], got[2.675]["r2"]) == (0.2, -0.4, 2.68)


def test_engine_round_differs_so_detections_do_not_use_it(engines):
    """Why :func:`rounded` exists: ``ROUND(DOUBLE, n)`` itself differs — DuckDB rounds
    the binary value (0.15 → 0.1), Spark the shortest decimal form half up (0.15 →
    0.2); ``(9 s / 60).round(1)`` was 0.1 minutes on one engine and 0.2 on the other.
    No detection calls Ibis's ``.round(`` directly."""
    t = table(x=pa.array([0.15, 2.675], pa.float64()))
    duck, spark = both(engines, lambda: t.select("x", r=t.x.round(1), r2=t.x.round(2)))
    assert [(r["r"], r["r2"]) for r in duck] == [(0.1, 0.15), (2.7, 2.67)]
    assert [(r["r"], r["r2"]) for r in spark] == [(0.2, 0.15), (2.7, 2.68)]
    src = Path(crownwatch.detections.__file__).parent
    users = [
        f"{f.relative_to(src)}:{i}"
        for f in sorted(src.rglob("*.py"))
        if f.name != "_num.py"
        for i, line in enumerate(f.read_text().splitlines(), 1)
        if ".round(" in line and not line.lstrip().startswith("#")
    ]
    assert not users, f"use crownwatch.detections._num.rounded, not .round(n): {users}"


def test_round_of_detection_ratios(engines):
    """The quotients detections actually round: minutes from seconds to 0.1
    (``(s / 60)``), attempts per minute to 0.01, shares to 0.001, hours to 0.1."""
    n = [a for a in range(1, 61) for _ in range(1, 61)]
    d = [b for _ in range(1, 61) for b in range(1, 61)]
    t = table(n=pa.array(n, pa.int64()), d=pa.array(d, pa.int64()))
    same(
        engines,
        lambda: t.select(
            "n",
            "d",
            minutes=rounded((t.n * 7 + t.d) / 60, 1),
            per_minute=rounded(t.n * 60.0 / ibis.greatest(t.d, 1), 2),
            share=rounded(t.n / t.d, 3),
            hours=rounded((t.n * 97) / 3600, 1),
            whole=rounded(t.n, 2),
        ),
    )


def test_cast_float_to_int(engines):
    """The detections floor before they cast (``epoch_s``, ``order_stat``'s rank, the
    p95's ``n / 20``): ``floor().cast("int64")`` agrees; a bare cast is not used."""
    t = table(x=pa.array([1.5, 2.5, -1.5, -2.5, 1.9999, -0.7, 0.49, 7.0], pa.float64()))
    same(engines, lambda: t.select("x", f=t.x.floor().cast("int64"), c=t.x.ceil().cast("int64")))


def test_integer_division_and_modulo_of_negatives(engines):
    """``ts // bucket`` (recovery buckets, cluster slices) and ``%``; negative operands
    included (a timestamp before 1970 is negative)."""
    pairs = [(a, b) for a in (-7, -6, -1, 0, 1, 6, 7, 3601, -3601) for b in (2, -2, 3600)]
    t = table(a=pa.array([p[0] for p in pairs]), b=pa.array([p[1] for p in pairs]))
    same(
        engines,
        lambda: t.select("a", "b", q=(t.a // t.b).cast("int64"), m=t.a % t.b, f=t.a / t.b),
    )


def test_boolean_casts_and_sums(engines):
    """``flag.cast("int64")`` summed (first_access's score, _features' counts)."""
    t = table(g=pa.array([1, 1, 1, 2]), f=pa.array([True, False, None, None]))
    same(
        engines,
        lambda: t.group_by("g").aggregate(
            s=t.f.cast("int64").sum(), n=t.f.fill_null(False).cast("int64").sum()
        ),
    )


# -- time -----------------------------------------------------------------------------

_T0 = datetime(2024, 3, 9, 23, 59, 59, 999_999, tzinfo=UTC)
TIMES = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1970, 1, 1, 0, 0, 0, 500_000, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),  # negative, fractional
    datetime(1969, 12, 31, 23, 0, 0, tzinfo=UTC),
    _T0,  # a microsecond before midnight
    _T0 + timedelta(microseconds=1),  # midnight
    datetime(2024, 3, 10, 2, 30, 0, 250_000, tzinfo=UTC),  # a US DST gap hour, in UTC
    datetime(2024, 10, 27, 1, 59, 59, 999_000, tzinfo=UTC),  # an EU DST fold hour
    datetime(2024, 12, 31, 23, 59, 59, 1, tzinfo=UTC),
    datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC),  # past int32 seconds
]


def _times(naive: bool = False) -> ibis.Table:
    vals = [t.replace(tzinfo=None) for t in TIMES] if naive else TIMES
    return table(
        i=pa.array(range(len(vals))),
        time=pa.array(vals, pa.timestamp("us", None if naive else "UTC")),
    )


@pytest.mark.parametrize("naive", [False, True], ids=["timestamptz", "naive"])
def test_epoch_seconds_hours_and_days(engines, naive):
    """:func:`epoch_s`, :func:`hour_number`, :func:`day_number` (DuckDB's
    ``epoch(TIMESTAMPTZ)`` inside a run, Ibis's ``epoch_seconds`` on Spark): whole
    numbers, floored, alike across midnight, before 1970 and past 2038."""
    t = _times(naive)
    rows = same(
        engines,
        lambda: t.select(
            "i",
            s=epoch_s(t.time),
            h=hour_number(t.time),
            d=day_number(t.time),
            hod=t.time.hour(),
            s_min=epoch_s(t.time.min().over(ibis.window())),
        ),
    )
    for r in rows:
        exp = TIMES[r["i"]].timestamp()
        assert (r["s"], r["h"], r["d"]) == (
            math.floor(exp),
            math.floor(exp / 3600),
            math.floor(exp / 86400),
        )


def test_epoch_is_the_same_double(engines):
    """:func:`epoch` in a run: DuckDB's ``epoch(TIMESTAMPTZ)`` and Spark's
    ``UNIX_MICROS(ts) / 1e6`` — the same fractional seconds to the bit. (Ibis's own
    ``epoch_seconds()`` on Spark is ``UNIX_TIMESTAMP``: truncated toward zero, so
    1969-12-31 23:59:59.5 was 0 where DuckDB floors to -1, and typed int32, so
    2038-01-19 03:14:08 came back as -2147483648; inference gaps were whole seconds on
    Spark and fractional on DuckDB.)"""
    t = _times()
    rows = same(engines, lambda: t.select("i", e=epoch(t.time)))
    assert [r["e"] for r in sorted(rows, key=lambda r: r["i"])] == [
        (x - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1) / 1e6 for x in TIMES
    ]
    t2 = table(time=pa.array(TIMES, TS), i=pa.array(range(len(TIMES))))

    def gaps():
        g = t2.mutate(ts=epoch(t2.time))
        return g.select("i", gap=g.ts - g.ts.lag().over(ibis.window(order_by=g.ts)))

    same(engines, gaps)


def test_timestamp_difference_in_seconds(engines):
    """Gaps and durations are differences of :func:`epoch_s` (integers), and
    ``time.min()``/``max()`` come back as the same instants."""
    t = _times()
    same(
        engines,
        lambda: t.aggregate(
            first=t.time.min(),
            last=t.time.max(),
            span=epoch_s(t.time.max()) - epoch_s(t.time.min()),
        ),
    )


def test_buckets_and_slices(engines):
    """The tumbling windows of the identity family: recovery buckets
    (``ts // recovery_seconds``) and cluster slices (``start + (ts - start) // slice *
    slice``), on :func:`epoch_s` of sub-second times."""
    base = datetime(2024, 5, 1, 23, 58, tzinfo=UTC)
    times = [
        base + timedelta(seconds=s, microseconds=us)
        for s in range(0, 400, 37)
        for us in (0, 999_999)
    ]
    t = table(time=pa.array(times, TS), g=pa.array([i % 3 for i in range(len(times))]))

    def build():
        f = t.mutate(ts=epoch_s(t.time))
        f = f.mutate(_start=f.ts.min().over(ibis.window(group_by=f.g)))
        return f.select(
            "g",
            "ts",
            b=(f.ts // 300).cast("int64"),
            slice_start=f._start + ((f.ts - f._start) // 120).cast("int64") * 120,
            key=f.g.cast("string").concat("@", f.ts.cast("string")),
        )

    same(engines, build)


def test_run_keys_gaps_and_islands(engines):
    """:func:`run_keys`: runs split at quiet gaps longer than the limit, equal
    timestamps in one run, per group."""
    ts = [0, 10, 10, 70, 200, 200, 201, 1000, 5, 400]
    t = table(u=pa.array(["a"] * 8 + ["b"] * 2), ts=pa.array(ts, pa.int64()))
    rows = same(engines, lambda: run_keys(t, "u", 60))
    assert sorted((r["u"], r["ts"], r["run"]) for r in rows) == [
        ("a", 0, 1), ("a", 10, 1), ("a", 70, 1), ("a", 200, 2), ("a", 201, 2),
        ("a", 1000, 3), ("b", 5, 1), ("b", 400, 2),
    ]  # fmt: skip


# -- order statistics -----------------------------------------------------------------


def _groups() -> ibis.Table:
    vals = {
        "one": [5],
        "two": [3, 1],
        "three": [9, 1, 5],
        "even-ties": [4, 4, 2, 2, 8, 8],
        "all-equal": [7, 7, 7, 7],
        "twenty": list(range(20, 0, -1)),
        "twenty-one": list(range(21)),
        "wide": [10**12, 1, 10**15, 3, 3],
    }
    g = [k for k, v in vals.items() for _ in v]
    v = [x for xs in vals.values() for x in xs]
    return table(g=pa.array(g), v=pa.array(v, pa.int64()))


@pytest.mark.parametrize("pct", [50, 95, 90, 5])
def test_order_stat(engines, pct):
    """:func:`order_stat` (bulk_read's median, MAD and p95): exact, the lower median
    for even counts, nearest rank otherwise, ties alike."""
    t = _groups()
    rows = same(engines, lambda: order_stat(t, ["g"], "v", pct, "s"))
    got = {r["g"]: (r["s"], r["s_n"]) for r in rows}
    import collections

    by = collections.defaultdict(list)
    for r in t.to_pyarrow().to_pylist():
        by[r["g"]].append(r["v"])
    for g, xs in by.items():
        xs = sorted(xs)
        k = (len(xs) - 1) // 2 if pct == 50 else max(math.ceil(pct * len(xs) / 100) - 1, 0)
        assert got[g] == (xs[k], len(xs)), g


def test_median_absolute_deviation(engines):
    """MAD as bulk_read builds it: median, the absolute deviations joined back, their
    median."""
    t = _groups()

    def build():
        med = order_stat(t, ["g"], "v", 50, "med")
        dev = t.join(med, "g").select("g", v=(t.v - med.med).abs())
        return order_stat(dev, ["g"], "v", 50, "mad").join(med, "g")

    same(engines, build)


# -- aggregates -----------------------------------------------------------------------


def test_nunique_with_nulls(engines):
    """``nunique()`` ignores NULL on both; ``nunique(where=…)`` as the spray clusters
    count unrecovered users; a group of only NULLs counts 0."""
    t = table(
        g=pa.array(["a", "a", "a", "a", "b", "b"]),
        u=pa.array(["x", None, "x", "y", None, None]),
        ok=pa.array([True, False, None, False, True, False]),
    )
    same(
        engines,
        lambda: t.group_by("g").aggregate(
            n=t.u.nunique(),
            n_bad=t.u.nunique(where=~t.ok),
            rows=t.count(),
            pairs=t.u.fill_null("-").concat("|", t.g).nunique(),
        ),
    )


def test_collect_of_nothing_is_an_empty_list(engines):
    """``collect()`` over no non-NULL value is NULL on DuckDB and ``[]`` on Spark (a
    real, harmless difference): detections pass such columns through
    :func:`empty_lists`, after which both say ``[]``. With values, the same elements
    (order is the engine's; findings sort them)."""
    t = table(
        g=pa.array(["nulls", "nulls", "mixed", "mixed", "mixed"]),
        v=pa.array([None, None, "b", None, "a"], pa.string()),
        keep=pa.array([True, True, False, True, False]),
    )

    def build():
        return t.group_by("g").aggregate(
            vs=t.v.collect(), kept=t.v.collect(where=t.keep), n=t.v.cast("string").count()
        )

    duck, spark = both(engines, build)
    cols = ("vs", "kept")
    assert empty_lists(duck, cols) == empty_lists(spark, cols)
    assert {r["g"]: r["vs"] for r in duck} == {"mixed": ["a", "b"], "nulls": []}


# references a detection collects: numeric lines by value (9 before 10, 007 beside 7), ids
# by text after every number, a '#' inside the path, no '#' at all, a newline and a
# non-ASCII digit in the path or the id (a line ending in a newline is no number),
# duplicates, empties and nulls
REFS = [f"s3/a.log#{n}" for n in (10, 9, 100, 2, 30, 7, 11, 1000, 12, 3)]
REFS += ["s3/a.log#007", "s3/a.log#x1", "s3/a.log#", "s3/a#b.log#5", "s3/a#b.log#id-9"]
REFS += [
    "no-hash",
    "#4",
    "cw\n#2",
    "win.evtx#\u00b2",
    "win.evtx#\u0663",
    "win.evtx#18446744073709551617",
]
REFS += [f"gz/part-{i % 3}.json#{(i * 7919) % 997}" for i in range(40)]
REFS += ["s3/a.log#10", "win.evtx#12\n", "win.evtx#13", "", None, None]


def test_evidence_lists_cut_in_the_engine_as_a_finding_keeps_them(engines):
    """:mod:`crownwatch.detections._evidence` cuts a list to what ``row_to_finding``
    keeps of it — distinct values sorted, the first MAX_SAMPLES; raw references in file
    and line order with their distinct count — identically on both engines, element by
    element and in order (not sorted after)."""
    values = [f"v{(i * 37) % 61:02d}" if i % 9 else None for i in range(len(REFS))]
    values[5] = "Zulu"
    values[6] = "\u00e9t\u00e9"
    t = table(
        g=pa.array(["one"] * len(REFS)),
        r=pa.array(REFS, pa.string()),
        v=pa.array(values, pa.string()),
        n=pa.array([(i * 13) % 40 - 5 for i in range(len(REFS))], pa.int64()),
    )

    def build():
        agg = t.group_by("g").aggregate(rs=t.r.collect(), vs=t.v.collect(), ns=t.n.collect())
        return agg.select(
            vs=_evidence.samples(agg.vs),
            ns=_evidence.samples(agg.ns),
            few=_evidence.samples(agg.vs, 3),
            **_evidence.ref_samples(agg.rs),
        )

    got = {}
    for name, eng in engines.items():
        with running(SimpleNamespace(engine=eng, cache={})):
            [got[name]] = eng.execute(build())
    assert got["duckdb"] == got["spark"]

    # under MAX_SAMPLES distinct (no gz/ parts): every reference kept, the whole order
    few = [r for r in REFS if not (r or "").startswith("gz/")]
    f = table(r=pa.array(few, pa.string()), g=pa.array(["one"] * len(few)))
    for name, eng in engines.items():
        with running(SimpleNamespace(engine=eng, cache={})):
            agg = f.group_by("g").aggregate(rs=f.r.collect())
            [got[f"{name} few"]] = eng.execute(agg.select(**_evidence.ref_samples(agg.rs)))
    every = sorted({r for r in few if r}, key=ref_order)
    assert len(every) < MAX_SAMPLES
    assert got["duckdb few"]["raw_refs"] == got["spark few"]["raw_refs"] == every
    assert every.index("win.evtx#13") < every.index("win.evtx#12\n")  # no number

    # from the rows, not a list (ref_samples_of, with_ref_samples): the same on both
    # engines, the same as ref_samples; NULL keys one group, matched to their group's
    # row; a group whose references are all empty has none
    f = table(
        g=pa.array(["one"] * len(REFS) + ["none", "none", None, None]),
        r=pa.array([*REFS, "", None, "x.log#10", "x.log#9"], pa.string()),
    )
    groups = f.group_by("g").aggregate(n=f.count())
    for name, eng in engines.items():
        with running(SimpleNamespace(engine=eng, cache={})):
            got[f"{name} rows"] = sorted(
                eng.execute(_evidence.with_ref_samples(groups, f, ["g"], f.r)),
                key=lambda row: str(row["g"]),
            )
    assert got["duckdb rows"] == got["spark rows"]
    assert [
        (r["g"], r["n"], r["raw_refs"] or None, r["raw_refs_total"]) for r in got["duckdb rows"]
    ] == [
        (None, 2, ["x.log#9", "x.log#10"], 2),
        ("none", 2, None, None),
        ("one", len(REFS), got["duckdb"]["raw_refs"], got["duckdb"]["raw_refs_total"]),
    ]

    kept = sorted({r for r in REFS if r}, key=ref_order)
    assert got["duckdb"]["raw_refs"] == kept[:MAX_SAMPLES]
    assert got["duckdb"]["raw_refs_total"] == len(kept)
    assert kept.index("s3/a.log#9") < kept.index("s3/a.log#10") < kept.index("s3/a.log#x1")
    assert got["duckdb"]["vs"] == sorted({v for v in values if v is not None})[:MAX_SAMPLES]
    assert got["duckdb"]["few"] == sorted({v for v in values if v is not None})[:3]
    assert (
        got["duckdb"]["ns"] == sorted({(i * 13) % 40 - 5 for i in range(len(REFS))})[:MAX_SAMPLES]
    )


def test_min_max_of_strings_and_nulls(engines):
    t = table(g=pa.array(["a", "a", "b"]), v=pa.array(["B", "a", None], pa.string()))
    same(engines, lambda: t.group_by("g").aggregate(lo=t.v.min(), hi=t.v.max()))


# -- strings --------------------------------------------------------------------------

PRINCIPALS = [
    "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Researcher_ab12/alice@corp.example",
    "arn:aws:sts::123456789012:assumed-role/nightly-train/i-0abc1234def567890",
    "arn:aws:sts::123456789012:assumed-role/nightly-train/botocore-session-1700000000",
    "arn:aws-us-gov:sts::123456789012:assumed-role/Ops/Bob.Smith@Corp.Example",
    "arn:aws:sts::123456789012:assumed-role/NoSession",
    "arn:aws:iam::210987654321:user/deploy",
    "arn:aws:iam::210987654321:user/path/to/ci",
    "trainer@my-proj.iam.gserviceaccount.com",
    "123456789-compute@developer.gserviceaccount.com",
    "Carol.Jones@Example.COM",
    "0f8fad5b-d9cb-469f-a165-70867728950e",
    "CORP\\dave",
    "anonymous",
    "",
    None,
]


def test_principal_key_and_peer_group(engines):
    """The exfiltration family's regexes (``re_extract`` with no match is ``''`` on
    both, NULL in stays NULL-safe via ``fill_null``) and ``lower()``."""
    t = table(principal=pa.array(PRINCIPALS, pa.string()))
    rows = same(
        engines,
        lambda: t.select("principal", pkey=principal_key(t), peer=peer_group(t)),
    )
    peers = {r["principal"]: r["peer"] for r in rows}
    assert peers[PRINCIPALS[0]] == "role:awsreservedsso_researcher_ab12"
    assert peers["Carol.Jones@Example.COM"] == "user:example.com"


def test_regexes_of_identity_and_enrichment(engines):
    """The session / IAM user / e-mail / host-and-process patterns the identity
    detections and the identity links use."""
    from crownwatch.detections.identity import explicit_credential_spray as ecs
    from crownwatch.detections.identity import workload_credentials_outside as wco
    from crownwatch.enrichment import identities as ids

    details = [
        "subject=CORP\\eve computer=WS-01.corp.local process=C:\\Windows\\System32\\svchost.exe target_server=dc1",
        "process=C:\\Program Files\\tool x.exe",
        "computer= process=",
        "nothing here",
        None,
    ]
    t = table(
        p=pa.array(PRINCIPALS, pa.string()),
        d=pa.array(details + [None] * (len(PRINCIPALS) - len(details)), pa.string()),
    )

    def build():
        lp = t.p.lower()
        return t.select(
            "p",
            "d",
            role=t.p.re_extract(wco._SESSION, 2),
            session=t.p.re_extract(wco._SESSION, 3),
            ec2=t.p.re_extract(wco._SESSION, 3).re_search(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$"),
            key=t.p.re_extract(ids._KEY, 1).lower(),
            l_session=lp.re_extract(ids._SESSION, 1),
            iam_user=lp.re_extract(ids._IAM_USER, 1),
            email=lp.re_search(ids._EMAIL) & ~lp.re_search(ids._SERVICE_ACCOUNT),
            host=t.d.re_extract(ecs._HOST, 1).nullif(""),
            process=t.d.re_extract(ecs._PROCESS, 1).nullif(""),
            label=t.d.lower().re_extract(ecs._FIRST_LABEL, 1),
        )

    same(engines, build)


def test_origin_and_string_casts(engines):
    """:func:`origin` (address, else ``host:<lower name>``) and the int/bool→string casts
    keys are made of."""
    t = table(
        src_ip=pa.array(["10.0.0.1", None, None], pa.string()),
        src_host=pa.array(["X", "WS-01", None], pa.string()),
        n=pa.array([-5, 0, 12345678901], pa.int64()),
    )
    same(
        engines,
        lambda: t.select(
            o=origin(t),
            s=t.n.cast("string"),
            k=t.n.cast("string").concat("|", t.src_host.fill_null("-")),
        ),
    )


# -- windows --------------------------------------------------------------------------


def test_row_number_with_tie_breakers(engines):
    """``row_number`` as bulk_read ranks an asset's top object keys: bytes descending,
    then key — a total order, so the same rows are kept on both engines; and
    ``dense_rank`` over users (the spray clusters' distinct-users count)."""
    t = table(
        g=pa.array(["a"] * 6 + ["b"] * 3),
        key=pa.array(["k3", "k1", "k2", "k5", "k4", None, "x", "y", "z"], pa.string()),
        kb=pa.array([10, 10, 10, 5, 20, 10, 1, 1, 1], pa.int64()),
    )

    def build():
        w = ibis.window(group_by=[t.g], order_by=[t.kb.desc(), t.key])
        r = t.mutate(_r=ibis.row_number().over(w))
        r = r.mutate(
            rk=ibis.dense_rank().over(ibis.window(group_by=r.g, order_by=r.key)),
            prev=r.kb.lag().over(ibis.window(group_by=r.g, order_by=[r.kb, r.key])),
        )
        return r.filter(r._r < 4)

    same(engines, build)


def test_the_earliest_k_answer_at_least_k_before_t_as_every_row_does(engines):
    """``earliest`` keeps k rows a group (ties broken either way, so the rows differ
    between engines): "at least k other users there before T" must come out the same
    on both engines and as counting every row does — ties at the k-th place, the
    asker among the earliest, T on a tie."""
    import random

    from crownwatch.detections.identity._common import earliest

    rnd = random.Random(7)
    rows = [(g, f"u{u}", rnd.choice([10, 20, 20, 30, 40])) for g in "abc" for u in range(8)]
    ask = [(g, f"u{rnd.randrange(9)}", rnd.choice([5, 20, 21, 30, 35, 50])) for g in "abc"] * 3
    ask = sorted(set(ask))
    seen = table(g=[r[0] for r in rows], user=[r[1] for r in rows], ts=[r[2] for r in rows])
    asks = table(a_g=[a[0] for a in ask], a_user=[a[1] for a in ask], a_t=[a[2] for a in ask])
    k = 3

    def build():
        first = earliest(seen, "g", "ts", k + 1)
        j = asks.join(
            first, (asks.a_g == first.g) & (first.user != asks.a_user) & (first.ts < asks.a_t)
        )
        n = j.group_by(["a_g", "a_user", "a_t"]).aggregate(n=j.count())
        return n.filter(n.n >= k).select("a_g", "a_user", "a_t")

    got = {(r["a_g"], r["a_user"], r["a_t"]) for r in same(engines, build)}
    want = {
        (g, user, t)
        for g, user, t in ask
        if sum(1 for rg, ru, rt in rows if rg == g and ru != user and rt < t) >= k
    }
    assert got == want and want and set(ask) - want


def test_role_policy_outside_accounts_and_trimmed_activity_names(engines):
    """``persistence.trust_opened`` strikes the own accounts out of a role policy logged
    as an escaped JSON string and looks for any account (or ``*``) left; the family
    compares activity names trimmed (Entra logs one with a trailing space)."""
    from crownwatch.detections.persistence import trust_opened as to

    policies = [
        '{"roleName":"r","policyDocument":"{\\"Principal\\":{\\"AWS\\":[\\"arn:aws:iam::111122223333:root\\",\\"arn:aws:iam::999988887777:root\\"]}}"}',
        '{"roleName":"r","policyDocument":"{\\"Principal\\":{\\"AWS\\":\\"111122223333\\"}}"}',
        '{"roleName":"r","policyDocument":"{\\"Principal\\":{\\"AWS\\":\\"999988887777\\"}}"}',
        '{"roleName":"r","policyDocument":"{\\"Principal\\": {\\"AWS\\": \\"*\\"}}"}',
        '{"roleName":"r","policyDocument":"{\\"Principal\\":{\\"Service\\":\\"ec2.amazonaws.com\\"}}"}',
        None,
    ]
    names = ["Update application – Certificates and secrets management ", " x", "y", None, "", "z"]
    t = table(
        p=pa.array(policies, pa.string()),
        n=pa.array(names, pa.string()),
    )

    def build():
        left = to.strike_own(t.p, ["111122223333", "northwind-ml-prod"])
        return t.select("p", left=left, someone=to.names_someone(left), name=t.n.strip())

    rows = same(engines, build)
    assert [r["someone"] for r in sorted(rows, key=lambda r: policies.index(r["p"]))] == [
        True,
        False,
        True,
        True,
        False,
        False,
    ]
