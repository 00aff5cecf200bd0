"""What the network detections share: lists of hosts that are CIDRs or DNS names
(``[organisation] known_services``, ``[[assets]] hosts``, a detection's ``allow``),
matched in the engine; and how a flow log's records become connections."""

from __future__ import annotations

import ipaddress

import ibis

from crownwatch.detections._time import day_number
from crownwatch.enrichment.ip import cidr_match_expr

#: the source whose records are flows per aggregation window, not connections
FLOW_LOG = "vpc_flow"


def split_hosts(entries: list[str]) -> tuple[list[str], list[str]]:
    """(CIDRs, DNS names, lower case) of a list of either."""
    cidrs, names = [], []
    for e in entries:
        e = str(e).strip()
        try:
            cidrs.append(str(ipaddress.ip_network(e, strict=False)))
        except ValueError:
            if e:
                names.append(e.lower().rstrip("."))
    return cidrs, names


def name_in(name: ibis.Value, names: list[str]) -> ibis.Value:
    """True where ``name`` is one of ``names`` or a subdomain of one (False for NULL)."""
    if not names:
        return ibis.literal(False)
    cond = name.isin(names)
    for n in names:
        cond = cond | name.endswith("." + n)
    return cond.fill_null(False)


def ip_in(ip: ibis.Value, cidrs: list[str]) -> ibis.Value:
    """True where the address text ``ip`` lies in one of ``cidrs``."""
    return cidr_match_expr(ip, cidrs) if cidrs else ibis.literal(False)


def request_half(c: ibis.Table) -> ibis.Value:
    """False for the answering half of a flow-log connection. VPC Flow Logs write each
    direction as a record of its own — the client's request *and* the server's answer,
    from the server's port to the client's — where Zeek writes one record from the side
    that opened it. The answer is told by its ports: from the lower (the service's) to
    the higher (the client's ephemeral one), the rule flow tools use when the log says
    nothing of who opened the connection. Without it every connection is two pairs,
    the server's one "beaconing" back to the client."""
    answer = (c.source == FLOW_LOG) & (c.src_port < c.dst_port)
    return ~answer.fill_null(False)


def one_record_per_flow(c: ibis.Table) -> ibis.Table:
    """``c`` with a flow log's connection as one record a day, its first: a flow log
    reports a connection once per aggregation window it was active in (each minute on a
    Nitro instance), so an agent's websocket held all day is 1,440 records a minute
    apart — a perfect clock to a beacon score — where an implant that calls back opens
    a new connection (a new source port) each time. Records of other sources pass
    unchanged. ``c`` needs ``source``, ``time``, the five-tuple, ``raw_source`` and
    ``raw_offset`` (the order that picks the first, the same on every engine)."""
    flows = c.filter(c.source == FLOW_LOG)
    rest = c.filter((c.source != FLOW_LOG) | c.source.isnull())
    five = ["src_ip", "src_port", "dst_ip", "dst_port", "protocol"]
    flows = flows.mutate(_day=day_number(flows.time))
    w = ibis.window(
        group_by=[*(flows[k] for k in five), flows._day],
        order_by=[flows.time, flows.raw_source, flows.raw_offset],
    )
    flows = flows.mutate(_nth=ibis.row_number().over(w))
    flows = flows.filter(flows._nth == 0).drop("_nth", "_day")
    return rest.union(flows)
