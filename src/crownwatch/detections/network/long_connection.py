"""Long-lived connection: one source held a connection to one service open for hours
(ATT&CK T1071 Application Layer Protocol, T1572 Protocol Tunneling).

**What it looks for.** An implant that keeps its channel open instead of calling back —
a reverse SSH tunnel, a WebSocket or HTTP/2 stream to its controller — has no clock to
score, but it leaves time: the seconds its connections to one service stayed open
add up to most of a day. RITA v5 ranks the same thing as *long connections* (the
durations of a pair summed; its categories start at 1 h and reach their top at 12 h).

**How.** Per (source, destination address, port, protocol): the sum of ``duration_s``
over every connection record — one Zeek ``conn.log`` record per connection (logged
when it closes), several VPC Flow Logs records per connection (one per aggregation
window), which sum to the same time; a flow log's answering half (from the service's
port to the client's) is left out, as it is the same connection seen the other way.
Fires when the sum reaches ``min_hours`` (default 12 h, RITA's top category);
``critical_hours`` (24 h) makes it high.
The longest single connection is kept as evidence: one record of 14 h is a tunnel,
fourteen of an hour each is a job that reconnects.

**Crown jewels.** A pair with an end on a host of ``[[assets]] hosts`` is one severity
higher.

**Evidence.** The pair, total hours, the longest connection, connections, bytes each
way, first and last seen, sample connection uids, the raw records.

**False positives and how they are handled.** The organisation's own long-lived
channels — the VPN concentrator, a message queue, the database a service pools
connections to — go in ``[organisation] known_services`` (CIDRs or names), shared
with ``network.beaconing``. Connections inside our own network (both ends private)
are skipped unless ``include_internal`` is set: pooled database and cluster
connections are long by design and would drown the rest.
"""

from __future__ import annotations

import ibis

from crownwatch.assets import registry_for
from crownwatch.detections._evidence import ref_samples, samples
from crownwatch.detections._num import rounded
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.identity._common import raw_ref
from crownwatch.detections.network._common import ip_in, name_in, request_half, split_hosts
from crownwatch.enrichment.places import private_expr

META = Meta(
    id="network.long_connection",
    title="Connection held open for hours to one service",
    severity="medium",
    attack=("T1071", "T1572"),
    tables=("network_activity",),
    description=(
        "A source's connections to one destination address and port stayed open for a "
        "total of many hours (RITA v5 long connections)."
    ),
    false_positives=(
        "VPN tunnels, message queues, pooled database connections: list them in "
        "[organisation] known_services; internal-to-internal pairs are skipped by default."
    ),
    references=(
        "https://attack.mitre.org/techniques/T1572/",
        "https://github.com/activecm/rita",
    ),
    params={
        "min_hours": 12.0,
        "critical_hours": 24.0,
        "include_internal": False,
        "allow": [],
    },
    runbook=(
        (
            "Find the process that holds the connection on the source host (EDR, `ss -tpn`) "
            "and whether it is known software."
        ),
        (
            "If it is not known, cut the connection, isolate the host and block the destination;"
            " look for other hosts talking to it."
        ),
        ("If it is a service the organisation runs, add it to [organisation] known_services."),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    reg = registry_for(t, p)
    na = t.network_activity
    c = na.filter(
        na.src_ip.notnull() & na.dst_ip.notnull() & (na.duration_s > 0) & request_half(na)
    )
    if not p.include_internal:
        c = c.filter(~(private_expr(c.src_ip) & private_expr(c.dst_ip)))
    cidrs, names = split_hosts([*reg.organisation.known_services, *p.allow])
    if cidrs:
        c = c.filter(~ip_in(c.dst_ip, cidrs))
    if names:
        nn = t.table("network_names")
        named = nn.filter(name_in(nn.name, names) & nn.connection_uid.notnull())
        c = c.anti_join(named, c.connection_uid == named.connection_uid)
    c = c.mutate(dst_port=c.dst_port.fill_null(-1), protocol=c.protocol.fill_null("?"))
    keys = ["src_ip", "dst_ip", "dst_port", "protocol"]

    def long_pairs() -> ibis.Table:
        g = c.group_by(keys).aggregate(
            seconds=c.duration_s.sum(),
            longest_s=c.duration_s.max(),
            connections=c.count(),
            bytes_out=c.bytes_out.sum(),
            bytes_in=c.bytes_in.sum(),
            first_seen=c.time.min(),
            last_seen=c.end_time.max(),
        )
        return g.filter(g.seconds >= p.min_hours * 3600)

    # The pairs first, on their own (a few), then the evidence of their connections
    # only: collecting every pair's uids and records before the filter held 10M
    # strings in lists at 10M connections, and one statement reading the connections
    # twice makes DuckDB materialise all of them (10 s under the default memory bound
    # against 4 s unbounded).
    g = shared(
        f"network.long_connection.pairs:{reg.model_dump_json()}:{sorted(vars(p).items())}",
        long_pairs,
    )
    e = c.semi_join(g, keys)
    e = e.group_by(keys).aggregate(
        sample_uids=e.connection_uid.collect(distinct=True), raw_refs=raw_ref(e).collect()
    )
    g = g.left_join(e, keys).drop([f"{k}_right" for k in keys])

    hcidrs, _ = split_hosts([h for a in reg.assets for h in getattr(a, "hosts", [])])
    jewel = ip_in(g.src_ip, hcidrs) | ip_in(g.dst_ip, hcidrs)
    level = ibis.ifelse(g.seconds >= p.critical_hours * 3600, 1, 0) + ibis.ifelse(jewel, 1, 0)
    return g.select(
        key=g.src_ip.concat("|", g.dst_ip, "|", g.dst_port.cast("string"), "|", g.protocol),
        first_seen=g.first_seen,
        last_seen=g.last_seen.fill_null(g.first_seen),
        entity_src_ip=g.src_ip,
        entity_dst_ip=g.dst_ip,
        severity=ibis.cases((level == 0, "medium"), (level == 1, "high"), else_="critical"),
        dst_port=g.dst_port,
        protocol=g.protocol,
        crown_jewel_host=jewel,
        total_hours=rounded(g.seconds / 3600, 2),
        longest_connection_hours=rounded(g.longest_s / 3600, 2),
        connections=g.connections,
        bytes_out=g.bytes_out,
        bytes_in=g.bytes_in,
        # cut in the engine to what the finding keeps: a pair held open all month by
        # reconnecting is thousands of connections
        sample_uids=samples(g.sample_uids),
        **ref_samples(g.raw_refs),
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    for r in rows:
        for col in ("sample_uids", "raw_refs"):
            if r.get(col) is None:
                r[col] = []
    return rows


def title(row: dict, p: Params) -> str:
    return (
        f"{row['entity_src_ip']} held {row['entity_dst_ip']}:{row['dst_port']}/{row['protocol']} "
        f"open for {row['total_hours']:g} h over {row['connections']} connections"
    )
