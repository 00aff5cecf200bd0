"""Beaconing: a host calling the same destination on a clock (ATT&CK T1071 Application
Layer Protocol, T1573 Encrypted Channel; the command-and-control rhythm of an implant).

**What it looks for.** An implant on a training node checks in with its controller
every few minutes, all day, sending about the same few hundred bytes each time; jitter
blurs the clock but not the shape. One source's connections to one destination in one
UTC day are scored with the beacon method of RITA v5 (Active Countermeasures, the
``analysis/beacons.go`` scorer), re-derived here as engine expressions.

**Pairs.** A connection whose Zeek ``ssl.log`` SNI or ``http.log`` ``Host`` names its
server belongs to the pair (source, *name*) — an implant behind a CDN keeps its name
while its addresses rotate; any other connection to the pair (source, destination
address). Each connection counts in one pair only. A pair needs ``min_connections``
connections in the day (RITA's floor is 4 unique timestamps; 20 keeps one-hour
chatter out) and at least four distinct seconds.

**Flow logs.** VPC Flow Logs are not connection logs: each direction of a connection
is a record, and a connection is reported again in every aggregation window it is
active in. The answering half (from the service's port) is left out and a connection
counts once a day, at its first record — so an SSM agent's websocket is one connection,
not a minute clock, while an implant's check-ins, each a new connection, keep theirs.

**The four sub-scores** (each 0–1; RITA rounds each to three decimals, and so does
this):

* *Timestamp* — the gaps between consecutive distinct connection seconds. Their
  Bowley skewness ``(Q1 + Q3 − 2·Q2) / (Q3 − Q1)`` (quartiles as Go's
  ``stats.Quartile``: the medians of the lower and upper halves, the middle value in
  neither), taken as 0 when ``Q3 − Q1 < 10`` s or the median equals a quartile, scores
  ``1 − |skew|``; the median absolute deviation scores ``(median − MAD) / median``
  (floored at 0; 1 when the median is under 1). The sub-score is the mean of the two.
  A clock keeps the gaps symmetric and tight; jitter lowers only the MAD term.
* *Data size* — the same two terms over the bytes each connection sent (Zeek
  ``orig_bytes``), except that a median under one byte scores 0. RITA v4 also had a
  "smallness" term and a connection-count term; v5 dropped both (count moved into the
  histogram and duration scores), and so does this.
* *Histogram* — the day in 24 hourly bins of connection counts. Two shapes score: a
  flat one, ``1 − CV`` (coefficient of variation over all 24 bins, 0 when CV > 1),
  and, when at least 11 bins are non-empty, a two-level one: bins grouped by height
  in steps of 5 % of the tallest, the share of non-empty bins (less one outlier) in
  the two biggest groups. The larger of the two.
* *Duration* — only when at least 6 bins are non-empty: the larger of the share of
  the day between the first and last connection and the longest run of consecutive
  non-empty hours (wrapping midnight) over 12 hours, each capped at 1.

The score is the weighted sum (RITA's default weights, 0.25 each). RITA compares it
with its thresholds: 0.5 is its lowest category and the default ``threshold`` here,
0.7 and 0.9 its next ones, used as ``medium`` and ``high``. Where RITA spans the
dataset's first to last timestamp, this spans the UTC day: a pair's score must not
depend on what else the lake holds.

**Crown jewels.** A pair with an end on a host of a ``[[assets]]`` entry (``hosts``:
CIDRs or names — the training nodes, the chip team's file server) is one severity
higher: an implant there sits next to the weights.

**Evidence.** The pair and its kind (``sni``/``ip``), connections, the gap median,
MAD and skewness, the size median, MAD and skewness, the histogram's non-empty hours
and longest run, each sub-score, the destination addresses and ports, sample
connection uids and the raw records.

**False positives and how they are handled.** Machines are periodic by design, and
RITA scores them high too — the answer is a list of what the organisation runs, not a
worse score:

* NTP (``udp/123``) polls a pool every 64–1024 s with 48 constant bytes: it scores
  like a beacon. ``ignore_services`` skips ``udp/123`` by default; clear it to watch
  NTP (a time server is a rare but real C2 channel).
* A monitoring agent pushing metrics every 15 s, a package mirror fetched hourly, an
  EDR's check-in: list them in ``[organisation] known_services`` (CIDRs, or DNS names
  covering their subdomains) — shared by every detection — or in this detection's
  ``allow``.
* People browsing: bursts in working hours to many sites, irregular gaps and sizes —
  their timestamp, size and histogram scores stay low on their own.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._evidence import entities, ref_samples, samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import DAY, HOUR, day_number, epoch_s
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.identity._common import raw_ref
from crownwatch.detections.network._beacon_stats import bimodal_top2, longest_run, spread
from crownwatch.detections.network._common import (
    ip_in,
    name_in,
    one_record_per_flow,
    request_half,
    split_hosts,
)

META = Meta(
    id="network.beaconing",
    title="Host beaconing to one destination on a clock",
    severity="medium",
    attack=("T1071", "T1573"),
    tables=("network_activity",),
    description=(
        "A source's connections to one address or server name over a day are periodic in "
        "time and constant in size (RITA v5 beacon score)."
    ),
    false_positives=(
        "Update mirrors, monitoring agents, NTP: list them in [organisation] known_services "
        "or allow; udp/123 is ignored by default."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1071/",
        "https://github.com/activecm/rita",
        "https://www.activecountermeasures.com/blog-beacon-analysis-the-key-to-cyber-threat-hunting/",
    ),
    params={
        "min_connections": 20,
        "threshold": 0.5,  # RITA v5 score_thresholds.base
        "medium_score": 0.7,  # RITA v5 score_thresholds.low
        "high_score": 0.9,  # RITA v5 score_thresholds.medium
        "ts_weight": 0.25,
        "ds_weight": 0.25,
        "hist_weight": 0.25,
        "dur_weight": 0.25,
        "dur_min_hours": 6,
        "dur_ideal_hours": 12,
        "hist_mode_sensitivity": 0.05,
        "hist_bimodal_outlier_removal": 1,
        "hist_bimodal_min_hours": 11,
        "ignore_services": ["udp/123"],
        "allow": [],
    },
    runbook=(
        (
            "Look at the source host: which process holds connections to the destination "
            "(EDR, `ss -tpn`), and whether that software is known."
        ),
        (
            "If it is not known, isolate the host and block the destination address and name; "
            "hunt for the same destination from other hosts."
        ),
        (
            "If it is a service the organisation runs, add it to [organisation] known_services "
            "so it stays quiet."
        ),
    ),
)

NAME_TYPES = ("sni", "http_host")
BINS = 24


def _connections(t: Tables, p: Params, known: list[str]) -> ibis.Table:
    """Connections with their pair: ``target`` (the server name, else the address) and
    ``kind``; services ignored or known are gone."""
    na = t.network_activity
    c = na.filter(na.src_ip.notnull() & na.dst_ip.notnull() & request_half(na)).select(
        "time",
        "source",
        "src_ip",
        "src_port",
        "dst_ip",
        "dst_port",
        "protocol",
        "connection_uid",
        "raw_source",
        "raw_offset",
        "raw_id",
        bytes=na.bytes_out.fill_null(0),
    )
    for svc in p.ignore_services:
        proto, _, port = str(svc).partition("/")
        cond = c.protocol == proto.lower()
        if port:
            cond = cond & (c.dst_port == int(port))
        c = c.filter(~cond.fill_null(False))
    c = one_record_per_flow(c).drop("source", "src_port")

    nn = t.table("network_names")
    nn = nn.filter(nn.name_type.isin(NAME_TYPES) & nn.connection_uid.notnull())
    names = nn.group_by(uid="connection_uid").aggregate(name=nn.name.min())
    c = c.left_join(names, c.connection_uid == names.uid).drop("uid")
    c = c.mutate(
        target=c.name.fill_null(c.dst_ip),
        kind=ibis.ifelse(c.name.notnull(), "sni", "ip"),
        day=day_number(c.time),
        ts=epoch_s(c.time),
    )
    cidrs, dns = split_hosts(known)
    if cidrs or dns:
        c = c.filter(~(ip_in(c.dst_ip, cidrs) | name_in(c.name, dns)))
    return c


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    known = [*reg.organisation.known_services, *p.allow]
    keys = ["src_ip", "target", "kind", "day"]
    conns = _connections(t, p, known)

    # The pairs with enough connections, then their connections, each computed once:
    # the four passes below read the connections, and a statement that reads them
    # more than once makes DuckDB materialise them all — at 10M connections 12 s
    # under the default memory bound, with the count of every pair redone per pass.
    # On disk: in a real network most connections belong to pairs that repeat.
    run_key = f"network.beaconing:{reg.model_dump_json()}:{sorted(vars(p).items())}"

    def busy_pairs() -> ibis.Table:
        counts = conns.group_by(keys).aggregate(n=conns.count())
        return counts.filter(counts.n >= p.min_connections)

    counts = shared(run_key + ":pairs", busy_pairs)
    c = shared(run_key + ":connections", lambda: conns.semi_join(counts, keys), on_disk=True)

    # -- timestamps: gaps between consecutive distinct seconds ---------------------------
    uts = c.select(*keys, "ts").distinct()
    w = ibis.window(group_by=[uts[k] for k in keys], order_by=[uts.ts])
    gaps = uts.mutate(gap=uts.ts - uts.ts.lag().over(w))
    gaps = gaps.filter(gaps.gap.notnull())
    ts = spread(gaps, keys, "gap", "ts")
    ts = ts.filter(ts.ts_n >= 3)

    # -- sizes: bytes each connection sent ----------------------------------------------
    ds = spread(c.select(*keys, "bytes"), keys, "bytes", "ds")

    # -- histogram: connections per hour of the day -------------------------------------
    hb = c.mutate(bin=((c.ts - c.day * DAY) / HOUR).floor().cast("int64"))
    bins = hb.group_by([*keys, "bin"]).aggregate(c=hb.count())
    shape = bins.group_by(keys).aggregate(
        bars=bins.count(), sumsq=(bins.c * bins.c).sum(), total=bins.c.sum()
    )
    shape = shape.join(longest_run(bins, keys, BINS), keys)
    shape = shape.join(bimodal_top2(bins, keys, p.hist_mode_sensitivity), keys)

    details = c.group_by(keys).aggregate(
        first_seen=c.time.min(),
        last_seen=c.time.max(),
        first_ts=c.ts.min(),
        last_ts=c.ts.max(),
        connections=c.count(),
    )
    j = details.join(ts, keys).join(ds, keys).join(shape, keys)
    j = _scores(j, p)
    j = j.filter(j.score >= p.threshold)

    # -- evidence for the pairs that score only ------------------------------------------
    # (collected for every busy pair, the lists held every connection of the network's
    # repeating traffic: 10M references at 10M connections, past the memory bound)
    # and cut in the engine to what the finding keeps: a network whose periodic traffic
    # all scores (a fleet's agents) is a finding per pair, each with every connection
    hits = shared(run_key + ":hits", lambda: j)
    e = c.semi_join(hits, keys)
    evidence = e.group_by(keys).aggregate(
        dst_ips=e.dst_ip.collect(distinct=True),
        dst_ports=e.dst_port.cast("string").collect(distinct=True),
        sample_uids=e.connection_uid.collect(distinct=True),
        raw_refs=raw_ref(e).collect(),
    )
    j = hits.join(evidence, keys)
    return _findings(j, reg, p)


def _stat_score(q1, q2, q3, mad, small_median_score: float) -> tuple:
    """(skewness, skew score, MAD score) of RITA's statistical score."""
    den = q3 - q1
    skew = ibis.ifelse((den >= 10) & (q2 != q1) & (q2 != q3), (q1 + q3 - 2 * q2) / den, 0.0)
    skew_score = 1.0 - skew.abs()
    mad_score = ibis.ifelse(q2 >= 1, ibis.greatest((q2 - mad) / q2, 0.0), small_median_score)
    return skew, skew_score, mad_score


