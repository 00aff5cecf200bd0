"""GCS Cloud Audit Logs and Azure Blob Storage resource logs on real-format records
(public samples; see fixtures/README.md)."""

from __future__ import annotations

from pathlib import Path

import duckdb

from crownwatch.sources import azure_blob, gcs_audit, sniff

FIX = Path(__file__).parent / "fixtures"


def _rows(lake, table="api_activity"):
    con = duckdb.connect()
    return (
        con.sql(f"SELECT * FROM {lake.table_sql(table)} ORDER BY raw_source, raw_offset")
        .to_arrow_table()
        .to_pylist()
    )


def test_gcs_three_layouts_give_the_same_row(lake):
    files = ["gcs_audit_logging.jsonl", "gcs_audit_pubsub.jsonl", "gcs_audit_bigquery.json"]
    for f in files:
        assert sniff(FIX / f) is gcs_audit, f
    res = {Path(r.path).name: r for r in lake.ingest([FIX / f for f in files])}
    assert (res[files[0]].read, res[files[0]].quarantined) == (5, 2)
    assert (res[files[1]].read, res[files[1]].quarantined) == (2, 1)  # bad base64 quarantined
    gets = [r for r in _rows(lake) if r["raw_id"] == "hhu2r3dw556"]
    assert len(gets) == 3
    keep = (
        "time",
        "api_operation",
        "principal",
        "src_ip",
        "resource",
        "account",
        "status",
        "user_agent",
    )
    assert len({tuple(r[k] for k in keep) for r in gets}) == 1
    g = gets[0]
    assert g["resource"] == "gs://scc-export-sample/scc-bad-domain.log"
    assert (g["principal"], g["account"], g["src_ip"]) == (
        "user@domain.com",
        "gsec-monitoring-prod",
        "8.8.8.8",
    )
    denied = next(r for r in _rows(lake) if r["raw_id"] == "x9denied01")
    assert (
        denied["status"] == "failure" and denied["src_ip"] is None
    )  # gce-internal-ip is no address
    assert denied["is_cross_account"] is True and denied["principal_account"] == "other-proj"
    reasons = sorted(r["reason"] for r in _rows(lake, "quarantine"))
    assert reasons == ["malformed JSON", "malformed JSON", "missing timestamp"]


def test_azure_diagnostic_and_log_analytics_layouts(lake):
    for f in ("azure_blob_diagnostic.json", "azure_storagebloblogs.json"):
        assert sniff(FIX / f) is azure_blob, f
    lake.ingest([FIX / "azure_blob_diagnostic.json", FIX / "azure_storagebloblogs.json"])
    rows = {r["raw_id"]: r for r in _rows(lake)}
    copy = rows["64b88499-101e-0006-326b-900570000000"]
    assert (
        copy["api_operation"] == "CopyBlob"
        and copy["principal"] == "accountkey:diag7fff8f1ab8425b12"
    )
    assert (
        copy["resource"]
        == "azure://diag7fff8f1ab8425b12/securaallfunctionappcontainer/passwords.txt"
    )
    assert (
        copy["src_ip"] == "198.51.100.23"
        and copy["account"] == "a921d5d4-bdb7-43c3-aa01-88c6ae24992f"
    )
    oauth = rows["7d1e2f30-401e-0042-1b9a-6c2a3f000000"]
    assert (oauth["principal"], oauth["auth_method"], oauth["bytes_out"]) == (
        "bob@northwind-ai.com",
        "OAuth",
        536870912,
    )
    assert oauth["resource"] == "azure://nwdatasets/corpus/pretrain/shard-00042.parquet"
    assert oauth["tls_version"] == "TLS 1.3"
    sas = rows["0a9b8c7d-601e-0011-22aa-bbccddeeff00"]
    assert (sas["principal"], sas["auth_method"], sas["src_ip"]) == (
        "sas:nwdatasets",
        "SAS",
        "192.0.2.200",
    )
    assert sas["bytes_out"] == 268435456 and sas["status"] == "success"
    assert [r["reason"] for r in _rows(lake, "quarantine")] == ["unparseable time"]
