"""Archives of logs on the real engine: zip, tar (gz/bz2/xz) and 7z read member by member,
each member cited as ``archive!member``; hostile and broken archives give clear
quarantine reasons while the good members are kept; re-ingest adds nothing.

The archives are built here from the format fixtures (nothing binary is committed)."""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tarfile
import zipfile
import zlib
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from crownwatch.cli import app
from crownwatch.lake import FileResult, Lake
from crownwatch.sources import archives
from tests.conftest import FIXTURES
from tests.test_hunt_okta import T0, spray

# Real-format logs that ingest with nothing quarantined when loose.
LOGS = {
    "okta/api_page.json": (FIXTURES / "okta/api_page.json").read_bytes(),
    "linux/auth.log": (FIXTURES / "linux/auth.log").read_bytes(),
    "linux/spray_auth.log": (FIXTURES / "linux/spray_auth.log").read_bytes(),
    # as CloudTrail delivers it: gzip, inside the archive
    "cloudtrail/2026/03/02/console_signins.json.gz": gzip.compress(
        (FIXTURES / "cloudtrail/console_signins.json").read_bytes(), mtime=0
    ),
    "cloudtrail/s3_and_management.json": (
        FIXTURES / "cloudtrail/s3_and_management.json"
    ).read_bytes(),
}

SMALL = archives.Limits(ratio_floor=1 << 20)  # bombs show up past 1 MiB instead of 64


# -- building archives --------------------------------------------------------------------


def make_zip(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def make_tar(path: Path, members: dict[str, bytes], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    return path


def make_7z(path: Path, members: dict[str, bytes], password: str | None = None) -> Path:
    import py7zr

    with py7zr.SevenZipFile(path, "w", password=password) as z:
        for name, data in members.items():
            z.writestr(data, name)
    return path


def raw_zip(entries: list[tuple[str, bytes, int, int, int, int]]) -> bytes:
    """A zip written by hand: (name, data as stored, method, flags, crc, size) each."""
    out, central = bytearray(), bytearray()
    for name, data, method, flags, crc, usize in entries:
        offset, raw = len(out), name.encode()
        out += struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            flags,
            method,
            0,
            0x21,
            crc,
            len(data),
            usize,
            len(raw),
            0,
        )
        out += raw + data
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            flags,
            method,
            0,
            0x21,
            crc,
            len(data),
            usize,
            len(raw),
            0,
            0,
            0,
            0,
            0,
            offset,
        )
        central += raw
    out += central + struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), len(out), 0
    )
    return bytes(out)


_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0xEDB88320 if _c & 1 else _c >> 1
    _CRC_TABLE.append(_c)


def zipcrypto(data: bytes, password: bytes, crc: int) -> bytes:
    """Traditional PKWARE encryption, as ``zip -e`` writes it (zipfile only decrypts)."""
    keys = [0x12345678, 0x23456789, 0x34567890]

    def crc32(ch: int, c: int) -> int:
        return (c >> 8) ^ _CRC_TABLE[(c ^ ch) & 0xFF]

    def update(ch: int) -> None:
        keys[0] = crc32(ch, keys[0])
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = crc32(keys[1] >> 24, keys[2])

    for ch in password:
        update(ch)
    out = bytearray()
    for ch in bytes(11) + bytes([crc >> 24]) + data:
        k = keys[2] | 2
        out.append(ch ^ (((k * (k ^ 1)) >> 8) & 0xFF))
        update(ch)
    return bytes(out)


# -- reading the lake back ----------------------------------------------------------------


def rows(lake: Lake, table: str, where: str = "true") -> list[tuple]:
    return duckdb.sql(
        f"SELECT raw_source, raw_offset, * EXCLUDE (raw_source, raw_offset)"
        f" FROM {lake.table_sql(table)} WHERE {where} ORDER BY ALL"
    ).fetchall()


def quarantine(lake: Lake) -> list[tuple[str, str]]:
    """(raw_source, reason) of every quarantine record."""
    return duckdb.sql(
        f"SELECT raw_source, reason FROM {lake.table_sql('quarantine')} ORDER BY ALL"
    ).fetchall()


def by_path(results: list[FileResult]) -> dict[str, FileResult]:
    return {r.path: r for r in results}


def no_scratch_left(lake: Lake) -> bool:
    return not list(lake.spill_dir.glob("archive-*"))


