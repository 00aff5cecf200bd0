"""``network.beaconing`` against RITA v5's beacon formulae computed by hand in Python.

The reference below is written from the formulae (Go's ``stats.Quartile`` halves,
Bowley skewness zeroed under a 10-unit spread, MAD over the median, the 24-bin
histogram's 1 − CV and bimodal fit, the duration's coverage and longest run), not from
the detection's code; the engine's sub-scores must equal it to the third decimal on
DuckDB. Spark runs the same scoring through the scenarios test.
"""

from __future__ import annotations

import math
import random
import statistics

import pytest

from crownwatch.detect import run_detections
from crownwatch.detections.contract import Scenario
from crownwatch.detections.network import beaconing_scenarios as bs
from crownwatch.engine import Engine
from crownwatch.testing.network import DAY0, pair_logs, periodic
from crownwatch.testing.scenarios import build_lake

D0 = DAY0.timestamp()
DET = "network.beaconing"


# -- the reference: RITA v5's scoring, by hand ------------------------------------------
def _median(xs):
    return statistics.median(xs)


def _quartiles(xs):
    xs = sorted(xs)
    n = len(xs)
    half = n // 2
    return _median(xs[:half]), _median(xs), _median(xs[n - half :])


def _stat(xs, small_median):
    q1, q2, q3 = _quartiles(xs)
    den = q3 - q1
    skew = (q1 + q3 - 2 * q2) / den if den >= 10 and q2 not in (q1, q3) else 0.0
    mad = _median([abs(x - q2) for x in xs])
    mad_score = max((q2 - mad) / q2, 0.0) if q2 >= 1 else small_median
    return round(((1 - abs(skew)) + mad_score) / 2, 3)


