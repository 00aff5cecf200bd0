"""Archives: zip tricks (mismatched names, flags, CRC), 7z, tar, nesting, bombs, traversal."""

from __future__ import annotations

import io
import os
import pickle
import shutil
import struct
import tarfile
import time
import zipfile
import zlib

import py7zr
import pytest

from crownwatch.scan.scanner import scan_bytes, scan_file

from .conftest import FIXTURES, worst
from .pkw import evil


def make_zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def patch_local_name(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new)
    i = data.index(b"PK\x03\x04")
    j = data.index(old, i)
    return data[:j] + new + data[j + len(old) :]


def set_flags(data: bytes, flags: int, local=True, central=True) -> bytes:
    b = bytearray(data)
    if local:
        i = b.index(b"PK\x03\x04")
        b[i + 6 : i + 8] = struct.pack("<H", flags)
    if central:
        i = b.index(b"PK\x01\x02")
        b[i + 8 : i + 10] = struct.pack("<H", flags)
    return bytes(b)


def torch_zip(payload: bytes, member: str = "archive/data.pkl", extra: dict | None = None) -> bytes:
    members = {
        "archive/data.pkl": pickle.dumps({"w": 1}, protocol=2),
        "archive/byteorder": b"little",
        "archive/version": b"3\n",
        "archive/data/0": b"\x00" * 64,
    }
    members[member] = payload
    members.update(extra or {})
    return make_zip(members)


def test_zip_with_malicious_pickle_member_is_reported_as_member():
    res = scan_bytes(make_zip({"model.pkl": evil(), "README.txt": b"hello"}), "a.zip")
    paths = {r.path: r for r in res}
    assert paths["a.zip!model.pkl"].verdict == "malicious"
    assert paths["a.zip!README.txt"].verdict == "clean"
    assert paths["a.zip"].format == "zip"


def test_torch_zip_payload_in_any_member():
    for member in (
        "archive/data.pkl",
        "archive/data/0",
        "archive/extra/config.pkl",
        "archive/.data/x",
    ):
        res = scan_bytes(torch_zip(evil(proto=2), member), "model.pt")
        assert res[0].format == "pytorch-zip"
        assert worst(res) == "malicious", member
    assert worst(scan_bytes(torch_zip(pickle.dumps({"ok": 1}, protocol=2)), "model.pt")) == "clean"


def test_local_central_name_mismatch_is_still_scanned():
    data = torch_zip(evil(proto=2))
    bad = patch_local_name(data, b"archive/data.pkl", b"archive/data.pkX")
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(bad)).read("archive/data.pkl")
    res = scan_bytes(bad, "model.pt")
    kinds = {i.kind for r in res for i in r.issues}
    assert "zip.name_mismatch" in kinds
    assert worst(res) == "malicious"


def test_encryption_flag_on_plain_member():
    data = set_flags(make_zip({"archive/data.pkl": evil(proto=2), "archive/version": b"3"}), 0x1)
    res = scan_bytes(data, "model.pt")
    assert worst(res) == "malicious"
    assert any(i.kind == "zip.flags" for r in res for i in r.issues)
    benign = set_flags(
        make_zip({"archive/data.pkl": pickle.dumps(1, protocol=2), "archive/version": b"3"}), 0x1
    )
    assert worst(scan_bytes(benign, "model.pt")) == "suspicious"  # the anomaly alone


def test_bad_crc_member():
    data = bytearray(make_zip({"x.pkl": evil(proto=2)}))
    i = data.index(b"PK\x01\x02")
    data[i + 16 : i + 20] = b"\xde\xad\xbe\xef"
    j = data.index(b"PK\x03\x04")
    data[j + 14 : j + 18] = b"\xde\xad\xbe\xef"
    res = scan_bytes(bytes(data), "a.zip")
    assert any(i.kind == "zip.bad_crc" for r in res for i in r.issues)
    assert worst(res) == "malicious"


def test_zip_without_central_directory():
    data = make_zip({"x.pkl": evil(proto=2)}, zipfile.ZIP_DEFLATED)
    cut = data[: data.index(b"PK\x01\x02")]
    res = scan_bytes(cut, "a.zip")
    assert worst(res) == "malicious"


