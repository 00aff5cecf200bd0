"""One work and memory budget per top-level file (issue 14): bombs end bounded in time and
memory, and an exceeded budget is an error on the file, never a silent clean."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import tarfile
import time
import tracemalloc
import zipfile
import zlib

from crownwatch.scan import budget as bmod
from crownwatch.scan.budget import Budget, Limits
from crownwatch.scan.pickle_vm import walk
from crownwatch.scan.scanner import scan_bytes, scan_file

from .conftest import worst
from .pkw import SHELL, P, evil

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def raw_zip(members: list[tuple[str, int, int, int, bytes]]) -> bytes:
    """A zip from already-compressed members: (name, method, crc, size, compressed bytes)."""
    out, cd = bytearray(), bytearray()
    for name, method, crc, usize, comp in members:
        nb = name.encode()
        off = len(out)
        out += struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0, crc, len(comp), usize, len(nb), 0
        )
        out += nb + comp
        cd += struct.pack(
            "<IHHHHHHIIIHHHHHII",
            *(0x02014B50, 20, 20, 0, method, 0, 0, crc, len(comp), usize, len(nb)),
            *(0, 0, 0, 0, 0, off),
        )
        cd += nb
    n = len(members)
    return bytes(out + cd + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, n, n, len(cd), len(out), 0))


def deflate(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def nested_zip_bomb(levels: int = 4, fan: int = 16, leaf: int = 1 << 20) -> bytes:
    """42.zip's shape: zips of zips, ``fan`` wide and ``levels`` deep; fan**levels leaves."""
    zeros = bytes(leaf)
    leaf_c = deflate(zeros)
    data = raw_zip([(f"{i}.bin", 8, zlib.crc32(zeros), leaf, leaf_c) for i in range(fan)])
    for lv in range(levels - 1):
        comp = deflate(data)
        crc = zlib.crc32(data)
        data = raw_zip([(f"l{lv}_{i}.zip", 8, crc, len(data), comp) for i in range(fan)])
    return data


def gzip_of_zeros(gib: int = 1) -> bytes:
    """A real gzip file of ``gib`` GiB of zeros (about 1 MB per GiB), made in a blink: after a
    full flush deflate's output for the same input repeats, so one 16 MiB block is reused."""
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(bytes(16 << 20)) + co.flush(zlib.Z_FULL_FLUSH)
    end = co.flush()
    n = 64 * gib
    crc = 0x5B64C2B0 if gib == 1 else 0  # crc32 of 1 GiB of zeros
    return (
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
        + block * n
        + end
        + struct.pack("<II", crc, (n << 24) & 0xFFFFFFFF)
    )


def _measure(fn):
    tracemalloc.start()
    t = time.perf_counter()
    try:
        out = fn()
        return out, time.perf_counter() - t, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_42_zip_style_nesting_is_bounded():
    data = nested_zip_bomb()  # 17 KB, 65,536 leaves of 1 MiB (64 GiB), 4,369 zips
    assert len(data) < 64 << 10
    b = Budget()
    res, elapsed, peak = _measure(lambda: scan_bytes(data, "42.zip", budget=b))
    assert elapsed < 60, elapsed
    assert peak < 256 << 20, peak
    assert len(res) <= bmod.DEFAULT_LIMITS.results
    top = res[0]
    assert top.verdict == "error"  # not a silent clean
    assert any(i.kind == "scan.budget_exceeded" for i in top.issues)
    assert b.unpacked <= bmod.DEFAULT_LIMITS.unpacked_bytes


def test_gzip_of_a_gib_of_zeros_is_bounded():
    data = gzip_of_zeros()  # 1 MB on disk, 1 GiB inflated
    assert len(data) < 2 << 20
    res, elapsed, peak = _measure(lambda: scan_bytes(data, "weights.pkl.gz"))
    assert elapsed < 30, elapsed
    assert peak < 256 << 20, peak  # was 1.67 GB
    r = res[0]
    assert r.verdict != "clean"
    assert any(i.kind == "archive.bomb" for i in r.issues)