def reference(times: list[float], sizes: list[int]) -> dict[str, float]:
    secs = sorted({math.floor(t) for t in times})
    gaps = [b - a for a, b in zip(secs, secs[1:], strict=False)]
    ts = _stat(gaps, 1.0)
    ds = _stat(sizes, 0.0)
    day = math.floor(D0 / 86400) * 86400
    hist = [0] * 24
    for t in times:
        hist[(math.floor(t) - day) // 3600] += 1
    mean = sum(hist) / 24
    cv = math.sqrt(sum((h - mean) ** 2 for h in hist) / 24) / mean
    cv_score = 0.0 if cv > 1 else round(1 - cv, 3)
    bars = [h for h in hist if h]
    step = math.ceil(max(hist) * 0.05)
    groups: dict[int, int] = {}
    for h in bars:
        groups[h // step] = groups.get(h // step, 0) + 1
    top = sorted(groups.values(), reverse=True)[:2]
    bimodal = min(round(sum(top) / max(len(bars) - 1, 1), 3), 1.0) if len(bars) >= 11 else 0.0
    hist_score = max(cv_score, bimodal)
    run = best = 0
    for h in hist + hist:
        run = run + 1 if h else 0
        best = max(best, run)
    best = min(best, 24)
    dur = 0.0
    if len(bars) >= 6:
        cover = min(math.ceil((max(secs) - min(secs)) / 86400 * 1000) / 1000, 1.0)
        dur = max(cover, min(math.ceil(best / 12 * 1000) / 1000, 1.0))
    score = round(0.25 * (ts + ds + hist_score + dur), 3)
    return {
        "ts_score": ts,
        "ds_score": ds,
        "hist_score": hist_score,
        "dur_score": dur,
        "score": score,
    }


# -- three pairs: a perfect clock, a jittered implant, a person -------------------------
def _perfect():
    times = [D0 + 30 + 60 * i for i in range(1440)]
    return times, [200] * len(times)


def _jittered():
    times = periodic(D0 + 10, D0 + 86_000, 300, 45, seed=7)
    rnd = random.Random(8)
    return times, [310 + rnd.randint(-3, 3) for _ in times]


def _human():
    rnd = random.Random(9)
    times, t = [], D0 + 8 * 3600
    while t < D0 + 18 * 3600:
        times.append(t)
        t += rnd.expovariate(1 / 240)
    return times, [int(rnd.lognormvariate(8, 1.2)) for _ in times]


PAIRS = {
    "10.77.0.1": ("198.51.100.61", _perfect),
    "10.77.0.2": ("198.51.100.62", _jittered),
    "10.77.0.3": ("198.51.100.63", _human),
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory) -> dict[str, dict]:
    """Every pair's finding with the threshold at 0 (so each pair reports its scores)."""

    def logs():
        out = {}
        for src, (dst, make) in PAIRS.items():
            times, sizes = make()
            out.update(pair_logs(f"unit/{src}", src, dst, times, sizes, service=None))
        return out

    lake, config = build_lake(tmp_path_factory.mktemp("beacon"), [Scenario("u", "benign", logs)])
    config["detections"] = {DET: {"threshold": 0.0}}
    found = run_detections(Engine(lake), config, only=[DET])
    return {f["entities"]["src_ip"][0]: f for f in found}


@pytest.mark.parametrize("src", sorted(PAIRS))
def test_engine_scores_equal_the_hand_computed_formulae(scored, src):
    times, sizes = PAIRS[src][1]()
    ev = scored[src]["evidence"]
    got = {k: ev[k] for k in ("ts_score", "ds_score", "hist_score", "dur_score", "score")}
    assert got == pytest.approx(reference(times, sizes), abs=1e-9)
    assert ev["pair_kind"] == "ip" and ev["destination"] == PAIRS[src][0]


def test_a_perfect_clock_scores_one_a_jittered_implant_high_a_person_low(scored):
    assert scored["10.77.0.1"]["evidence"]["score"] == 1.0
    assert scored["10.77.0.1"]["evidence"]["interval_median_s"] == 60.0
    assert scored["10.77.0.2"]["evidence"]["score"] >= 0.9
    assert scored["10.77.0.3"]["evidence"]["score"] < 0.5  # under RITA's base threshold


def test_the_benign_twins_are_quiet_only_because_they_are_listed(tmp_path):
    """NTP, the metrics agent and the package mirror score like beacons (as RITA scores
    them): without ``known_services`` and the default ``udp/123`` ignore they fire; the
    person browsing does not."""
    sc = next(s for s in bs.SCENARIOS if s.name == "ntp_metrics_mirror_and_browsing")
    lake, config = build_lake(tmp_path, [Scenario("bare", "benign", sc.logs)])
    config["detections"] = {DET: {"ignore_services": []}}
    found = run_detections(Engine(lake), config, only=[DET])
    assert sorted(f["evidence"]["destination"] for f in found) == [
        "198.51.100.123",  # NTP
        "eu.intake.metrics.example.com",
        "mirror.pkgs.example.org",
    ]


def test_a_busy_pair_cites_its_first_records_and_counts_them_all(tmp_path, engine_rows):
    """The clock's 1,440 connections are one finding: the first 25 records in line order,
    the 1,440 counted, 25 connection ids — cut in the engine: the row the query returns
    holds 25 references, not 1,440."""
    times, sizes = _perfect()
    logs = pair_logs("busy", "10.77.0.1", "198.51.100.61", times, sizes, service=None)
    lake, config = build_lake(tmp_path, [Scenario("busy", "attack", lambda: logs)])
    (f,) = run_detections(Engine(lake), config, only=[DET])
    assert len(engine_rows[0]["raw_refs"]) == 25 and engine_rows[0]["raw_refs_total"] == 1440
    assert len(engine_rows[0]["sample_uids"]) == 25
    ev = f["evidence"]
    refs = ev["raw_records"]
    lines = [int(r.rsplit("#", 1)[1]) for r in refs]
    assert len(refs) == 25 and ev["raw_records_total"] == 1440 == ev["connections"]
    assert all(r.rsplit("#", 1)[0].endswith("busy/conn.log") for r in refs)
    assert lines == list(range(lines[0], lines[0] + 25))
    assert len(ev["sample_uids"]) == 25 and ev["sample_uids"] == sorted(set(ev["sample_uids"]))
    assert ev["dst_ports"] == ["443"] and f["entities"]["dst_ip"] == ["198.51.100.61"]
