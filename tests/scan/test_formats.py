"""Non-pickle formats: safetensors, GGUF, ONNX, SavedModel, Keras, HDF5, NumPy, real fixtures."""

from __future__ import annotations

import base64
import io
import json
import os
import struct
import zipfile

import pytest

from crownwatch.scan import scan_paths
from crownwatch.scan.scanner import scan_bytes, scan_file

from .conftest import FIXTURES, scan1, worst
from .pkw import MARKER, PY, SHELL, evil

# --- tiny writers ---------------------------------------------------------------------------------


def safetensors(header: dict, data: bytes = b"", raw_header: bytes | None = None) -> bytes:
    h = raw_header if raw_header is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def _vint(n: int) -> bytes:
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def pb(fno: int, value) -> bytes:
    if isinstance(value, int):
        return _vint(fno << 3) + _vint(value)
    if isinstance(value, str):
        value = value.encode()
    return _vint((fno << 3) | 2) + _vint(len(value)) + value


def onnx_model(
    nodes: list[tuple[str, str]], locations: list[str] = (), opset_domains=("",)
) -> bytes:
    graph = b""
    for op, dom in nodes:
        graph += pb(1, pb(1, "x") + pb(2, "y") + pb(4, op) + (pb(7, dom) if dom else b""))
    for i, loc in enumerate(locations):
        t = (
            pb(1, 4)
            + pb(2, 1)
            + pb(8, f"w{i}")
            + pb(13, pb(1, "location") + pb(2, loc))
            + pb(14, 1)
        )
        graph += pb(5, t)
    graph += pb(2, "g")
    m = pb(1, 8) + pb(2, "pytorch") + pb(3, "2.13")
    m += pb(7, graph)
    for d in opset_domains:
        m += pb(8, pb(1, d) + pb(2, 17))
    return m


def saved_model(ops: list[str], fn_ops: list[str] = ()) -> bytes:
    graph = b"".join(pb(1, pb(1, f"n{i}") + pb(2, op)) for i, op in enumerate(ops))
    if fn_ops:
        fdef = pb(1, pb(1, "f")) + b"".join(pb(3, pb(1, "fn") + pb(2, op)) for op in fn_ops)
        graph += pb(2, pb(1, fdef))
    meta = pb(2, graph)
    return pb(1, 1) + pb(2, meta)


def gguf(kv: dict, tensors: int = 0) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", 3, tensors, len(kv))
    for k, v in kv.items():
        kb = k.encode()
        out += struct.pack("<Q", len(kb)) + kb
        if isinstance(v, str):
            vb = v.encode()
            out += struct.pack("<IQ", 8, len(vb)) + vb
        elif isinstance(v, list):
            out += struct.pack("<IIQ", 9, 8, len(v))
            for s in v:
                sb = s.encode()
                out += struct.pack("<Q", len(sb)) + sb
        else:
            out += struct.pack("<II", 4, v)
    return out


def keras_zip(config: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("config.json", json.dumps(config))
        z.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        z.writestr("model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    return buf.getvalue()


def dense(name="dense"):
    return {
        "module": "keras.layers",
        "class_name": "Dense",
        "config": {"name": name, "units": 2, "activation": "relu"},
        "registered_name": None,
    }


def seq(*layers):
    return {
        "module": "keras",
        "class_name": "Sequential",
        "config": {"name": "s", "layers": list(layers)},
        "registered_name": None,
    }


# --- safetensors ----------------------------------------------------------------------------------


def test_safetensors_valid_and_invalid():
    ok = safetensors(
        {
            "w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
            "__metadata__": {"format": "pt"},
        },
        b"\x00" * 16,
    )
    r = scan1(ok, "m.safetensors")
    assert r.format == "safetensors" and r.verdict == "clean" and not r.issues
    wrong_size = safetensors(
        {"w": {"dtype": "F32", "shape": [4, 4], "data_offsets": [0, 16]}}, b"\x00" * 16
    )
    assert scan1(wrong_size).verdict == "suspicious"
    past_end = safetensors(
        {"w": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 1 << 40]}}, b"\x00" * 16
    )
    assert scan1(past_end).verdict == "suspicious"
    overlap = safetensors(
        {
            "a": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]},
            "b": {"dtype": "U8", "shape": [8], "data_offsets": [4, 12]},
        },
        b"\x00" * 12,
    )
    assert any(i.kind == "safetensors.overlap" for i in scan1(overlap).issues)
    bad_dtype = safetensors(
        {"w": {"dtype": "PYOBJ", "shape": [1], "data_offsets": [0, 1]}}, b"\x00"
    )
    assert scan1(bad_dtype).verdict == "suspicious"
    bad_meta = safetensors({"__metadata__": {"a": 1}})
    assert scan1(bad_meta).verdict == "suspicious"
    oversized = struct.pack("<Q", 200_000_000) + b'{"' + b"\x00" * 64
    r = scan1(oversized, "big.safetensors")
    assert r.format in ("safetensors", "unknown")
    huge = struct.pack("<Q", 200_000_000) + b'{"' + b" " * 64
    assert scan1(huge).verdict in (
        "clean",
        "malicious",
    )  # header longer than file: not sniffed or flagged
    bad_json = safetensors({}, raw_header=b'{"w": [1, 2')
    assert scan1(bad_json).verdict == "suspicious"