def test_gzip_bomb_peak_rss_in_a_fresh_process(tmp_path):
    p = tmp_path / "weights.pkl.gz"
    p.write_bytes(gzip_of_zeros())
    code = (
        "import resource, sys, json\n"
        "from crownwatch.scan.cli import run\n"
        "rc = run([sys.argv[1]], 'json')\n"
        "print(json.dumps({'rc': rc, 'rss_kb': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "src"))
    t = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, str(p)], capture_output=True, text=True, env=env, timeout=120
    )
    assert out.returncode == 0, out.stderr
    last = json.loads(out.stdout.strip().splitlines()[-1])
    assert last["rc"] == 1  # suspicious (a bomb), not clean
    # was 1.67 GB; measured 0.3-0.7 GB depending on the allocator's timing (the full
    # suite on a loaded 2-core machine saw 686 MB), so the bound is a regression
    # guard, not the target (tracemalloc's 256 MiB bound above is the precise one)
    assert last["rss_kb"] < 1024 * 1024, last
    assert time.perf_counter() - t < 60


def test_pickle_header_then_zeros_gzip_is_bounded():
    # a pickle that claims a 1 GiB byte string, gzip-compressed: decompression must stop
    head = b"\x80\x04\x8e" + struct.pack("<Q", 1 << 30)
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    body = co.compress(head)
    chunk = bytes(16 << 20)
    for _ in range(16):
        body += co.compress(chunk)
    body += co.flush()
    res, elapsed, peak = _measure(lambda: scan_bytes(body, "m.pkl.gz"))
    assert elapsed < 30 and peak < 256 << 20
    assert res[0].verdict != "clean"


def test_total_unpacked_bytes_budget_stops_with_error_and_keeps_findings():
    members = {"a_evil.pkl": evil(proto=2)}
    for i in range(6):
        members[f"b{i}.pkl"] = P(4).by(os.urandom(200_000)).op(b".").bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for k, v in members.items():
            z.writestr(k, v)
    b = Budget(Limits(unpacked_bytes=500_000))
    res = scan_bytes(buf.getvalue(), "a.zip", budget=b)
    top = res[0]
    assert top.error and any(i.kind == "scan.budget_exceeded" for i in top.issues)
    assert "bytes" in next(i.detail for i in top.issues if i.kind == "scan.budget_exceeded")
    assert worst(res) == "malicious"  # the member seen before the stop still counts
    assert b.unpacked <= 500_000 + 1


def test_member_and_result_budgets():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for i in range(50):
            ti = tarfile.TarInfo(f"m{i}.txt")
            ti.size = 3
            tf.addfile(ti, io.BytesIO(b"abc"))
    res = scan_bytes(buf.getvalue(), "t.tar", budget=Budget(Limits(members=20)))
    assert len(res) <= 21 and res[0].verdict == "error"
    assert "members" in res[0].issues[-1].detail
    res = scan_bytes(buf.getvalue(), "t.tar", budget=Budget(Limits(results=10)))
    assert len(res) <= 10 and res[0].verdict == "error"


def test_time_budget_stops_a_long_pickle_walk():
    data = b"\x80\x04" + b"N0" * 3_000_000 + b"."  # 6M opcodes: seconds of walking
    t = time.perf_counter()
    res = scan_bytes(data, "slow.pkl", budget=Budget(Limits(seconds=0.05)))
    assert time.perf_counter() - t < 5
    assert res[0].verdict == "error"
    assert any("longer than" in i.detail for i in res[0].issues)


def test_budget_is_per_top_level_file(tmp_path, monkeypatch):
    monkeypatch.setattr(bmod, "DEFAULT_LIMITS", Limits(unpacked_bytes=300_000))
    for i in range(3):
        data = zlib.compress(P(4).by(os.urandom(200_000)).op(b".").bytes())
        (tmp_path / f"m{i}.joblib").write_bytes(data)
    for i in range(3):
        r = scan_file(str(tmp_path / f"m{i}.joblib"))
        assert [x.verdict for x in r] == ["clean"], r[0].to_dict()


def test_huge_text_values_are_not_decoded_whole():
    # 3 MB of ASCII plus one emoji would decode to a 12 MB str; only a prefix is kept
    s = ("a" * (3 << 20) + "\U0001f600").encode()
    data = b"\x80\x04\x8d" + struct.pack("<Q", len(s)) + s + b"."
    w = walk(data)
    assert w.complete and len(w.top) < (1 << 20) + 64


def test_budgeted_malicious_tail_still_caught_before_the_stop():
    data = evil(proto=2) + b"\x80\x04" + b"N0" * 100 + b"."
    res = scan_bytes(data, "m.pkl", budget=Budget(Limits(seconds=30)))
    assert res[0].verdict == "malicious" and SHELL in " ".join(i.detail for i in res[0].issues)
