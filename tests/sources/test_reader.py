"""The shared reader: JSON documents read whole with a buffer fitted to the file."""

from __future__ import annotations

import gzip
import json

import duckdb
import pytest

from crownwatch.sources.reader import DOCUMENT_LIMIT, Reader, document_buffer, tolerant_chunks
from tests.conftest import FIXTURES

S3 = FIXTURES / "cloudtrail" / "s3_and_management.json"


def test_a_small_document_asks_for_a_small_buffer(tmp_path):
    # DuckDB takes twice maximum_object_size up front: a fixed 1 GiB made every
    # CloudTrail file need 2 GiB and fail under a memory limit
    assert document_buffer(S3) == 16 << 20
    gz = tmp_path / "s3.json.gz"
    gz.write_bytes(gzip.compress(S3.read_bytes()))
    assert document_buffer(gz) == 16 << 20
    con = duckdb.connect()
    con.execute("SET memory_limit = '64MB'")
    assert Reader(con).count(Reader(con).json_document(gz, "Records")) == 12


def test_gzip_whose_trailer_understates_the_document_is_read_at_the_limit(tmp_path):
    """The gzip trailer (ISIZE) gives only the last member's size: a 30 MB document
    followed by a one-byte member looks tiny. The reader must retry at the document
    limit, not call the file unreadable."""
    rec = json.loads(S3.read_text())["Records"][0]
    doc = json.dumps({"Records": [dict(rec, eventID=f"e-{i}") for i in range(25_000)]}).encode()
    assert len(doc) > 2 * (16 << 20)  # past the buffer the trailer asks for
    multi = tmp_path / "multi.json.gz"
    multi.write_bytes(gzip.compress(doc) + gzip.compress(b"\n"))
    assert document_buffer(multi) < len(doc) < DOCUMENT_LIMIT
    reader = Reader(duckdb.connect())
    table = reader.json_document(multi, "Records")
    assert reader.count(table) == 25_000


def test_gunzipped_chunks_stay_small_and_members_stay_whole(tmp_path):
    """A log compresses 15:1; a read of the compressed file must not come out as one
    huge decompressed chunk, and concatenated members (rotation) and a member ending
    exactly at a read boundary must read through."""
    first = b"x" * 300_000 + bytes(range(256)) * 40
    second = b"y" * 120_000
    path = tmp_path / "rotated.log.gz"
    path.write_bytes(gzip.compress(first) + gzip.compress(second))
    for size in (7, 1_000, 4_096, 1 << 16):
        chunks = list(tolerant_chunks(path, size))
        assert b"".join(chunks) == first + second
        assert max(map(len, chunks)) <= size
    cut = tmp_path / "cut.log.gz"
    cut.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(EOFError):
        b"".join(tolerant_chunks(cut, 1_000))