def test_deflated_members_and_prepended_data():
    data = b"#!/bin/sh\nexit 0\n" + make_zip({"a/b.pkl": evil(proto=4)}, zipfile.ZIP_DEFLATED)
    res = scan_bytes(data, "x.bin")
    assert worst(res) == "malicious" or worst(scan_bytes(data[17:], "x.zip")) == "malicious"


def test_7z_wrapped_pickle(tmp_path):
    p = tmp_path / "m.7z"
    with py7zr.SevenZipFile(p, "w") as z:
        z.writestr(evil(), "inner/model.pkl")
        z.writestr(b"benign text", "notes.txt")
    res = scan_file(str(p))
    assert res[0].format == "7z"
    by = {r.path.split("!", 1)[-1]: r for r in res}
    assert by["inner/model.pkl"].verdict == "malicious"
    assert not list(tmp_path.glob("inner"))  # nothing extracted next to the archive


def test_tar_members_links_and_traversal():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (
            ("ok/model.pkl", pickle.dumps([1], protocol=2)),
            ("../../evil.pkl", evil()),
        ):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
        link = tarfile.TarInfo("ok/link")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../../etc/passwd"
        tf.addfile(link)
    res = scan_bytes(buf.getvalue(), "bundle.tar")
    by = {r.path: r for r in res}
    assert by["bundle.tar!ok/model.pkl"].verdict == "clean"
    assert by["bundle.tar!../../evil.pkl"].verdict == "malicious"
    assert any(i.kind == "archive.path_traversal" for i in by["bundle.tar!../../evil.pkl"].issues)
    assert any(i.kind == "archive.link_escape" for i in by["bundle.tar!ok/link"].issues)


def test_nested_archives_paths():
    inner_tar = io.BytesIO()
    with tarfile.open(fileobj=inner_tar, mode="w:gz") as tf:
        d = evil()
        ti = tarfile.TarInfo("x.pkl")
        ti.size = len(d)
        tf.addfile(ti, io.BytesIO(d))
    outer = make_zip({"inner.tar.gz": inner_tar.getvalue()})
    res = scan_bytes(outer, "a.zip")
    hit = [r for r in res if r.verdict == "malicious"]
    assert hit and hit[0].path == "a.zip!inner.tar.gz!x.pkl"


def test_zip_traversal_names():
    res = scan_bytes(
        make_zip({"../../../home/u/.bashrc": b"echo hi", "/etc/cron.d/x": b"* * * * *"}), "a.zip"
    )
    assert sum(1 for r in res for i in r.issues if i.kind == "archive.path_traversal") == 2


def test_zip_bomb_is_capped_and_fast():
    big = b"\x00" * (300 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = comp.compress(big) + comp.flush()
    # build a zip by hand around the deflate stream
    name = b"bomb.pkl"
    local = (
        struct.pack(
            "<IHHHHHIIIHH",
            0x04034B50,
            20,
            0,
            8,
            0,
            0,
            zlib.crc32(big),
            len(raw),
            len(big),
            len(name),
            0,
        )
        + name
    )
    cd = (
        struct.pack(
            "<IHHHHHHIIIHHHHHII",
            0x02014B50,
            20,
            20,
            0,
            8,
            0,
            0,
            zlib.crc32(big),
            len(raw),
            len(big),
            len(name),
            0,
            0,
            0,
            0,
            0,
            0,
        )
        + name
    )
    eocd = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(cd), len(local) + len(raw), 0)
    data = local + raw + cd + eocd
    t = time.perf_counter()
    res = scan_bytes(data, "b.zip")
    assert time.perf_counter() - t < 10
    assert any(i.kind == "archive.bomb" for r in res for i in r.issues)


def test_overlapping_entries():
    data = make_zip({"a.pkl": pickle.dumps(1, protocol=2), "b.pkl": pickle.dumps(2, protocol=2)})
    b = bytearray(data)
    cds = [i for i in range(len(b)) if b[i : i + 4] == b"PK\x01\x02"]
    off0 = struct.unpack("<I", b[cds[0] + 42 : cds[0] + 46])[0]
    b[cds[1] + 42 : cds[1] + 46] = struct.pack("<I", off0)
    res = scan_bytes(bytes(b), "o.zip")
    assert any(i.kind in ("archive.bomb", "zip.name_mismatch") for r in res for i in r.issues)


