"""Cloud feeds: parsed from each provider's format, stored dated in the lake by
``crownwatch feeds update`` from a loopback HTTP server (never the Internet) or from
``--from DIR``, listed with their age; bad files are refused with exit 2."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.enrichment import feeds
from tests.enrichment._data import AWS, AZURE, GCP, write_feed

AZURE_FILE = "/download/7/1/D/71D86715/ServiceTags_Public_20260302.json"


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, tuple[int, bytes]] = {}

    def do_GET(self):  # noqa: N802 (http.server's name)
        status, body = self.routes.get(self.path, (404, b"not found"))
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A loopback HTTP server; tests set ``_Handler.routes``. Yields its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    _Handler.routes = {
        "/ip-ranges.json": (200, json.dumps(AWS).encode()),
        "/cloud.json": (200, json.dumps(GCP).encode()),
        # the Azure download page links a file whose URL changes weekly
        "/details.aspx": (
            200,
            (
                '<html><a href="https://download.microsoft.com/download/old.txt">x</a>'
                f'<a href="{base}{AZURE_FILE}">Download</a></html>'
            ).encode(),
        ),
        AZURE_FILE: (200, json.dumps(AZURE).encode()),
    }
    yield base
    httpd.shutdown()
    httpd.server_close()


def _cli(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_parse_each_provider():
    aws = feeds.parse("aws", AWS)
    assert len(aws) == 5 and {p.service for p in aws} == {"AMAZON", "S3", "EC2"}
    assert feeds.published("aws", AWS) == date(2026, 3, 1)
    gcp = feeds.parse("gcp", GCP)
    assert [(str(p.network), p.region) for p in gcp][0] == ("34.80.0.0/15", "asia-east1")
    assert feeds.published("gcp", GCP) == date(2026, 3, 2)
    az = feeds.parse("azure", AZURE)
    assert {(p.service, p.region) for p in az} == {
        ("AzureCloud", None),
        ("AzureStorage", "westeurope"),
    }
    assert feeds.published("azure", AZURE, "x/ServiceTags_Public_20260302.json") == date(2026, 3, 2)
    assert [feeds.sniff(d) for d in (AWS, GCP, AZURE, {"prefixes": "x"}, [])] == [
        "aws",
        "gcp",
        "azure",
        None,
        None,
    ]


def test_spans_are_disjoint_most_specific_wins(tmp_path):
    files = {
        "aws": write_feed(tmp_path / "a.json", AWS),
        "azure": write_feed(tmp_path / "z.json", AZURE),
    }
    spans = list(feeds.spans(files))
    assert all(a.hi < b.lo for a, b in zip(spans, spans[1:], strict=False))
    by_service = {(s.network, s.service) for s in spans}
    assert ("aws", "S3") in by_service and ("aws", "EC2") in by_service
    assert ("aws", "AMAZON") in by_service  # the rest of 52.95.0.0/16
    assert ("azure", "AzureStorage") in by_service and ("azure", "AzureCloud") in by_service


def test_update_from_a_loopback_server_stores_dated_files(tmp_path, server):
    lake = tmp_path / "lake"
    r = _cli(
        "feeds",
        "update",
        "--lake",
        lake,
        "--url",
        f"aws={server}/ip-ranges.json",
        "--url",
        f"gcp={server}/cloud.json",
        "--url",
        f"azure={server}/details.aspx",
        "--timeout",
        "5",
    )
    assert r.exit_code == 0, r.output
    assert (lake / "feeds/aws/2026-03-01.json").is_file()
    assert (lake / "feeds/gcp/2026-03-02.json").is_file()
    assert (lake / "feeds/azure/2026-03-02.json").is_file()  # the date in the file name
    assert json.loads((lake / "feeds/aws/2026-03-01.json").read_text()) == AWS

    # again: nothing new
    r = _cli(
        "feeds", "update", "--lake", lake, "--only", "aws", "--url", f"aws={server}/ip-ranges.json"
    )
    assert r.exit_code == 0 and "unchanged" in r.output

    r = _cli("feeds", "list", "--lake", lake, "--format", "json")
    assert r.exit_code == 0, r.output
    listed = json.loads(r.stdout)["feeds"]
    assert {(f["feed"], f["date"], f["in_use"]) for f in listed} == {
        ("aws", "2026-03-01", True),
        ("gcp", "2026-03-02", True),
        ("azure", "2026-03-02", True),
    }
    assert all(f["age_days"] >= 0 for f in listed)


def test_newest_is_used(tmp_path):
    lake = tmp_path / "lake"
    older = dict(AWS, createDate="2026-01-05-00-00-00")
    feeds.store(lake, json.dumps(older).encode(), "old.json")
    feeds.store(lake, json.dumps(AWS).encode(), "new.json")
    assert [f.day for f in feeds.stored(lake)] == [date(2026, 3, 1), date(2026, 1, 5)]
    assert feeds.newest(lake)["aws"].day == date(2026, 3, 1)


def test_a_failed_download_is_reported_and_keeps_what_was_stored(tmp_path, server):
    lake = tmp_path / "lake"
    _Handler.routes["/broken.json"] = (200, b'{"prefixes": [')  # truncated
    r = _cli(
        "feeds",
        "update",
        "--lake",
        lake,
        "--only",
        "aws",
        "--only",
        "gcp",
        "--url",
        f"aws={server}/broken.json",
        "--url",
        f"gcp={server}/cloud.json",
    )
    assert r.exit_code == 2
    assert "not JSON" in r.output and "Traceback" not in r.output
    assert not (lake / "feeds/aws").exists()
    assert (lake / "feeds/gcp/2026-03-02.json").is_file()

    r = _cli("feeds", "update", "--lake", lake, "--only", "aws", "--url", f"aws={server}/missing")
    assert r.exit_code == 2 and ("404" in r.output or "Not Found" in r.output)


def test_azure_page_without_a_link_says_to_use_from(tmp_path, server):
    _Handler.routes["/empty.aspx"] = (200, b"<html>nothing here</html>")
    r = _cli(
        "feeds",
        "update",
        "--lake",
        tmp_path,
        "--only",
        "azure",
        "--url",
        f"azure={server}/empty.aspx",
    )
    assert r.exit_code == 2 and "--from" in r.output


def test_update_from_a_directory(tmp_path):
    src = tmp_path / "downloads"
    write_feed(src / "ip-ranges.json", AWS)
    write_feed(src / "ServiceTags_Public_20260302.json", AZURE)
    write_feed(src / "renamed-google.json", GCP)
    (src / "notes.txt").write_text("not a feed")
    lake = tmp_path / "lake"
    r = _cli("feeds", "update", "--lake", lake, "--from", src)
    assert r.exit_code == 0, r.output
    assert sorted(
        p.relative_to(lake / "feeds").as_posix() for p in (lake / "feeds").rglob("*.json")
    ) == [
        "aws/2026-03-01.json",
        "azure/2026-03-02.json",
        "gcp/2026-03-02.json",
    ]


def test_from_a_directory_without_feeds_is_an_error(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.json").write_text("{}")
    r = _cli("feeds", "update", "--lake", tmp_path / "lake", "--from", tmp_path / "d")
    assert r.exit_code == 2 and "no AWS" in r.output
    r = _cli("feeds", "update", "--lake", tmp_path / "lake", "--from", tmp_path / "nope")
    assert r.exit_code == 2


def test_bad_url_option(tmp_path):
    r = _cli("feeds", "update", "--lake", tmp_path, "--url", "oracle=http://x")
    assert r.exit_code == 2 and "NAME=URL" in r.output
    r = _cli(
        "feeds", "update", "--lake", tmp_path, "--only", "aws", "--url", "aws=file:///etc/passwd"
    )
    assert r.exit_code == 2 and "http" in r.output
