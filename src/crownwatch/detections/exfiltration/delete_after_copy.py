"""Deletion of crown-jewel objects after the same principal read or copied them
(ATT&CK T1485 Data Destruction; the take-and-burn step after T1530).

**What it looks for.** A principal reads (or copies out) objects of a crown jewel and,
within ``window_hours``, deletes those same objects: the data now lives only where the
attacker put it — theft turned into extortion or sabotage.

**How.** Successful deletes of registered assets are joined to the same principal's
earlier successful reads/copies of the *same object* within the window; a principal
whose deletes hit at least ``min_objects`` such objects in one asset fires. Moves inside
one asset (``CopyObject`` whose destination is the same asset, then delete of the
source) are renames, not theft: a copy counts only when it is a read-side event
(``GetObject``, ``REST.COPY.OBJECT_GET``, ``CopyBlobSource``…).

**Evidence.** Objects read then deleted, bytes read, the delay between the first read and
the last delete, sample keys, raw records.

**False positives and how they are handled.**

* Checkpoint rotation (the training job deletes old checkpoints): it deletes what it
  wrote, not what it just read — no read-then-delete pairs.
* A data-engineering "move" job that reads, rewrites elsewhere and deletes: it is a
  read-then-delete; list it in ``exclude_principals`` (and keep the rewritten copy
  inside a registered asset).

Compared with Elastic's "AWS S3 Object Versioning Suspended"/"mass deletion" rules,
pairing each delete with the same principal's prior read keeps lifecycle deletes
quiet while still catching a handful of irreplaceable objects.
"""

from __future__ import annotations

import ibis

from crownwatch.detections._evidence import entities, samples, with_ref_samples
from crownwatch.detections._num import rounded
from crownwatch.detections._time import epoch_s
from crownwatch.detections.contract import Meta, Params, Tables, shared
from crownwatch.detections.exfiltration._common import (
    DELETE_OPS,
    READ_OPS,
    empty_lists,
    jewel_events,
    raw_ref,
)

META = Meta(
    id="exfiltration.delete_after_copy",
    title="Crown-jewel objects deleted after being read by the same principal",
    severity="critical",
    attack=("T1485", "T1530"),
    tables=("api_activity",),
    description="A principal deleted crown-jewel objects shortly after reading or copying them.",
    false_positives="Move/re-shard jobs (exclude_principals); checkpoint rotation does not pair.",
    references=(
        "https://attack.mitre.org/techniques/T1485/",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html",
    ),
    params={
        "window_hours": 24,
        "min_objects": 1,
        "exclude_principals": [],
    },
    runbook=(
        (
            "Restore the deleted objects now from object versions, soft delete or backups, before"
            " lifecycle rules expire them; turn on versioning or Object Lock for the asset."
        ),
        "Revoke the principal's credentials and sessions.",
        (
            "Trace where the copies went (exfiltration.transfer_out and exfiltration.bulk_read "
            "findings, the source addresses) and prepare for an extortion demand."
        ),
    ),
)


def query(t: Tables, p: Params) -> ibis.Table:
    ev, reg = jewel_events(t, p)
    ev = ev.filter((ev.status == "success") & ev.object_key.notnull())
    if p.exclude_principals:
        ev = ev.filter(~ev.principal.isin(list(p.exclude_principals)))
    # whole epoch seconds on every engine (DuckDB's epoch is a fractional double, Spark's
    # an integer): the finding key and the minutes in the evidence must not depend on it
    ev = ev.mutate(ts=epoch_s(ev.time))
    deletes = ev.filter(ev.api_operation.isin(DELETE_OPS))
    # the deletes on their own (few): used twice below, with the events DuckDB would
    # materialise every crown-jewel event as a common table expression — 10M rows at
    # 10M events, 8.3 s under the default memory bound against 1.6 s unbounded
    dels = shared(
        f"exfiltration.delete_after_copy.dels:{reg.model_dump_json()}:"
        f"{sorted(p.exclude_principals)}",
        lambda: deletes.mutate(d_ref=raw_ref(deletes)),
    )
    # only reads of objects the same principal deleted can pair: the rest leave before
    # their references are built
    reads = ev.filter(ev.api_operation.isin(READ_OPS))
    reads = reads.semi_join(dels, ["pkey", "asset", "object_key"])
    reads = reads.select(
        r_pkey=reads.pkey,
        r_asset=reads.asset,
        r_key=reads.object_key,
        r_ts=reads.ts,
        r_time=reads.time,
        r_bytes=reads.bytes_out.fill_null(0),
        r_ref=raw_ref(reads),
    )
    pairs = dels.join(
        reads,
        [
            dels.pkey == reads.r_pkey,
            dels.asset == reads.r_asset,
            dels.object_key == reads.r_key,
            reads.r_ts <= dels.ts,
            dels.ts - reads.r_ts <= p.window_hours * 3600,
        ],
    )
    # each list distinct and cut below to what the finding keeps, the delete references
    # as rows: wiping a copied dataset deletes every object of it
    g = pairs.group_by(["pkey", "asset"]).aggregate(
        first_seen=pairs.r_time.min(),
        last_seen=pairs.time.max(),
        objects_deleted=pairs.object_key.nunique(),
        bytes_read=pairs.r_bytes.sum(),
        first_read_ts=pairs.r_ts.min(),
        last_delete_ts=pairs.ts.max(),
        principals=pairs.principal.collect(distinct=True),
        principal_account=pairs.principal_account.max(),
        src_ips=pairs.src_ip.collect(distinct=True),
        delete_operations=pairs.api_operation.collect(distinct=True),
        sample_keys=pairs.object_key.collect(distinct=True),
        read_refs=pairs.r_ref.collect(distinct=True),
    )
    g = g.filter(g.objects_deleted >= p.min_objects)
    g = with_ref_samples(g, pairs, ["pkey", "asset"], pairs.d_ref)
    return g.select(
        key=g.pkey.concat("|", g.asset, "|", g.first_read_ts.cast("string")),
        first_seen=g.first_seen,
        last_seen=g.last_seen,
        entity_principal=entities(g.principals),
        entity_asset=g.asset,
        entity_account=g.principal_account,
        entity_src_ip=entities(g.src_ips),
        principal_key=g.pkey,
        objects_deleted=g.objects_deleted,
        bytes_read_before_delete=g.bytes_read,
        minutes_read_to_delete=rounded((g.last_delete_ts - g.first_read_ts) / 60, 1),
        delete_operations=samples(g.delete_operations),
        sample_keys=samples(g.sample_keys),
        read_records=samples(g.read_refs),
        raw_refs=g.raw_refs,
        raw_refs_total=g.raw_refs_total,
    )


def postprocess(rows: list[dict], p: Params) -> list[dict]:
    return empty_lists(rows, ("delete_operations", "sample_keys", "read_records", "raw_refs"))


def title(row: dict, p: Params) -> str:
    return (
        f"{row['principal_key']} deleted {row['objects_deleted']} objects of {row['entity_asset']} "
        f"after reading them ({row['minutes_read_to_delete']} min)"
    )