@pytest.fixture(scope="module")
def loose_counts(tmp_path_factory) -> dict[str, tuple]:
    """What each of LOGS gives when ingested as a loose file."""
    tmp = tmp_path_factory.mktemp("loose")
    for name, data in LOGS.items():
        (tmp / "in" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / "in" / name).write_bytes(data)
    results = Lake(tmp / "lake").ingest([tmp / "in"])
    return {
        Path(r.path).relative_to(tmp / "in").as_posix(): (r.source, r.read, r.rows, r.skipped)
        for r in results
    }


# -- reading real exports -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "build"),
    [
        ("zip", lambda p, m: make_zip(p, m)),
        ("zip-stored", lambda p, m: make_zip(p, m, zipfile.ZIP_STORED)),
        ("zip-bzip2", lambda p, m: make_zip(p, m, zipfile.ZIP_BZIP2)),
        ("zip-lzma", lambda p, m: make_zip(p, m, zipfile.ZIP_LZMA)),
        ("tar", lambda p, m: make_tar(p, m, "w")),
        ("tar.gz", lambda p, m: make_tar(p, m, "w:gz")),
        ("tar.bz2", lambda p, m: make_tar(p, m, "w:bz2")),
        ("tar.xz", lambda p, m: make_tar(p, m, "w:xz")),
        ("7z", lambda p, m: make_7z(p, m)),
    ],
)
def test_an_export_archive_ingests_every_member_as_its_own_file(
    tmp_path, kind, build, loose_counts
):
    # named without an extension: content decides
    archive = build(tmp_path / "export", LOGS)
    lake = Lake(tmp_path / "lake")
    results = lake.ingest([archive])
    res = by_path(results)
    expected = loose_counts
    assert list(res) == [f"{archive}!{name}" for name in LOGS] + [str(archive)]
    for name in LOGS:
        r = res[f"{archive}!{name}"]
        assert r.status == "ingested" and r.quarantined == 0, (name, r)
        assert (r.source, r.read, r.rows, r.skipped) == expected[name]
        assert r.read == r.routed_rows + r.skipped + r.quarantined
    own = res[str(archive)]
    assert (own.source, own.status, own.read, own.quarantined, own.note) == (
        "archive",
        "ingested",
        0,
        0,
        None,
    )
    assert quarantine(lake) == []
    cited = {r[0] for t in ("authentication", "api_activity") for r in rows(lake, t)}
    assert cited == {f"{archive}!{name}" for name in LOGS}
    # the manifest knows every member and the archive, by the same names
    manifest = {rec["path"]: rec for rec in lake.manifest().values()}
    assert set(manifest) == set(res)
    assert no_scratch_left(lake)


