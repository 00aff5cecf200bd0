"""``network_activity`` — OCSF Network Activity (class 4001): one row per flow record.

A row is what one sensor said about one flow: a Zeek ``conn.log`` connection (both
directions, from first to last packet) or an AWS VPC Flow Logs record (one direction
of a 5-tuple through one network interface within one aggregation window, so a
long-lived connection is several rows). Names follow OCSF's ``src_endpoint`` /
``dst_endpoint`` / ``connection_info`` / ``traffic`` objects, flattened with ``_``.

==================  ===========================================================
column              meaning
==================  ===========================================================
``time``            when the flow started: Zeek ``ts`` (first packet), VPC
                    ``start`` (first packet within the window), UTC
``source``          ``zeek`` | ``vpc_flow``
``src_ip``          the originator (Zeek ``id.orig_h``; VPC ``srcaddr``, the
                    interface-level address — see ``pkt_src_ip``)
``src_port``        its port (Zeek logs an ICMP type here, VPC ``-`` is NULL)
``dst_ip``          the responder (Zeek ``id.resp_h``; VPC ``dstaddr``)
``dst_port``        its port (an ICMP code for Zeek ICMP)
``protocol``        the IANA keyword of ``protocol_num`` (``tcp``, ``udp``,
                    ``icmp``, ``ipv6-icmp``, ``gre``, ``esp``…); a number with no
                    keyword stays a number; Zeek's own word where it logs no number
``bytes_out``       bytes from src to dst: Zeek ``orig_bytes`` (payload, what
                    RITA scores) — the Filebeat ``zeek`` module keeps only
                    ``orig_ip_bytes`` (IP-level) and that is used there; VPC
                    ``bytes`` (IP-level, src to dst only)
``bytes_in``        bytes from dst to src: Zeek ``resp_bytes``; NULL for VPC,
                    whose reverse direction is a row of its own
``action``          ``allowed`` | ``denied`` (VPC ``ACCEPT`` / ``REJECT``); NULL
                    where the log does not decide (Zeek watches the wire)
``end_time``        when the flow ended: Zeek ``ts + duration``, VPC ``end``
``duration_s``      seconds from first to last packet (Zeek ``duration``; VPC
                    ``end - start``, whole seconds). Seconds, not OCSF's
                    milliseconds: Zeek and RITA's long-connection scores count in
                    seconds with microsecond fractions
``packets_out``     packets src to dst (Zeek ``orig_pkts``, VPC ``packets``)
``packets_in``      packets dst to src (Zeek ``resp_pkts``; NULL for VPC)
``protocol_num``    the IANA protocol number (VPC ``protocol``; Zeek ``ip_proto``
                    where logged, else from ``proto``: tcp 6, udp 17, icmp 1 or
                    58 over IPv6)
``app_protocol``    the application protocol Zeek recognised (``service``:
                    ``ssl``, ``dns``, ``http``, ``ssl,http``…)
``direction``       ``outbound`` | ``inbound`` | ``lateral`` (OCSF connection
                    direction): Zeek from ``local_orig``/``local_resp``
                    (T/F outbound, F/T inbound, T/T lateral); VPC from
                    ``flow-direction`` (``egress`` outbound, ``ingress`` inbound,
                    relative to the interface); NULL when not logged
``conn_state``      Zeek ``conn_state`` verbatim (``SF``, ``S0``, ``REJ``, ``RSTO``…)
``conn_history``    Zeek ``history`` verbatim (``ShADadFf``…)
``tcp_flags``       VPC ``tcp-flags``: the OR of the TCP flags seen in the window
                    (1 FIN, 2 SYN, 4 RST, 18 SYN-ACK)
``connection_uid``  Zeek ``uid``: the key ``ssl.log``/``http.log``/``dns.log``
                    records share with their connection (see ``network_names``)
``community_id``    the Community ID flow hash, where the sensor logs it (Zeek's
                    community-id policy script, the Filebeat module)
``interface_uid``   VPC ``interface-id`` (``eni-…``)
``account``         VPC ``account-id``: the AWS account that owns the interface
``region``          VPC ``region``
``vpc_uid``         VPC ``vpc-id``
``subnet_uid``      VPC ``subnet-id``
``instance_uid``    VPC ``instance-id``
``pkt_src_ip``      VPC ``pkt-srcaddr``: the packet's own source where it differs
                    from the interface's (through a NAT gateway, an EKS pod)
``pkt_dst_ip``      VPC ``pkt-dstaddr``
``pkt_src_service`` VPC ``pkt-src-aws-service`` (``S3``, ``AMAZON``,
                    ``EC2_INSTANCE_CONNECT``…): the AWS service the source
                    address belongs to
``pkt_dst_service`` VPC ``pkt-dst-aws-service``
==================  ===========================================================

The destination's *name* is not a column here: a connection record never carries it,
and Zeek logs it in other files (``ssl.log``, ``http.log``, ``dns.log``) that arrive in
any order. Names are rows of :mod:`crownwatch.tables.network_names`, which a
detection joins on ``connection_uid`` (SNI, HTTP ``Host``) or on the answer address
(DNS).

``raw_id`` is Zeek's ``uid`` (the vendor's own record id); VPC records have none.
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

TS = pa.timestamp("us", tz="UTC")

SCHEMA = pa.schema(
    [
        pa.field("time", TS, nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("src_ip", pa.string()),
        pa.field("src_port", pa.int32()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("protocol", pa.string()),
        pa.field("bytes_out", pa.int64()),
        pa.field("bytes_in", pa.int64()),
        pa.field("action", pa.string()),
        # -- added with the Zeek and VPC Flow Logs sources (issue 18) --
        pa.field("end_time", TS),
        pa.field("duration_s", pa.float64()),
        pa.field("packets_out", pa.int64()),
        pa.field("packets_in", pa.int64()),
        pa.field("protocol_num", pa.int32()),
        pa.field("app_protocol", pa.string()),
        pa.field("direction", pa.string()),
        pa.field("conn_state", pa.string()),
        pa.field("conn_history", pa.string()),
        pa.field("tcp_flags", pa.int32()),
        pa.field("connection_uid", pa.string()),
        pa.field("community_id", pa.string()),
        pa.field("interface_uid", pa.string()),
        pa.field("account", pa.string()),
        pa.field("region", pa.string()),
        pa.field("vpc_uid", pa.string()),
        pa.field("subnet_uid", pa.string()),
        pa.field("instance_uid", pa.string()),
        pa.field("pkt_src_ip", pa.string()),
        pa.field("pkt_dst_ip", pa.string()),
        pa.field("pkt_src_service", pa.string()),
        pa.field("pkt_dst_service", pa.string()),
        *PROVENANCE,
    ]
)

# IANA protocol keywords (https://www.iana.org/assignments/protocol-numbers), lower
# case, for the numbers flow logs carry; any other number is kept as its digits.
PROTOCOL_NAMES = {
    0: "hopopt",
    1: "icmp",
    2: "igmp",
    4: "ipv4",
    6: "tcp",
    8: "egp",
    9: "igp",
    17: "udp",
    27: "rdp",
    33: "dccp",
    41: "ipv6",
    43: "ipv6-route",
    44: "ipv6-frag",
    46: "rsvp",
    47: "gre",
    50: "esp",
    51: "ah",
    58: "ipv6-icmp",
    59: "ipv6-nonxt",
    60: "ipv6-opts",
    88: "eigrp",
    89: "ospf",
    94: "ipip",
    97: "etherip",
    103: "pim",
    112: "vrrp",
    115: "l2tp",
    132: "sctp",
    136: "udplite",
    137: "mpls-in-ip",
}


def protocol_name_sql(num: str) -> str:
    """SQL: the keyword of the protocol number ``num`` (an INTEGER expression), or its
    digits when IANA's list has none (NULL stays NULL)."""
    keywords = "[" + ", ".join(f"'{PROTOCOL_NAMES.get(i, '')}'" for i in range(256)) + "]"
    return (
        f"CASE WHEN {num} BETWEEN 0 AND 255 "
        f"THEN coalesce(nullif({keywords}[{num} + 1], ''), CAST({num} AS VARCHAR)) "
        f"ELSE CAST({num} AS VARCHAR) END"
    )