# --- GGUF -----------------------------------------------------------------------------------------

BENIGN_TEMPLATE = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>' + message['content'] }}"
    "{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
EVIL_TEMPLATES = [
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{% for c in [].__class__.__base__.__subclasses__() %}{% if c.__name__ == 'catch_warnings' %}"
    "{{ c()._module.__builtins__['__import__']('os').popen('" + SHELL + "').read() }}"
    "{% endif %}{% endfor %}",
    "{{ cycler.__init__.__globals__.os.popen('" + SHELL + "').read() }}",
    "{{ self._TemplateReference__context.joiner.__init__.__globals__.os.popen('" + SHELL + "') }}",
    "{{ (lipsum|attr('__globals__')).os.popen('" + SHELL + "') }}",
]


def test_gguf_templates():
    ok = gguf(
        {
            "general.architecture": "llama",
            "tokenizer.chat_template": BENIGN_TEMPLATE,
            "tokenizer.ggml.tokens": ["a", "b", "c"],
            "general.alignment": 32,
        }
    )
    r = scan1(ok, "m.gguf")
    assert r.format == "gguf" and r.verdict == "clean", r.to_dict()
    for tpl in EVIL_TEMPLATES:
        r = scan1(gguf({"tokenizer.chat_template": tpl}), "m.gguf")
        assert r.verdict == "malicious", tpl
    r = scan1(gguf({"tokenizer.chat_template.tool_use": EVIL_TEMPLATES[0]}), "m.gguf")
    assert r.verdict == "malicious"


def test_gguf_malformed():
    assert (
        scan1(b"GGUF" + struct.pack("<IQQ", 3, 1 << 50, 1 << 50), "m.gguf").verdict == "suspicious"
    )
    bad_len = b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + struct.pack("<Q", 1 << 62) + b"k"
    assert scan1(bad_len, "m.gguf").verdict == "suspicious"
    full = gguf({"a": "b" * 50, "c": 7})
    for i in range(4, len(full)):
        scan1(full[:i], "m.gguf")


# --- ONNX -----------------------------------------------------------------------------------------