def test_an_attack_inside_an_archive_is_found_and_cited_by_member_and_line(tmp_path):
    okta = "".join(json.dumps(e) + "\n" for e in spray("203.0.113.9", T0)).encode()
    inner = make_tar(tmp_path / "okta-logs.tar.gz", {"okta/day1.jsonl": okta})
    archive = make_zip(
        tmp_path / "okta-2026-03.zip",
        {"logs/okta/day1.jsonl": okta, "nested/okta-logs.tar.gz": inner.read_bytes()},
    )
    result = CliRunner().invoke(
        app, ["hunt", str(archive), "--lake", str(tmp_path / "lake"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (f,) = [f for f in json.loads(result.stdout) if f["detection"] == "identity.password_spray"]
    refs = f["evidence"]["raw_records"]
    assert refs[0] == f"{archive}!logs/okta/day1.jsonl#1"
    assert all(r.startswith(f"{archive}!logs/okta/day1.jsonl#") for r in refs)
    assert f["evidence"]["raw_records_total"] == 40
    # the nested copy is the same content: a duplicate, not a second spray
    out = CliRunner().invoke(
        app, ["ingest", str(archive), "--lake", str(tmp_path / "lake2"), "--format", "json"]
    )
    got = {r["path"]: r["status"] for r in json.loads(out.stdout)}
    assert got == {
        f"{archive}!logs/okta/day1.jsonl": "ingested",
        f"{archive}!nested/okta-logs.tar.gz!okta/day1.jsonl": "duplicate",
        f"{archive}!nested/okta-logs.tar.gz": "ingested",
        str(archive): "ingested",
    }


def test_nested_archives_are_read_down_to_the_depth_limit(tmp_path):
    auth = LOGS["linux/auth.log"]
    deepest = make_zip(tmp_path / "c.zip", {"auth.log": auth})
    middle = make_tar(
        tmp_path / "b.tar.gz",
        {"okta/api_page.json": LOGS["okta/api_page.json"], "c.zip": deepest.read_bytes()},
    )
    outer = make_zip(tmp_path / "a.zip", {"b.tar.gz": middle.read_bytes()})
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = replace(SMALL, depth=2)
    res = by_path(lake.ingest([outer]))
    assert res[f"{outer}!b.tar.gz!okta/api_page.json"].status == "ingested"
    assert f"{outer}!b.tar.gz!c.zip!auth.log" not in res
    assert quarantine(lake) == [
        (f"{outer}!b.tar.gz!c.zip", "an archive nested deeper than 2 levels: not opened")
    ]
    assert res[f"{outer}!b.tar.gz"].quarantined == 1
    # one level more allowed: read (a separate lake, same archive)
    lake3 = Lake(tmp_path / "lake3")
    lake3.archive_limits = replace(SMALL, depth=3)
    res3 = by_path(lake3.ingest([outer]))
    assert res3[f"{outer}!b.tar.gz!c.zip!auth.log"].rows == {"authentication": 22}
    assert quarantine(lake3) == []


# -- defences -----------------------------------------------------------------------------


def test_traversal_names_are_refused_and_the_rest_kept(tmp_path):
    good = LOGS["linux/auth.log"]
    archive = make_zip(
        tmp_path / "evil.zip",
        {
            "../../etc/cron.d/evil.log": good,
            "/var/log/abs.log": good,
            "C:\\Windows\\evil.log": good,
            "logs\\..\\..\\up.log": good,
            "logs/auth.log": good,
        },
    )
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!logs/auth.log"].rows == {"authentication": 22}
    refused = dict(quarantine(lake))
    assert set(refused) == {
        f"{archive}!../../etc/cron.d/evil.log",
        f"{archive}!/var/log/abs.log",
        f"{archive}!C:\\Windows\\evil.log",
        f"{archive}!logs\\..\\..\\up.log",
    }
    assert all(r.startswith("unsafe name: ") for r in refused.values())
    assert "climbs out" in refused[f"{archive}!../../etc/cron.d/evil.log"]
    assert "absolute path" in refused[f"{archive}!/var/log/abs.log"]
    own = res[str(archive)]
    assert (own.read, own.quarantined) == (4, 4)
    assert "4 refused" in own.note
    assert not (tmp_path / "etc").exists() and not (tmp_path.parent / "etc").exists()


def test_tar_links_devices_and_traversal_are_not_followed(tmp_path):
    good = LOGS["linux/auth.log"]
    path = tmp_path / "links.tar"
    with tarfile.open(path, "w") as tf:
        for name, kind, link in [
            ("logs/passwd", tarfile.SYMTYPE, "/etc/passwd"),
            ("logs/inside", tarfile.SYMTYPE, "auth.log"),
            ("logs/hard", tarfile.LNKTYPE, "logs/auth.log"),
            ("logs/tty", tarfile.CHRTYPE, ""),
            ("logs/pipe", tarfile.FIFOTYPE, ""),
        ]:
            ti = tarfile.TarInfo(name)
            ti.type, ti.linkname = kind, link
            tf.addfile(ti)
        for name in ("logs/auth.log", "../escape.log"):
            ti = tarfile.TarInfo(name)
            ti.size = len(good)
            tf.addfile(ti, io.BytesIO(good))
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([path]))
    assert res[f"{path}!logs/auth.log"].rows == {"authentication": 22}
    refused = dict(quarantine(lake))
    assert refused == {
        f"{path}!logs/passwd": "a symbolic link to '/etc/passwd': not followed; not read",
        f"{path}!logs/inside": "a symbolic link to 'auth.log': not followed; not read",
        f"{path}!logs/hard": "a hard link to 'logs/auth.log': not followed; not read",
        f"{path}!logs/tty": "a device: not read",
        f"{path}!logs/pipe": "a FIFO: not read",
        f"{path}!../escape.log": refused[f"{path}!../escape.log"],
    }
    assert refused[f"{path}!../escape.log"].startswith("unsafe name: ")
    assert res[str(path)].quarantined == 6


def test_zip_symlink_member_is_not_followed(tmp_path):
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("logs/secrets")
        info.create_system = 3
        info.external_attr = 0o120777 << 16  # S_IFLNK
        zf.writestr(info, "/etc/shadow")
        zf.writestr("logs/auth.log", LOGS["linux/auth.log"])
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([path]))
    assert res[f"{path}!logs/auth.log"].status == "ingested"
    assert quarantine(lake) == [(f"{path}!logs/secrets", "a symbolic link: not followed; not read")]


def test_a_zip_bomb_member_is_refused_and_the_rest_kept(tmp_path):
    archive = make_zip(
        tmp_path / "bomb.zip",
        {"logs/auth.log": LOGS["linux/auth.log"], "logs/zeros.log": bytes(8 << 20)},
    )
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = SMALL
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!logs/auth.log"].status == "ingested"
    ((where, reason),) = quarantine(lake)
    assert where == f"{archive}!logs/zeros.log"
    assert "decompression bomb" in reason and "200×" in reason
    assert no_scratch_left(lake)


def test_a_bomb_behind_a_lying_header_is_stopped_while_decoding(tmp_path):
    """The central directory says 100 bytes; the data inflates to 8 MiB of zeros."""
    packed = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packed.compress(bytes(8 << 20)) + packed.flush()
    archive = tmp_path / "liar.zip"
    archive.write_bytes(
        raw_zip(
            [
                ("liar.log", data, 8, 0, 0, 100),
                (
                    "auth.log",
                    LOGS["linux/auth.log"],
                    0,
                    0,
                    zlib.crc32(LOGS["linux/auth.log"]),
                    len(LOGS["linux/auth.log"]),
                ),
            ]
        )
    )
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = SMALL
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!auth.log"].status == "ingested"
    ((where, reason),) = quarantine(lake)
    assert where == f"{archive}!liar.log" and "decompression bomb" in reason


def test_a_tar_gz_bomb_stops_the_stream_and_keeps_what_came_before(tmp_path):
    archive = make_tar(
        tmp_path / "bomb.tgz",
        {"auth.log": LOGS["linux/auth.log"], "zeros.log": bytes(16 << 20), "after.log": b"x"},
    )
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = SMALL
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!auth.log"].status == "ingested"
    refused = dict(quarantine(lake))
    assert "decompression bomb" in refused[f"{archive}!zeros.log"]
    assert refused[str(archive)].startswith("the rest of the archive not read")


def test_gzip_members_count_against_the_limits(tmp_path):
    archive = make_zip(
        tmp_path / "gz.zip",
        {"zeros.log.gz": gzip.compress(bytes(8 << 20)), "auth.log": LOGS["linux/auth.log"]},
        zipfile.ZIP_STORED,
    )
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = SMALL
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!auth.log"].status == "ingested"
    ((where, reason),) = quarantine(lake)
    assert where == f"{archive}!zeros.log.gz"
    assert reason.startswith("gzip member: ") and "decompression bomb" in reason


def test_an_archive_over_its_budget_keeps_what_fits(tmp_path):
    members = {f"logs/auth{i}.log": LOGS["linux/auth.log"] + b"\n" * i for i in range(4)}
    archive = make_zip(tmp_path / "big.zip", members, zipfile.ZIP_STORED)
    size = len(LOGS["linux/auth.log"])
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = archives.Limits(budget=int(size * 2.5))
    res = by_path(lake.ingest([archive]))
    assert [res[f"{archive}!logs/auth{i}.log"].status for i in range(2)] == ["ingested"] * 2
    refused = dict(quarantine(lake))
    assert set(refused) == {f"{archive}!logs/auth2.log", f"{archive}!logs/auth3.log"}
    assert all("budget of" in r and "is spent" in r for r in refused.values())


def test_a_member_over_the_member_limit_is_refused(tmp_path):
    big = LOGS["linux/auth.log"] * 4
    archive = make_tar(
        tmp_path / "x.tar", {"big.log": big, "auth.log": LOGS["linux/auth.log"]}, "w"
    )
    lake = Lake(tmp_path / "lake")
    lake.archive_limits = archives.Limits(member=len(big) - 1)
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!auth.log"].status == "ingested"
    ((where, reason),) = quarantine(lake)
    assert where == f"{archive}!big.log" and "per-member limit" in reason


def test_members_past_the_member_cap_are_not_read(tmp_path):
    members = {f"auth{i}.log": LOGS["linux/auth.log"] + b"\n" * i for i in range(3)}
    for path in (make_zip(tmp_path / "m.zip", members), make_tar(tmp_path / "m.tgz", members)):
        lake = Lake(tmp_path / f"lake-{path.name}")
        lake.archive_limits = archives.Limits(members=2)
        res = by_path(lake.ingest([path]))
        assert [res[f"{path}!auth{i}.log"].status for i in range(2)] == ["ingested"] * 2
        ((where, reason),) = quarantine(lake)
        assert where == str(path) and reason.startswith("more than 2 members")


def test_an_encrypted_zip_member_is_refused(tmp_path):
    secret = LOGS["linux/auth.log"]
    crc = zlib.crc32(secret)
    enc = zipcrypto(secret, b"infected", crc)
    plain = LOGS["okta/api_page.json"]
    archive = tmp_path / "enc.zip"
    archive.write_bytes(
        raw_zip(
            [
                ("secret/auth.log", enc, 0, 0x1, crc, len(secret)),
                ("okta/api_page.json", plain, 0, 0, zlib.crc32(plain), len(plain)),
            ]
        )
    )
    # a real encrypted member: zipfile reads it with the password
    assert zipfile.ZipFile(archive).read("secret/auth.log", pwd=b"infected") == secret
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!okta/api_page.json"].status == "ingested"
    assert quarantine(lake) == [
        (f"{archive}!secret/auth.log", "encrypted (password-protected): not read")
    ]


def test_an_unsupported_zip_method_is_refused_and_deflate64_is_read(tmp_path):
    data = LOGS["linux/auth.log"]
    d64 = __import__("inflate64").Deflater()
    packed = d64.deflate(data) + d64.flush()
    archive = tmp_path / "methods.zip"
    archive.write_bytes(
        raw_zip(
            [
                ("ppmd.log", b"\x00" * 64, 98, 0, 0, 64),
                ("d64/auth.log", packed, 9, 0, zlib.crc32(data), len(data)),
            ]
        )
    )
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([archive]))
    assert res[f"{archive}!d64/auth.log"].rows == {"authentication": 22}
    assert quarantine(lake) == [
        (f"{archive}!ppmd.log", "compression method 98 is not supported: not read")
    ]