def _scores(j: ibis.Table, p: Params) -> ibis.Table:
    ts_skew, ts_skew_s, ts_mad_s = _stat_score(j.ts_q1, j.ts_q2, j.ts_q3, j.ts_mad, 1.0)
    ds_skew, ds_skew_s, ds_mad_s = _stat_score(j.ds_q1, j.ds_q2, j.ds_q3, j.ds_mad, 0.0)
    ts_score = rounded((ts_skew_s + ts_mad_s) / 2, 3)
    ds_score = rounded((ds_skew_s + ds_mad_s) / 2, 3)

    mean = j.total.cast("float64") / BINS
    var = ibis.greatest(j.sumsq.cast("float64") / BINS - mean * mean, 0.0)
    cv = var.sqrt() / mean
    cv_score = ibis.ifelse(cv > 1.0, 0.0, rounded(1.0 - cv, 3))
    fit = j.top2.cast("float64") / ibis.greatest(j.bars - p.hist_bimodal_outlier_removal, 1)
    bimodal = ibis.ifelse(j.bars >= p.hist_bimodal_min_hours, ibis.least(rounded(fit, 3), 1.0), 0.0)
    hist_score = ibis.greatest(cv_score, bimodal)

    coverage = ibis.least(((j.last_ts - j.first_ts) / DAY * 1000).ceil() / 1000, 1.0)
    consistency = ibis.least((j.longest_run / p.dur_ideal_hours * 1000).ceil() / 1000, 1.0)
    dur_score = ibis.ifelse(
        j.bars >= p.dur_min_hours, ibis.greatest(coverage, consistency).cast("float64"), 0.0
    )
    score = rounded(
        ts_score * p.ts_weight
        + ds_score * p.ds_weight
        + dur_score * p.dur_weight
        + hist_score * p.hist_weight,
        3,
    )
    return j.mutate(
        ts_skew=rounded(ts_skew, 3),
        ds_skew=rounded(ds_skew, 3),
        ts_score=ts_score,
        ds_score=ds_score,
        hist_score=hist_score,
        dur_score=dur_score,
        score=score,
    )


