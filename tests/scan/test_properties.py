"""Property-based: whatever is done to real artifacts - bit flips, truncation, splicing, nesting
in archives and compressed streams - the scanner answers within its budget (issue 14)."""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import time
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console

from crownwatch.outputs.sarif import dumps_sarif
from crownwatch.scan.budget import Budget, Limits
from crownwatch.scan.report import print_table, to_json, write_table
from crownwatch.scan.scanner import scan_bytes

from .conftest import FIXTURES
from .pkw import P, evil
from .test_formats import gguf, onnx_model, safetensors

VERDICTS = {"clean", "suspicious", "malicious", "error"}
LIMITS = Limits(unpacked_bytes=64 << 20, members=500, results=500, seconds=10.0)


def _seeds() -> list[tuple[str, bytes]]:
    out = []
    for name in sorted(os.listdir(FIXTURES)):
        with open(os.path.join(FIXTURES, name), "rb") as fh:
            out.append((name, fh.read()))
    out += [
        ("evil.pkl", evil(proto=4)),
        ("evil0.pkl", evil(proto=None)),
        ("dyn.pkl", P(4).call("builtins", "getattr", "x", stack_global=True).stop().bytes()),
        ("m.gguf", gguf({"tokenizer.chat_template": "{{ ''|attr('__cla' ~ 'ss__') }}"})),
        (
            "m.safetensors",
            safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 8),
        ),
        ("m.onnx", onnx_model([("Add", "")], ["w.bin"])),
    ]
    return out


SEEDS = _seeds()


def _zip(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(name, data)
        z.writestr("README", b"hello")
    return buf.getvalue()


def _tar(name: str, data: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


@st.composite
def artifacts(draw) -> tuple[str, bytes]:
    name, data = draw(st.sampled_from(SEEDS))
    b = bytearray(data)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["flip", "byte", "truncate", "splice", "repeat"]))
        if not b:
            break
        i = draw(st.integers(0, len(b) - 1))
        if op == "flip":
            b[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            b[i] = draw(st.integers(0, 255))
        elif op == "truncate":
            del b[i:]
        elif op == "splice":
            other = draw(st.sampled_from(SEEDS))[1]
            j = draw(st.integers(0, len(other)))
            b[i:i] = other[j : j + draw(st.integers(1, 512))]
        else:
            n = draw(st.integers(1, 64))
            b[i:i] = b[i : i + n] * draw(st.integers(2, 50))
    data = bytes(b)
    for _ in range(draw(st.integers(0, 2))):
        wrap = draw(st.sampled_from(["zip", "gzip", "tar", "none"]))
        if wrap == "zip":
            data, name = _zip(name, data), name + ".zip"
        elif wrap == "gzip":
            data, name = gzip.compress(data, compresslevel=1), name + ".gz"
        elif wrap == "tar":
            data, name = _tar(name, data), name + ".tar"
    return name, data


@settings(
    max_examples=200,
    deadline=5000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(artifacts())
def test_scanner_answers_within_budget_whatever_the_input(artifact):
    name, data = artifact
    b = Budget(LIMITS)
    t = time.perf_counter()
    results = scan_bytes(data, name, budget=b)  # must not raise
    elapsed = time.perf_counter() - t
    assert results and results[0].path == name
    for r in results:
        assert r.verdict in VERDICTS
        assert not any(i.kind == "scan.internal_error" for i in r.issues), r.to_dict()
    # within the budget: what was spent is bounded by the limits (or the scan says it stopped)
    stopped = any(i.kind == "scan.budget_exceeded" for i in results[0].issues)
    assert len(results) <= LIMITS.results
    assert b.members <= LIMITS.members + 1
    assert b.unpacked <= LIMITS.unpacked_bytes or stopped
    assert elapsed < LIMITS.seconds + 5
    # every output shape stays valid
    doc = json.loads(to_json(results))
    assert [e["verdict"] for e in doc] == [r.verdict for r in results]
    json.loads(dumps_sarif(results))
    buf = io.StringIO()
    print_table(results, console=Console(file=buf, width=120, force_terminal=True))
    write_table(results, buf, color=True)
    assert "\x1b]" not in buf.getvalue()