def test_garbage_and_truncated_archives_never_crash():
    import random

    rnd = random.Random(3)
    seeds = [
        make_zip({"a.pkl": evil(), "b/c.npy": b"\x93NUMPY"}, zipfile.ZIP_DEFLATED),
        torch_zip(b"x"),
    ]
    for _ in range(300):
        b = bytearray(rnd.choice(seeds))
        if rnd.random() < 0.5:
            b = b[: rnd.randrange(len(b))]
        for _ in range(rnd.randint(0, 6)):
            if b:
                b[rnd.randrange(len(b))] = rnd.randrange(256)
        for r in scan_bytes(bytes(b), "g.zip"):
            assert r.verdict in ("clean", "suspicious", "malicious", "error")
    assert scan_bytes(b"PK\x03\x04" + b"\xff" * 40, "x.zip")[0].verdict in (
        "clean",
        "error",
        "suspicious",
    )
    assert scan_bytes(b"7z\xbc\xaf\x27\x1c" + b"\x00" * 40, "x.7z")[0].verdict == "error"
    assert scan_bytes(b"\x1f\x8b\x08" + b"\x00" * 20, "x.gz")[0].verdict == "error"


def test_real_torch_checkpoint_tampered(tmp_path):
    src = os.path.join(FIXTURES, "torch_state_dict.pt")
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in members if n.endswith("data.pkl"))
    # append a REDUCE of os.system before the real pickle's STOP is too fiddly: prepend a stacked pickle
    members[name] = evil(proto=2) + members[name]
    out = tmp_path / "tampered.pt"
    out.write_bytes(make_zip(members))
    assert worst(scan_file(str(out))) == "malicious"
    clean = tmp_path / "clean.pt"
    shutil.copy(src, clean)
    assert worst(scan_file(str(clean))) == "clean"


def test_gzip_wrapped_pickle_and_joblib_zlib():
    import gzip

    assert worst(scan_bytes(gzip.compress(evil()), "m.pkl.gz")) == "malicious"
    assert worst(scan_bytes(zlib.compress(evil()), "m.joblib")) == "malicious"
    import lzma

    assert (
        worst(scan_bytes(lzma.compress(evil(), format=lzma.FORMAT_ALONE), "m.joblib"))
        == "malicious"
    )
    assert worst(scan_bytes(lzma.compress(evil()), "m.joblib.xz")) == "malicious"


def _torchscript(code: str) -> bytes:
    return make_zip(
        {
            "m/data.pkl": pickle.dumps({"x": 1}, protocol=2),
            "m/constants.pkl": pickle.dumps((), protocol=2),
            "m/version": b"8\n",
            "m/code/__torch__/model.py": code.encode(),
        }
    )


def test_torchscript_code_checks():
    ok = _torchscript(
        "def forward(self, x: Tensor) -> Tensor:\n  return torch.relu(torch.ops.aten.add(x, 1))\n"
    )
    r = scan_bytes(ok, "ts.pt")[0]
    assert r.format == "torchscript" and r.verdict == "clean", r.to_dict()
    custom = _torchscript("def forward(self, x):\n  return ops.evilns.run(x)\n")
    assert scan_bytes(custom, "ts.pt")[0].verdict == "suspicious"
    reader = _torchscript(
        "def forward(self, x):\n  return torch.from_file('/etc/shadow', True, 100)\n"
    )
    assert scan_bytes(reader, "ts.pt")[0].verdict == "malicious"


def test_real_torchscript_fixture_with_evil_constants(tmp_path):
    src = os.path.join(FIXTURES, "torchscript.pt")
    with zipfile.ZipFile(src) as z:
        members = {n: z.read(n) for n in z.namelist()}
    name = next(n for n in members if n.endswith("constants.pkl"))
    members[name] = evil(proto=2)
    out = tmp_path / "ts.pt"
    out.write_bytes(make_zip(members))
    assert worst(scan_file(str(out))) == "malicious"


def test_pickle_zip_polyglot():
    data = pickle.dumps({"ok": 1}, protocol=2) + make_zip({"x.pkl": evil()})
    res = scan_bytes(data, "poly.pt")
    assert any(i.kind == "format.polyglot" for r in res for i in r.issues)
    assert worst(res) == "malicious"