def _findings(j: ibis.Table, reg, p: Params) -> ibis.Table:
    hosts = [h for a in reg.assets for h in getattr(a, "hosts", [])]
    cidrs, names = split_hosts(hosts)
    jewel = (
        ip_in(j.src_ip, cidrs)
        | name_in(j.target, names)
        | (j.kind == "ip") & ip_in(j.target, cidrs)
    )
    level = ibis.cases((j.score >= p.high_score, 2), (j.score >= p.medium_score, 1), else_=0)
    level = level + ibis.ifelse(jewel, 1, 0)
    severity = ibis.cases(
        (level == 0, "low"), (level == 1, "medium"), (level == 2, "high"), else_="critical"
    )
    return j.select(
        key=j.src_ip.concat("|", j.kind, "|", j.target, "|", j.day.cast("string")),
        first_seen=j.first_seen,
        last_seen=j.last_seen,
        entity_src_ip=j.src_ip,
        entity_dst_ip=entities(j.dst_ips),
        severity=severity,
        pair_kind=j.kind,
        destination=j.target,
        crown_jewel_host=jewel,
        score=j.score,
        ts_score=j.ts_score,
        ds_score=j.ds_score,
        hist_score=j.hist_score,
        dur_score=j.dur_score,
        connections=j.connections,
        interval_median_s=rounded(j.ts_q2, 1),
        interval_mad_s=rounded(j.ts_mad, 1),
        interval_skew=j.ts_skew,
        size_median_bytes=rounded(j.ds_q2, 1),
        size_mad_bytes=rounded(j.ds_mad, 1),
        size_skew=j.ds_skew,
        hours_with_connections=j.bars,
        longest_run_hours=j.longest_run,
        dst_ports=samples(j.dst_ports),
        sample_uids=samples(j.sample_uids),
        **ref_samples(j.raw_refs),
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    for r in rows:
        for col in ("dst_ports", "sample_uids", "raw_refs", "entity_dst_ip"):
            if r.get(col) is None:
                r[col] = []
    return rows


def title(row: dict, p: Params) -> str:
    return (
        f"{row['entity_src_ip']} beacons to {row['destination']}: score {row['score']} over "
        f"{row['connections']} connections, every ~{row['interval_median_s']:g} s, "
        f"~{row['size_median_bytes']:g} bytes each"
    )
