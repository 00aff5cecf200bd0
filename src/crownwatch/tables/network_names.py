"""``network_names`` — the names a flow's destination went by (no OCSF class of its own;
the fields of OCSF's DNS Activity and TLS/HTTP ``dst_endpoint.hostname``).

Beacon scoring pairs a source with a destination *name* as well as an address: an
implant behind a CDN or a rotating cloud front keeps its server name while the
address changes. Zeek logs the name beside the connection, in other files:

==============  ==============================================================
``name_type``   where the name comes from
==============  ==============================================================
``sni``         ``ssl.log`` ``server_name``: the TLS SNI the client sent
``http_host``   ``http.log`` ``host``: the HTTP ``Host`` header, without a port
``dns``         ``dns.log`` ``query`` with each A/AAAA address in ``answers``
==============  ==============================================================

**Why a table and not a column of ``network_activity``.** A ``conn.log`` record never
names its destination; the name is in another file (often a file written at another
rotation, ingested in another run), so filling a ``dst_hostname`` at ingest would make
a connection's name depend on the order files arrive in, and DNS answers name the
destination of *later* connections, not the lookup's own. The lake keeps what each
file said; the join is the detection's:

* SNI and HTTP ``Host``: ``network_names.connection_uid = network_activity.connection_uid``
  (Zeek's ``uid``, the same connection) — exact;
* DNS: ``network_names.src_ip = network_activity.src_ip`` and
  ``network_names.dst_ip = network_activity.dst_ip`` with the answer before the
  connection (within ``ttl_s``, or a window of the detection's choosing) — the name
  the client resolved to reach that address.

==================  ===========================================================
column              meaning
==================  ===========================================================
``time``            the record's ``ts`` (UTC)
``source``          ``zeek``
``src_ip``          the client (``id.orig_h``)
``dst_ip``          ``sni``/``http_host``: the server it connected to
                    (``id.resp_h``); ``dns``: the address the name resolved to
                    (one row per A/AAAA answer) — not the resolver
``dst_port``        the server's port (``sni``/``http_host``); NULL for ``dns``
``name``            lower case, without a trailing dot; a Host that is an IP
                    literal names nothing and is not a row
``name_type``       ``sni`` | ``http_host`` | ``dns``
``connection_uid``  Zeek ``uid`` of the record's connection (for ``dns``, the
                    lookup's own connection)
``ttl_s``           ``dns``: the answer's TTL in seconds
==================  ===========================================================

A ``dns.log`` record with three addresses in ``answers`` is three rows (the first is
the record's row, the others *extra rows* in the ingest summary); a record with none
(NXDOMAIN, a PTR or TXT lookup, only CNAMEs) and an ``ssl.log`` record without SNI are
*skipped*: valid, but naming no destination.
"""

import pyarrow as pa

from crownwatch.tables.provenance import FIELDS as PROVENANCE

NAME_TYPES = ("sni", "http_host", "dns")

SCHEMA = pa.schema(
    [
        pa.field("time", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("src_ip", pa.string()),
        pa.field("dst_ip", pa.string()),
        pa.field("dst_port", pa.int32()),
        pa.field("name", pa.string()),
        pa.field("name_type", pa.string()),
        pa.field("connection_uid", pa.string()),
        pa.field("ttl_s", pa.float64()),
        *PROVENANCE,
    ]
)