def test_an_encrypted_7z_is_refused(tmp_path):
    archive = make_7z(tmp_path / "enc.7z", {"auth.log": LOGS["linux/auth.log"]}, password="x")
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([archive]))
    assert res[str(archive)].quarantined == 1
    assert quarantine(lake) == [(f"{archive}!auth.log", "encrypted (password-protected): not read")]


def test_a_truncated_tar_keeps_every_complete_member(tmp_path):
    members = {
        "auth0.log": LOGS["linux/auth.log"],
        "auth1.log": LOGS["linux/spray_auth.log"],
        "auth2.log": os.urandom(20_000).hex().encode(),  # compresses poorly: the cut falls in it
    }
    full = make_tar(tmp_path / "full.tar", members, "w")
    with tarfile.open(full) as tf:
        last = tf.getmember("auth2.log")
    cut = tmp_path / "cut.tar"
    cut.write_bytes(full.read_bytes()[: last.offset_data + 1000])
    tgz = tmp_path / "cut.tgz"  # the same, compressed: the stream breaks inside the last member
    tgz.write_bytes(gzip.compress(full.read_bytes())[:-2000])
    for path in (cut, tgz):
        lake = Lake(tmp_path / f"lake-{path.name}")
        res = by_path(lake.ingest([path]))
        assert res[f"{path}!auth0.log"].rows == {"authentication": 22}
        assert res[f"{path}!auth1.log"].rows == {"authentication": 14}
        ((where, reason),) = quarantine(lake)
        assert where == f"{path}!auth2.log"
        assert reason.startswith("truncated: the archive ends inside this member (")


