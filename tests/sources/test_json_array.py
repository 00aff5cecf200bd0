"""One-document JSON files (CloudTrail ``Records``, Graph pages, top-level arrays) are
read element by element: the records array is cut out and streamed, and every shape
the cut does not recognise is read whole exactly as before."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pytest

from crownwatch.sources import json_array
from crownwatch.sources.reader import Reader


def _records(n: int) -> list[dict]:
    return [{"eventID": f"id-{i}", "n": i, "note": "a ] } [ {"} for i in range(n)]


def _rows(path: Path, key: str | None) -> list[tuple[int, dict]]:
    reader = Reader(duckdb.connect())
    table = reader.json_document(path, key)
    got = reader.con.execute(f"SELECT raw_offset, text FROM {table} ORDER BY 1").fetchall()
    return [(i, json.loads(t)) for i, t in got]


def _cut(tmp_path: Path, name: str, text: str | bytes, key: str) -> bytes | None:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = json_array.cut_array(path, key, tmp_path)
    if out is None:
        return None
    data = out.read_bytes()
    out.unlink()
    return data


@pytest.mark.parametrize(
    "doc, key, array",
    [
        ('{"Records":[{"a":1},{"a":2}]}', "Records", '[{"a":1},{"a":2}]'),
        ('{ "Records" : [ ] }\n', "Records", "[ ]"),
        # a Graph page: context before, next link after the array
        (
            '{"@odata.context":"https://graph.microsoft.com/v1.0/$metadata#auditLogs/signIns",'
            '"value":[{"id":"x]"}],"@odata.nextLink":"https://graph.microsoft.com/v1.0/'
            'auditLogs/signIns?$skiptoken=a]b"}',
            "value",
            '[{"id":"x]"}]',
        ),
        ('\ufeff{"Records":[{"a":"]}"}]}', "Records", '[{"a":"]}"}]'),
    ],
)
def test_the_array_is_cut_exactly(tmp_path, doc, key, array):
    assert _cut(tmp_path, "doc.json", doc, key) == array.encode()


@pytest.mark.parametrize(
    "doc, key",
    [
        ('{"Records":[{"a":1},{"a":2}', "Records"),  # cut off: the salvage reader's job
        ('{"meta":{"k":1},"Records":[{"a":1}]}', "Records"),  # an object before the array
        ('{"Records":[{"a":1}],"more":{"k":1}}', "Records"),  # an object after it
        ('{"hits":{"hits":[{"a":1}]}}', "hits.hits"),  # nested
        ('{"Other":[{"a":1}]}', "Records"),
    ],
)
def test_shapes_it_does_not_know_are_left_to_the_whole_document_reader(tmp_path, doc, key):
    assert _cut(tmp_path, "doc.json", doc, key) is None
    assert not list(tmp_path.glob("records-*"))  # no scratch file left behind


def test_a_gzipped_document_streams_the_same_records_in_order(tmp_path):
    recs = _records(5_000)
    plain = tmp_path / "ct.json"
    plain.write_text(json.dumps({"Records": recs}))
    packed = tmp_path / "ct.json.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    want = list(enumerate(recs))
    assert _rows(plain, "Records") == want
    assert _rows(packed, "Records") == want


def test_a_top_level_array_streams_with_its_indexes(tmp_path):
    recs = _records(3_000)
    path = tmp_path / "page.json"
    path.write_text(json.dumps(recs))
    assert _rows(path, None) == list(enumerate(recs))


def test_a_shape_the_cut_refuses_still_reads_whole(tmp_path):
    path = tmp_path / "ct.json"
    path.write_text(json.dumps({"meta": {"k": 1}, "Records": _records(10)}))
    assert _rows(path, "Records") == list(enumerate(_records(10)))


def test_no_scratch_file_outlives_the_read(tmp_path):
    spill = tmp_path / "spill"
    path = tmp_path / "ct.json"
    path.write_text(json.dumps({"Records": _records(100)}))
    con = duckdb.connect()
    con.execute("SET temp_directory = ?", [str(spill)])
    reader = Reader(con)
    assert reader.count(reader.json_document(path, "Records")) == 100
    assert not list(spill.glob("records-*"))


@pytest.mark.parametrize(
    "fixture, key",
    [("cloudtrail/s3_and_management.json", "Records"), ("entra/graph_signins.json", "value")],
)
def test_the_real_layouts_take_the_streamed_path_with_every_record(tmp_path, fixture, key):
    """A trail's S3 delivery and a Graph page as the vendors write them are cut (not read
    whole), and the streamed records are the document's, in order."""
    from tests.conftest import FIXTURES

    path = FIXTURES / fixture
    cut = json_array.cut_array(path, key, tmp_path)
    assert cut is not None
    cut.unlink()
    want = json.loads(path.read_text())[key]
    assert _rows(path, key) == list(enumerate(want))
