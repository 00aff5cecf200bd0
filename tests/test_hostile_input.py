"""What an attacker writes into a log must not hide the file, lose good records or
break the lake: one regression test per case found by trying (issue "Nothing an
attacker writes … can hide data"). Every case checks the count identity
``read = rows + skipped + quarantined`` as the lake reports it."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest

from crownwatch.lake import Lake, LakeError
from crownwatch.simulate.inference import _otel_attr
from crownwatch.sources import okta, sniff
from tests.conftest import FIXTURES

OKTA = FIXTURES / "okta" / "system_log.jsonl"
GOOD_OKTA = 9  # rows the fixture's 13 records give (4 are bad on purpose)


def _okta_records() -> list[dict]:
    out = []
    for line in OKTA.read_text().splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if (
            isinstance(rec, dict)
            and rec.get("eventType")
            and rec.get("published", "")[:4].isdigit()
        ):
            out.append(rec)
    return out


def _identity_holds(res) -> None:
    assert res.read == res.routed_rows + res.skipped + res.quarantined, res


def _quarantine(lake: Lake) -> list[tuple]:
    files = lake.table_files("quarantine")
    if not files:
        return []
    return duckdb.sql(
        f"SELECT raw_offset, reason FROM read_parquet({[str(f) for f in files]}) ORDER BY 1"
    ).fetchall()


# -- 1. sniffing: one record cannot make a file invisible ---------------------------------


@pytest.mark.parametrize("size", [5_000, 10_000_000])
def test_a_long_first_record_does_not_hide_the_file(tmp_path, size):
    recs = _okta_records()
    first = dict(recs[0])
    first["client"] = dict(first["client"])
    first["client"]["userAgent"] = {"rawUserAgent": "A" * size}  # the distiller's own UA
    path = tmp_path / "okta.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [first, *recs[1:]]) + "\n")
    assert sniff(path) is okta
    (res,) = Lake(tmp_path / "lake").ingest([path])
    assert res.status == "ingested" and res.routed_rows == len(recs) and res.quarantined == 0
    _identity_holds(res)


def test_a_junk_first_line_does_not_hide_the_file(tmp_path):
    path = tmp_path / "okta.jsonl"
    path.write_text("\x00" * 100 + "garbage\n" + "\n".join(json.dumps(r) for r in _okta_records()))
    (res,) = Lake(tmp_path / "lake").ingest([path])
    assert res.source == "okta" and res.quarantined == 1
    _identity_holds(res)


def test_an_unrecognised_file_is_not_marked_done(tmp_path):
    lake = Lake(tmp_path / "lake")
    path = tmp_path / "mystery.log"
    path.write_text("nothing any source reads\n")
    (first,) = lake.ingest([path])
    (again,) = lake.ingest([path])
    assert first.status == again.status == "unrecognised"  # read again, not "duplicate"
    assert len(_quarantine(lake)) == 1  # and quarantined once, not once per run


# -- 2. one bad value does not lose a file --------------------------------------------------


def test_an_otel_attribute_that_is_not_json_keeps_its_span(tmp_path):
    def span(i, messages):
        return {
            "traceId": "5b8efff798038103d269b633813fc60c",
            "spanId": f"eee19b7ec3c1b17{i}",
            "name": "chat",
            "startTimeUnixNano": "1772409600000000000",
            "endTimeUnixNano": "1772409600000000000",
            "attributes": [
                _otel_attr("gen_ai.request.model", "model-large-2026-02"),
                _otel_attr("user.id", f"acct_{i}"),
                _otel_attr("gen_ai.input.messages", messages),
            ],
        }

    ok = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "hello"}]}])
    spans = [
        span(0, ok),
        span(1, ok[:25]),  # cut off by an OTel attribute length limit
        span(2, "Prove that 17 is prime, step by step."),  # plain text
        span(3, '[{"role": "user", "content": "\udcff"}]'.encode("utf-8", "replace").decode()),
    ]
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}
    path = tmp_path / "traces.json"
    path.write_text(json.dumps(doc) + "\n")
    (res,) = Lake(tmp_path / "lake").ingest([path])
    assert (res.read, res.routed_rows, res.quarantined) == (4, 4, 0)
    rows = duckdb.sql(
        f"SELECT account_id, prompt_sample FROM read_parquet("
        f"{[str(f) for f in Lake(tmp_path / 'lake').table_files('llm_request')]}) ORDER BY 1"
    ).fetchall()
    assert rows[2] == ("acct_2", "Prove that 17 is prime, step by step.")


# -- 3. truncated documents ---------------------------------------------------------------


def test_a_nbsp_before_the_array_and_a_cut_page_keep_their_records(tmp_path):
    recs = _okta_records()
    page = json.dumps(recs)
    path = tmp_path / "page.json"
    path.write_text("\u00a0" + page[: len(page) - 200])  # the download stopped
    (res,) = Lake(tmp_path / "lake").ingest([path])
    assert res.source == "okta" and res.routed_rows == len(recs) - 1 and res.quarantined == 1
    _identity_holds(res)


# -- 4. data that is not counted ----------------------------------------------------------


def test_a_gzip_padded_with_nuls_counts_its_tail(tmp_path):
    path = tmp_path / "okta.jsonl.gz"
    with gzip.open(path, "wb") as g:
        g.write(OKTA.read_bytes())
        g.write(b"\x00" * (20 << 20))  # 20 MiB of NULs, no newline
    (res,) = Lake(tmp_path / "lake").ingest([path])
    assert res.routed_rows == GOOD_OKTA
    assert (
        -15,
        "line 15 is 20,971,520 bytes, longer than the 16 MiB a record may be: not read",
    ) in (_quarantine(Lake(tmp_path / "lake")))
    _identity_holds(res)


# -- 5. impossible times ------------------------------------------------------------------


def test_impossible_times_are_quarantined_not_partitions(tmp_path):
    first = _okta_records()[0]
    times = [
        "infinity",
        "-infinity",
        "0044-03-15T00:00:00 BC",
        "99999-01-01T00:00:00Z",
        "1601-01-01T00:00:00Z",
        "2026-03-02T09:00:01.123Z",
    ]
    recs = [{**first, "published": t, "uuid": f"u{i}"} for i, t in enumerate(times)]
    path = tmp_path / "okta.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in recs) + "\n")
    lake = Lake(tmp_path / "lake")
    (res,) = lake.ingest([path])
    assert (res.read, res.routed_rows, res.quarantined) == (6, 1, 5)
    _identity_holds(res)
    days = {p.name for p in (lake.tables_dir / "authentication").iterdir()}
    assert days == {"day=2026-03-02"}
    assert [r for _, r in _quarantine(lake) if r.startswith("impossible time")]


# -- 6. the lake's own state ----------------------------------------------------------------


def test_a_torn_manifest_line_neither_crashes_nor_loses_the_next_record(tmp_path):
    lake = Lake(tmp_path / "lake")
    (res,) = lake.ingest([OKTA])
    text = lake.manifest_path.read_text()
    lake.manifest_path.write_text(text[: len(text) // 2])  # the write was cut off
    assert lake.manifest() == {}
    other = tmp_path / "more.jsonl"
    other.write_text(json.dumps(_okta_records()[0]) + "\n")
    lake.ingest([OKTA, other])  # the cut-off file is read again, the new one recorded
    assert set(lake.manifest()) == {res.content_key, lake.ingest([other])[0].content_key}
    rows = duckdb.sql(
        f"SELECT count(*) FROM read_parquet({[str(f) for f in lake.table_files('authentication')]})"
    ).fetchall()[0][0]
    assert rows == res.rows["authentication"] + 1  # nothing twice


def test_a_lake_that_cannot_be_written_is_a_clear_error(tmp_path):
    root = tmp_path / "lake"
    root.mkdir()
    (root / "tables").write_text("not a folder")  # (root ignores permission bits)
    with pytest.raises(LakeError, match="cannot write the lake"):
        Lake(root).ingest([OKTA])


def test_a_full_disk_fails_that_file_and_the_others_go_on(tmp_path, monkeypatch):
    lake = Lake(tmp_path / "lake")
    real = Lake._copy
    other = tmp_path / "other.jsonl"
    other.write_text(json.dumps(_okta_records()[0]) + "\n")

    def copy(self, con, rel, table, raw_source, stem, **kw):
        if raw_source == str(OKTA):
            raise OSError(28, "No space left on device")
        return real(self, con, rel, table, raw_source, stem, **kw)

    monkeypatch.setattr(Lake, "_copy", copy)
    failed, ok = lake.ingest([OKTA, other])
    assert failed.status == "failed" and "No space left on device" in failed.note
    assert ok.status == "ingested" and ok.routed_rows == 1
    assert set(lake.manifest()) == {ok.content_key}  # the failed file is retried next run
    assert not [
        f
        for f in lake.table_files("authentication")
        if failed.content_key and f.name.startswith(failed.content_key[:24])
    ]


def test_an_evtx_magic_in_front_of_something_else_is_one_quarantined_record(tmp_path):
    """Found by the fuzz suite: the evtx parser refused the file with a RuntimeError
    that escaped ingest."""
    path = tmp_path / "fake.evtx"
    path.write_bytes(b"ElfFile\x00" + (FIXTURES / "okta" / "api_page.json").read_bytes())
    (res,) = Lake(tmp_path / "lake").ingest([path])
    assert (res.source, res.read, res.quarantined) == ("windows", 1, 1)
    assert "not a readable evtx file" in res.note