def test_a_truncated_zip_keeps_every_complete_member(tmp_path):
    members = {f"auth{i}.log": LOGS["linux/auth.log"] + b"\n" * i for i in range(3)}
    full = make_zip(tmp_path / "full.zip", members)
    with zipfile.ZipFile(full) as zf:
        last = zf.getinfo("auth2.log")
    cut = tmp_path / "cut.zip"  # a download stopped inside the last member: no central directory
    cut.write_bytes(full.read_bytes()[: last.header_offset + 30 + len("auth2.log") + 100])
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([cut]))
    assert [res[f"{cut}!auth{i}.log"].rows for i in range(2)] == [{"authentication": 22}] * 2
    ((where, reason),) = quarantine(lake)
    assert where == f"{cut}!auth2.log" and reason.startswith("truncated")


def test_corrupt_and_unreadable_archives_are_one_clear_record(tmp_path):
    auth = LOGS["linux/auth.log"]
    bad_crc = tmp_path / "crc.zip"
    bad_crc.write_bytes(raw_zip([("auth.log", auth, 0, 0, zlib.crc32(auth) ^ 1, len(auth))]))
    bz = make_zip(tmp_path / "bz.zip", {"auth.log": auth}, zipfile.ZIP_BZIP2).read_bytes()
    at = bz.index(b"BZh9") + 4  # the first block's magic: bz2 says "Invalid data stream"
    bad_bz2 = tmp_path / "bz2.zip"
    bad_bz2.write_bytes(bz[:at] + b"\x00\x00\x00\x00" + bz[at + 4 :])
    not_7z = tmp_path / "broken.7z"
    not_7z.write_bytes(b"7z\xbc\xaf\x27\x1c" + bytes(40))
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([bad_crc, bad_bz2, not_7z]))
    refused = dict(quarantine(lake))
    assert refused[f"{bad_crc}!auth.log"] == "corrupt: CRC mismatch; not read"
    assert refused[f"{bad_bz2}!auth.log"].startswith("corrupt compressed data (")
    assert refused[str(not_7z)].startswith("7z archive unreadable: ")
    assert res[str(not_7z)].quarantined == 1