@pytest.mark.parametrize(
    "filters",
    [
        None,
        [{"id": py7zr.FILTER_LZMA}],
        [{"id": py7zr.FILTER_X86}, {"id": py7zr.FILTER_LZMA2}],
        [{"id": py7zr.FILTER_COPY}],
        [{"id": py7zr.FILTER_BZIP2}],
        [{"id": py7zr.FILTER_DEFLATE}],
    ],
)
def test_7z_codecs_native_and_fallback(filters):
    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", filters=filters) as z:
        z.writestr(evil(), "a/evil.pkl")
        z.writestr(pickle.dumps([1, 2], protocol=4), "a/ok.pkl")
        z.writestr(b"", "empty.txt")
    res = scan_bytes(buf.getvalue(), "m.7z")
    by = {r.path: r.verdict for r in res}
    assert by["m.7z!a/evil.pkl"] == "malicious"
    assert by["m.7z!a/ok.pkl"] == "clean"


def test_7z_hostile_headers_never_crash():
    import random

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w") as z:
        z.writestr(evil(), "x.pkl")
    data = buf.getvalue()
    rnd = random.Random(5)
    for _ in range(150):
        b = bytearray(data)
        for _ in range(rnd.randint(1, 3)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        if rnd.random() < 0.3:
            b = b[: rnd.randrange(len(b))]
        for r in scan_bytes(bytes(b), "m.7z"):
            assert r.verdict in ("clean", "suspicious", "malicious", "error")


def test_tensor_bytes_that_look_like_magic_numbers_are_ignored():
    # int64 tensor [93, 0, ...] starts like a raw lzma header; uint8 'x\x9c' like zlib
    for blob in (
        struct.pack("<8q", 93, 0, 0, 0, 0, 0, 0, 0),
        b"x\x9c" + bytes(62),
        b"\x1f\x8b\x08" + bytes(40),
    ):
        res = scan_bytes(torch_zip(blob, "archive/data/0"), "m.pt")
        assert [r.verdict for r in res] == ["clean"], [r.to_dict() for r in res]
    r = scan_bytes(struct.pack("<8q", 93, 0, 0, 0, 0, 0, 0, 0), "weights.raw")[0]
    assert r.verdict == "clean" and r.format == "unknown"


def test_nesting_depth_is_capped():
    data = make_zip({"x.pkl": evil()})
    for i in range(8):
        data = make_zip({f"level{i}.zip": data})
    res = scan_bytes(data, "deep.zip")
    assert any(i.kind == "archive.too_deep" for r in res for i in r.issues)
    assert worst(res) in ("suspicious", "malicious")


@pytest.mark.parametrize("pad", [19, 20])
def test_old_joblib_zf_container(pad):
    for payload, verdict in (
        (pickle.dumps({"a": [1, 2]}, protocol=2), "clean"),
        (evil(), "malicious"),
    ):
        data = b"ZF" + hex(len(payload)).encode().ljust(pad) + zlib.compress(payload)
        r = scan_bytes(data, "old.pkl")[0]
        assert r.verdict == verdict, r.to_dict()


def test_oversize_is_bomb_only_when_ratio_is_extreme(monkeypatch):
    import gzip
    import random

    from crownwatch.scan import archives

    monkeypatch.setattr(archives, "MEMBER_LIMIT", 65536)
    rnd = random.Random(1)
    noisy = pickle.dumps(rnd.randbytes(200_000), protocol=4)
    r = scan_bytes(gzip.compress(noisy), "big.pkl.gz")[0]
    assert r.verdict == "error" and any(i.kind == "archive.too_large" for i in r.issues)
    r = scan_bytes(gzip.compress(b"\x80\x04" + b"N" * 4_000_000 + b"."), "bomb.pkl.gz")[0]
    assert r.verdict == "suspicious" and any(i.kind == "archive.bomb" for i in r.issues)


def test_concatenated_gzip_members_are_all_scanned():
    import gzip

    data = gzip.compress(pickle.dumps({"ok": 1}, protocol=2)) + gzip.compress(evil())
    assert scan_bytes(data, "m.joblib")[0].verdict == "malicious"