def test_onnx():
    ok = onnx_model(
        [("MatMul", ""), ("Relu", ""), ("FusedMatMul", "com.microsoft")], ["weights.bin"]
    )
    r = scan1(ok, "m.onnx")
    assert r.format == "onnx" and r.verdict == "clean", r.to_dict()
    for loc in ("../../../etc/passwd", "/etc/shadow", "..\\..\\windows\\win.ini", "C:/secrets.txt"):
        r = scan1(onnx_model([("Add", "")], [loc]), "m.onnx")
        assert r.verdict == "malicious", loc
    r = scan1(
        onnx_model([("EvilOp", "com.attacker")], opset_domains=("", "com.attacker")), "m.onnx"
    )
    assert r.verdict == "suspicious"
    assert any(i.kind == "onnx.custom_domain" for i in r.issues)
    scan1(ok[: len(ok) // 2], "cut.onnx")  # truncated: no crash


def test_onnx_extension_free_sniff(tmp_path):
    p = tmp_path / "model.bin"
    p.write_bytes(onnx_model([("Add", "")], ["../x"]))
    assert scan_file(str(p))[0].format == "onnx"


def test_onnx_external_data_symlink(tmp_path):
    os.symlink("/etc/hostname", tmp_path / "w.bin")
    p = tmp_path / "m.onnx"
    p.write_bytes(onnx_model([("Add", "")], ["w.bin"]))
    assert scan_file(str(p))[0].verdict == "malicious"


# --- SavedModel -----------------------------------------------------------------------------------


def test_savedmodel(tmp_path):
    d = tmp_path / "sm"
    d.mkdir()
    (d / "saved_model.pb").write_bytes(
        saved_model(["Placeholder", "MatMul", "SaveV2", "RestoreV2"])
    )
    assert worst(scan_paths([str(d)])) == "clean"
    (d / "saved_model.pb").write_bytes(saved_model(["Placeholder"], fn_ops=["EagerPyFunc"]))
    r = scan_paths([str(d)])[0]
    assert r.format == "savedmodel" and r.verdict == "malicious"
    (d / "saved_model.pb").write_bytes(saved_model(["ReadFile", "WriteFile"]))
    assert scan_paths([str(d)])[0].verdict == "malicious"
    (d / "saved_model.pb").write_bytes(b"\x0a\xff\xff\xff")
    assert scan_paths([str(d)])[0].verdict in ("clean", "error")


# --- Keras ----------------------------------------------------------------------------------------


def test_keras_archive():
    r = scan1(keras_zip(seq(dense())), "m.keras")
    assert r.format == "keras" and r.verdict == "clean", r.to_dict()
    code = base64.b64encode(b"\xe3\x00\x00\x00os\x00system\x00" + SHELL.encode()).decode()
    lam = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "registered_name": None,
        "config": {"name": "l", "function": {"class_name": "__lambda__", "config": {"code": code}}},
    }
    r = scan1(keras_zip(seq(dense(), lam)), "m.keras")
    assert r.verdict == "malicious"
    ref = {
        "module": "os",
        "class_name": "function",
        "config": "system",
        "registered_name": "function",
    }
    r = scan1(keras_zip(seq({**dense(), "config": {"activation": ref}})), "m.keras")
    assert r.verdict == "malicious"
    ref = {
        "module": "keras.utils",
        "class_name": "function",
        "config": "get_file",
        "registered_name": "function",
    }
    assert (
        scan1(keras_zip(seq({**dense(), "config": {"activation": ref}})), "m.keras").verdict
        == "malicious"
    )
    custom = {
        "module": "mylab.layers",
        "class_name": "Fancy",
        "config": {},
        "registered_name": "mylab>Fancy",
    }
    assert scan1(keras_zip(seq(custom)), "m.keras").verdict == "suspicious"


def test_keras_h5_model_config():
    cfg = {
        "class_name": "Sequential",
        "config": {
            "layers": [
                {
                    "class_name": "Lambda",
                    "config": {
                        "function": [
                            base64.b64encode(b"\xe3eval" + PY.encode()).decode(),
                            None,
                            None,
                        ],
                        "function_type": "lambda",
                    },
                }
            ]
        },
    }
    blob = b"\x89HDF\r\n\x1a\n" + b"\x00" * 200 + json.dumps(cfg).encode() + b"\x00" * 50
    r = scan1(blob, "m.h5")
    assert r.format == "h5" and r.verdict == "malicious"
    ok = {
        "class_name": "Sequential",
        "config": {"layers": [{"class_name": "Dense", "config": {"units": 1}}]},
    }
    blob = b"\x89HDF\r\n\x1a\n" + b"\x00" * 200 + json.dumps(ok).encode() + b"\x00" * 50
    assert scan1(blob, "m.h5").verdict == "clean"


# --- NumPy ----------------------------------------------------------------------------------------


def npy(descr: str, body: bytes, shape=(1,)) -> bytes:
    hdr = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    hdr += b" " * (63 - (10 + len(hdr)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + body


def test_numpy_object_array_payload():
    r = scan1(npy("|O", evil(proto=2)), "x.npy")
    assert r.format == "numpy" and r.verdict == "malicious"
    r = scan1(npy("<f4", b"\x00" * 4), "x.npy")
    assert r.verdict == "clean"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a.npy", npy("<f8", b"\x00" * 8))
        z.writestr("b.npy", npy("|O", evil(proto=2)))
    res = scan_bytes(buf.getvalue(), "x.npz")
    assert res[0].format == "npz" and res[0].verdict == "malicious"
    bad = b"\x93NUMPY\x01\x00" + struct.pack("<H", 20) + b"__import__('os')    "
    assert scan1(bad, "x.npy").verdict == "error"  # never evaluated; the header is unreadable


# --- the real benign checkpoints --------------------------------------------------------------------


def test_real_benign_fixtures_are_clean():
    results = scan_paths([FIXTURES], workers=1)
    assert len([r for r in results if "!" not in r.path]) >= 19
    bad = [r.to_dict() for r in results if r.verdict != "clean"]
    assert not bad, bad
    fmt = {os.path.basename(r.path): r.format for r in results}
    assert fmt["torch_state_dict.pt"] == "pytorch-zip"
    assert fmt["pytorch_model.bin"] == "pytorch-zip"
    assert fmt["torch_legacy.pt"] == "pytorch-legacy"
    assert fmt["torchscript.pt"] == "torchscript"
    assert fmt["sklearn_logreg.joblib"] == "joblib"
    assert fmt["sklearn_pipeline_zlib.joblib"] == "joblib"
    assert fmt["sklearn_pipeline.joblib.xz"] == "joblib"
    assert fmt["arrays.npz"] == "npz"
    assert fmt["numpy_object.npy"] == "numpy"
    whole = next(r for r in results if r.path.endswith("torch_whole_model.pt"))
    assert any(i.kind == "pickle.custom_class" and i.severity == "info" for i in whole.issues)


@pytest.mark.parametrize(
    "name",
    [
        "torch_state_dict.pt",
        "torch_legacy.pt",
        "sklearn_rf_obj.joblib",
        "torchscript.pt",
        "numpy_pickle_p5.pkl",
    ],
)
def test_real_fixture_truncations_never_crash(name):
    with open(os.path.join(FIXTURES, name), "rb") as fh:
        data = fh.read()
    for cut in range(0, len(data), max(1, len(data) // 60)):
        for r in scan_bytes(data[:cut], name):
            assert r.verdict in ("clean", "suspicious", "malicious", "error")


def test_pandas_pickles_are_clean():
    pd = pytest.importorskip("pandas")
    import pickle

    df = pd.DataFrame(
        {
            "a": [1, 2],
            "b": ["x", "y"],
            "t": pd.to_datetime(["2024-01-01", "2024-01-02"]),
            "c": pd.Categorical(["u", "v"]),
        }
    )
    objs = [
        df,
        pd.Series([1.5, 2.5]),
        {
            "ts": pd.Timestamp("2024-01-01"),
            "td": pd.Timedelta("1D"),
            "nat": pd.NaT,
            "per": pd.Period("2024-01", "M"),
        },
    ]
    for proto in (2, 4, 5):
        for obj in objs:
            r = scan1(pickle.dumps(obj, protocol=proto))
            assert r.verdict == "clean", [i.detail for i in r.issues]
    bad = evil("pandas", "HDFStore", MARKER)
    assert scan1(bad).verdict == "malicious"


def test_gguf_real_world_templates_are_clean():
    templates = [
        "{% set ns = namespace(found=false) %}{% for m in messages %}{% if m['role'] == 'system' %}"
        "{% set ns.found = true %}{% endif %}{% endfor %}{{ bos_token }}",
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}",
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] | trim "
        "+ '<|im_end|>\\n'}}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}",
        "You are a helpful assistant running on macOS. The system (you) answers. {{ messages | tojson }}",
    ]
    for tpl in templates:
        r = scan1(
            gguf({"tokenizer.chat_template": tpl, "tokenizer.ggml.tokens": ["a"] * 1000}), "m.gguf"
        )
        assert r.verdict == "clean", (tpl, r.to_dict())


def test_truncations_are_errors_not_suspicious():
    # a truncated file could not be scanned completely: error (exit 2), neither clean nor a finding
    full = gguf({"general.architecture": "llama", "tokenizer.chat_template": BENIGN_TEMPLATE})
    r = scan1(full[:-10], "m.gguf")
    assert r.verdict == "error" and any(i.kind == "gguf.truncated" for i in r.issues)
    ok = onnx_model([("MatMul", ""), ("Relu", "")], ["w.bin"])
    assert scan1(ok[:-5], "m.onnx").verdict == "error"
    assert scan1(b"\x08\x03\x12\xff\xff\xff\xff\x0f" + bytes(10), "x.bin").format == "unknown"


def test_torchscript_context_still_denies_torch_jit_load():
    import io as _io
    import zipfile as _zf

    buf = _io.BytesIO()
    with _zf.ZipFile(buf, "w") as z:
        z.writestr("m/data.pkl", evil("torch.jit", "load", MARKER))
        z.writestr("m/constants.pkl", b"\x80\x02).")
        z.writestr("m/version", b"8\n")
        z.writestr("m/code/__torch__/m.py", "def forward(self, x):\n  return x\n")
    assert scan1(buf.getvalue(), "ts.pt").verdict == "malicious"


def test_numpy_function_references_are_clean():
    import pickle

    import numpy as np

    for proto in (2, 4):
        r = scan1(
            pickle.dumps(
                {"f": np.log1p, "g": np.mean, "t": np.float64, "d": np.dtype("f4")}, protocol=proto
            )
        )
        assert r.verdict == "clean", r.to_dict()
    assert scan1(evil("numpy", "load", MARKER)).verdict == "malicious"