def test_hidden_members_are_skipped_like_dotfiles(tmp_path):
    archive = make_zip(
        tmp_path / "mac.zip",
        {
            "logs/auth.log": LOGS["linux/auth.log"],
            "__MACOSX/logs/._auth.log": b"\x00\x05\x16\x07junk",
            "logs/.DS_Store": b"\x00\x00\x00\x01Bud1",
        },
    )
    lake = Lake(tmp_path / "lake")
    res = by_path(lake.ingest([archive]))
    assert list(res) == [f"{archive}!logs/auth.log", str(archive)]
    assert quarantine(lake) == []
    assert res[str(archive)].note == "zip archive, 1 member(s) read: 2 hidden member(s) skipped"


# -- idempotence --------------------------------------------------------------------------


def test_reingesting_an_archive_adds_nothing(tmp_path):
    archive = make_zip(tmp_path / "export.zip", LOGS)
    lake = Lake(tmp_path / "lake")
    lake.ingest([archive])
    before = sorted(p.name for p in lake.tables_dir.rglob("*.parquet"))
    manifest_lines = lake.manifest_path.read_text().count("\n")
    copy = tmp_path / "renamed.bin"
    copy.write_bytes(archive.read_bytes())
    again = lake.ingest([archive, copy])
    assert [(r.path, r.status) for r in again] == [
        (str(archive), "duplicate"),
        (str(copy), "duplicate"),
    ]
    assert sorted(p.name for p in lake.tables_dir.rglob("*.parquet")) == before
    assert lake.manifest_path.read_text().count("\n") == manifest_lines


def test_a_member_already_ingested_as_a_loose_file_is_a_duplicate(tmp_path):
    loose = tmp_path / "auth.log"
    loose.write_bytes(LOGS["linux/auth.log"])
    archive = make_tar(tmp_path / "x.tgz", {"var/log/auth.log": LOGS["linux/auth.log"]})
    lake = Lake(tmp_path / "lake")
    lake.ingest([loose])
    (member, own) = lake.ingest([archive])
    assert member.path == f"{archive}!var/log/auth.log" and member.status == "duplicate"
    assert member.note == f"same content already ingested from {loose}"
    assert own.status == "ingested"
    # and the other way round: the loose copy of an archived member
    lake2 = Lake(tmp_path / "lake2")
    lake2.ingest([archive])
    (dup,) = lake2.ingest([loose])
    assert dup.status == "duplicate" and dup.note.endswith(f"{archive}!var/log/auth.log")


def test_a_half_ingested_archive_is_repaired_by_the_next_run(tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "export.zip", LOGS)
    clean = Lake(tmp_path / "clean")
    clean.ingest([archive])
    lake = Lake(tmp_path / "lake")
    real = Lake._write_parsed
    calls = []

    def crash_on_third(self, *args, **kwargs):
        calls.append(1)
        res = real(self, *args, **kwargs)
        if len(calls) == 3:  # the process dies after writing a member, before the manifest
            raise KeyboardInterrupt
        return res

    monkeypatch.setattr(Lake, "_write_parsed", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        lake.ingest([archive])
    assert no_scratch_left(lake)
    monkeypatch.setattr(Lake, "_write_parsed", real)
    second = by_path(lake.ingest([archive]))
    statuses = [second[f"{archive}!{n}"].status for n in LOGS]
    assert statuses == ["duplicate", "duplicate", "ingested", "ingested", "ingested"]
    for table in ("authentication", "api_activity", "quarantine"):
        assert [r[:2] for r in rows(lake, table)] == [r[:2] for r in rows(clean, table)], table
    assert lake.ingest([archive])[0].status == "duplicate"


def test_a_member_the_engine_fails_on_leaves_the_archive_to_the_next_run(tmp_path, monkeypatch):
    archive = make_zip(tmp_path / "export.zip", LOGS)
    lake = Lake(tmp_path / "lake")
    real = Lake._write_parsed

    def oom_on_auth(self, con, path, key, source, parsed, name=None):
        if name and name.endswith("!linux/auth.log"):
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate")
        return real(self, con, path, key, source, parsed, name=name)

    monkeypatch.setattr(Lake, "_write_parsed", oom_on_auth)
    first = by_path(lake.ingest([archive]))
    assert first[f"{archive}!linux/auth.log"].status == "failed"
    assert "CROWNWATCH_MEMORY_LIMIT" in first[f"{archive}!linux/auth.log"].note
    assert first[str(archive)].status == "failed"
    assert str(archive) not in {r["path"] for r in lake.manifest().values()}
    monkeypatch.setattr(Lake, "_write_parsed", real)
    second = by_path(lake.ingest([archive]))
    assert second[f"{archive}!linux/auth.log"].status == "ingested"
    assert [r.status for r in second.values()].count("ingested") == 2  # auth.log + the archive
    assert lake.ingest([archive])[0].status == "duplicate"


# -- content, not names; scratch -------------------------------------------------------------


def test_content_decides_not_the_name(tmp_path):
    text = tmp_path / "not-really.zip"
    text.write_bytes(LOGS["linux/auth.log"])
    zipped = make_zip(tmp_path / "auth.log", {"auth.log": LOGS["linux/auth.log"]})
    assert archives.sniff(text) is None
    assert archives.sniff(zipped) == "zip"
    assert archives.sniff(make_tar(tmp_path / "t.log", {"a": b"x"}, "w:xz")) == "tar"
    assert archives.sniff(make_7z(tmp_path / "s.log", {"a": b"x"})) == "7z"
    gz = tmp_path / "auth.log.gz"
    gz.write_bytes(gzip.compress(LOGS["linux/auth.log"]))
    assert archives.sniff(gz) is None  # a gzip log stays a log (the sources read it)


def test_scratch_left_by_a_killed_run_is_removed(tmp_path):
    lake = Lake(tmp_path / "lake")
    dead = lake.spill_dir / "archive-4194305-deadbeef"  # above Linux's pid_max
    dead.mkdir(parents=True)
    (dead / "m1").write_bytes(b"x")
    mine = lake.spill_dir / f"archive-{os.getpid()}-cafe"
    mine.mkdir()
    lake.ingest([make_zip(tmp_path / "a.zip", {"auth.log": LOGS["linux/auth.log"]})])
    assert not dead.exists() and mine.exists()


def test_a_second_member_of_the_same_name_is_refused(tmp_path):
    """``archive!name#line`` must cite one thing."""
    first, second = LOGS["linux/auth.log"], LOGS["linux/spray_auth.log"]
    tar = tmp_path / "same.tar"
    with tarfile.open(tar, "w") as tf:
        for data in (first, second):
            ti = tarfile.TarInfo("var/log/auth.log")
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    zipped = tmp_path / "same.zip"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("var/log/auth.log", first)
        zf.writestr("var/log/auth.log", second)
    for path in (tar, zipped):
        lake = Lake(tmp_path / f"lake-{path.name}")
        res = lake.ingest([path])
        assert [(r.path, r.rows) for r in res[:1]] == [
            (f"{path}!var/log/auth.log", {"authentication": 22})
        ]
        assert quarantine(lake) == [
            (
                f"{path}!var/log/auth.log",
                "a second member of the same name (its citation would be ambiguous): not read",
            )
        ]
