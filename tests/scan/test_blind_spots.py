"""Issue 14's blind spots, one test per entry: each malicious sample carries a payload that
would create the canary marker if it ever ran, each benign one is a real artifact."""

from __future__ import annotations

import os
import pickle

import pytest

from crownwatch.scan import globals_policy as gp
from crownwatch.scan import scan_paths
from crownwatch.scan.scanner import scan_bytes

from .conftest import FIXTURES, scan1
from .pkw import MARKER, PY, SHELL, P, marker_arg

# --- callables that run code or write files in dotted / less-known modules ----------------------
# Each was only "suspicious" (unknown global) before; (module, name, why it is dangerous).
NEWLY_DENIED = [
    ("logging", "FileHandler"),  # FileHandler(path) creates and writes the file
    ("logging.handlers", "RotatingFileHandler"),
    ("logging.handlers", "WatchedFileHandler"),
    ("logging.handlers", "SocketHandler"),  # sends records to a host
    ("logging", "basicConfig"),  # basicConfig(filename=...) writes a file
    ("torch.jit", "CompilationUnit"),  # compiles TorchScript source
    ("torch.jit", "script"),
    ("torch.jit._script", "CompilationUnit"),
    ("torch.jit.unsupported_tensor_ops", "execWrapper"),  # exec() (GHSA-vr7h-p6mm-wpmh)
    ("torch.jit.frontend", "get_jit_def"),
    ("torch._C", "_jit_script_compile"),
    ("torch._C", "import_ir_module"),
    ("torch._C", "_import_ir_module_from_package"),
    ("torch._C", "CompilationUnit"),
    ("torch._C", "_load_for_lite_interpreter"),
    ("torch._C._dynamo.eval_frame", "set_eval_frame"),
    ("torch.fx.graph_module", "_forward_from_src"),
    ("torch.fx.graph_module", "_exec_with_source"),
    ("torch.fx.experimental.symbolic_shapes", "ShapeEnv.evaluate_guards_expression"),
    ("torch.fx.experimental.proxy_tensor", "make_fx"),
    ("torch._dynamo.guards", "GuardBuilder.get"),  # GHSA-86cj-95qr-2p4f
    ("torch._dynamo", "optimize"),
    ("torch._inductor.codecache", "compile_file"),
    ("torch._inductor.codecache", "PyCodeCache.load"),
    ("torch.utils._config_module", "ConfigModule.load_config"),  # GHSA-vv6j-3g6g-2pvj
    ("torch.utils._config_module", "install_config_module"),
    ("torch.utils.bottleneck.__main__", "run_cprofile"),  # GHSA-4r9r-ch6f-vxmx
    ("torch.utils.benchmark", "Timer"),
    ("torch.compiler", "load_compiled_function"),
    ("torch.cuda.jiterator", "_create_jit_fn"),
    ("torch.export", "load"),
    ("pkgutil", "resolve_name"),  # GHSA-vvpj-8cmc-gx39: any module:attribute
    ("imaplib", "IMAP4_stream"),  # runs a shell command
    ("test.support.script_helper", "assert_python_ok"),
    ("site", "addsitedir"),
    ("py_compile", "compile"),
    ("compileall", "compile_file"),
    ("pipes", "Template"),
    ("_pyrepl.console", "InteractiveColoredConsole.runsource"),
    ("_xxsubinterpreters", "run_string"),
    ("copy", "_reconstruct"),
    ("uuid", "_get_command_stdout"),
    ("joblib", "load"),
    ("joblib", "Parallel"),
    ("scipy.io", "savemat"),
    ("mlflow.projects.backend.local", "_run_entry_point"),
    ("transformers", "AutoModel.from_pretrained"),
    ("pandas.core.frame", "DataFrame.to_pickle"),
]


@pytest.mark.parametrize("module,name", NEWLY_DENIED)
@pytest.mark.parametrize("stack_global", [False, True])
def test_newly_denied_callables_are_malicious(module, name, stack_global):
    data = P(4).call(module, name, marker_arg(name), stack_global=stack_global).stop().bytes()
    r = scan1(data)
    assert r.verdict == "malicious", r.to_dict()
    assert any(
        i.kind == "pickle.dangerous_global"
        and f"{module}.{name}" in i.detail
        and i.severity in ("high", "critical")
        for i in r.issues
    ), r.to_dict()


def test_every_new_deny_entry_names_its_reason():
    for key, (severity, reason) in gp.DENY_MODULES.items():
        assert severity in ("high", "critical") and len(reason) >= 8, key


@pytest.mark.parametrize(
    "module,name",
    [
        ("logging", "getLogger"),  # Logger.__reduce__ -> (getLogger, (name,))
        ("torch.jit._pickle", "build_intlist"),  # TorchScript constants
        ("torch.jit._pickle", "restore_type_tag"),
        ("uuid", "UUID"),
        ("torch._C", "Generator"),
        ("sklearn.neighbors._kd_tree", "newObj"),
        ("sklearn.metrics._dist_metrics", "newObj"),
    ],
)
def test_safe_helpers_inside_denied_packages_stay_clean(module, name):
    assert gp.judge(module, name).action == "allow"
    data = P(2).call(module, name, "x").stop().bytes()
    assert scan1(data).verdict == "clean"


def test_safe_override_does_not_cover_attribute_walks():
    # the override is for the plain name only: a dotted walk from it is judged as usual
    assert gp.judge("logging", "getLogger.__globals__").action == "deny"
    assert gp.judge("torch.jit._pickle", "build_intlist.__globals__").action == "deny"


def test_logger_pickled_by_python_is_clean():
    import logging

    for proto in (2, 4):
        r = scan1(pickle.dumps({"log": logging.getLogger("train")}, protocol=proto))
        assert r.verdict == "clean", r.to_dict()


def test_file_handler_with_marker_path_is_malicious():
    # logging.FileHandler(MARKER) would create the marker the moment it is unpickled
    r = scan1(P(2).call("logging", "FileHandler", MARKER).stop().bytes())
    assert r.verdict == "malicious"
    assert not os.path.exists(MARKER)


# --- real scikit-learn objects with Cython reconstructors ------------------------------------------


def test_real_sklearn_neighbors_models_are_clean():
    # KDTree / BallTree / DistanceMetric pickle as newObj(cls); generated by make_fixtures.py
    for name in ("sklearn_neighbors.pkl", "sklearn_knn.joblib"):
        res = scan_paths([os.path.join(FIXTURES, name)], workers=1)
        assert [r.verdict for r in res] == ["clean"], [r.to_dict() for r in res]


def test_sklearn_newobj_still_judges_its_class_argument():
    # newObj(cls) instantiates cls: a dangerous class passed to it is still caught
    p = P(2).g("sklearn.neighbors._kd_tree", "newObj").mark().g("subprocess", "Popen").tuple()
    p.reduce().mark().s(SHELL).tuple().build().stop()
    assert scan1(p.bytes()).verdict == "malicious"
    # ... and an unknown library class is not waved through as the user's own
    p = P(2).g("sklearn.neighbors._kd_tree", "newObj").mark().g("torch.utils.x", "Loader")
    p.tuple().reduce().stop()
    assert scan1(p.bytes()).verdict == "suspicious"


def test_numpy_and_random_reconstructors_are_clean():
    np = pytest.importorskip("numpy")
    obj = {
        "a": np.arange(3),
        "rs": np.random.RandomState(1),
        "g": np.random.default_rng(1),
        "s": np.float32(2),
    }
    for proto in (2, 4, 5):
        assert scan1(pickle.dumps(obj, protocol=proto)).verdict == "clean"


# --- legacy whole-module torch.save: classes delivered by persistent_load --------------------------


def test_real_legacy_whole_model_is_clean():
    # torch.save(nn.Sequential(...), f, _use_new_zipfile_serialization=False)
    res = scan_paths([os.path.join(FIXTURES, "torch_legacy_whole_model.pt")], workers=1)
    assert len(res) == 1 and res[0].format == "pytorch-legacy"
    assert res[0].verdict == "clean", res[0].to_dict()


def test_real_torch_generator_is_clean():
    res = scan_paths([os.path.join(FIXTURES, "torch_generator.pt")], workers=1)
    assert [r.verdict for r in res] == ["clean"], [r.to_dict() for r in res]


def _legacy_module_pickle(module: str, name: str, args: bytes) -> bytes:
    # ("module", <class>, source_file, source) as a persistent id, then NEWOBJ / REDUCE of it
    p = P(2).mark().s("module").g(module, name).s("x.py").s("class X: pass").tuple()
    p.op(b"Q")  # BINPERSID
    return p.raw(args).stop().bytes()


def test_persistent_load_class_is_judged_as_that_class():
    benign = _legacy_module_pickle("torch.nn.modules.linear", "Linear", b")\x81}b")
    assert scan1(benign).verdict == "clean"
    user = _legacy_module_pickle("__main__", "Net", b")\x81}b")
    r = scan1(user)
    assert r.verdict == "clean" and any(i.kind == "pickle.custom_class" for i in r.issues)
    bad = _legacy_module_pickle("os", "system", P(None).s(SHELL).tuple1().reduce().bytes())
    r = scan1(bad)
    assert r.verdict == "malicious" and any("os.system" in i.detail for i in r.issues)
    # a persistent id that is not a ('module', class, ...) record stays an opaque call
    opaque = P(2).s("whatever").op(b"Q").s(SHELL).tuple1().reduce().stop().bytes()
    r = scan1(opaque)
    assert r.verdict == "malicious" and any(i.kind == "pickle.dynamic_call" for i in r.issues)


# --- unscannable is an error, not clean -----------------------------------------------------------


def test_safetensors_header_past_end_is_error():
    import struct

    data = struct.pack("<Q", 5000) + b'{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0,'
    r = scan1(data, "model.safetensors")
    assert r.format == "safetensors" and r.verdict == "error"
    assert any(i.kind == "safetensors.truncated" for i in r.issues)


def test_safetensors_truncated_data_is_error():
    import json
    import struct

    hdr = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    r = scan1(struct.pack("<Q", len(hdr)) + hdr + b"\x00" * 8, "model.safetensors")
    assert r.verdict == "error" and any(i.kind == "safetensors.truncated" for i in r.issues)


@pytest.mark.parametrize(
    "name", ["model.safetensors", "m.gguf", "x.npy", "w.onnx", "m.h5", "m.keras", "m.pkl"]
)
def test_junk_named_like_a_model_is_error(name):
    junk = bytes(range(7, 250)) * 20
    r = scan1(junk, name)
    assert r.verdict == "error", r.to_dict()
    assert any(i.kind == "format.unrecognised" for i in r.issues)
    # the same bytes under a name that promises nothing are simply not a model
    assert scan1(junk, "notes.dat").verdict == "clean"


def test_junk_named_safetensors_that_is_another_format_is_judged_as_that():
    r = scan1(P(2).call("os", "system", SHELL).stop().bytes(), "model.safetensors")
    assert r.format == "pickle" and r.verdict == "malicious"
    r = scan1(pickle.dumps({"w": [1.0]}, protocol=4), "model.safetensors")
    assert r.format == "pickle" and r.verdict == "clean"


def test_truncated_pickle_is_error_and_truncated_payload_still_malicious():
    good = pickle.dumps({"w": list(range(100))}, protocol=4)
    r = scan1(good[: len(good) // 2], "m.pkl")
    assert r.verdict == "error" and any(i.kind == "pickle.truncated" for i in r.issues)
    bad = P(2).call("os", "system", SHELL).bytes()  # no STOP
    assert scan1(bad, "m.pkl").verdict == "malicious"


def test_truncated_gzip_stream_is_error():
    import gzip

    data = gzip.compress(pickle.dumps(list(range(1000)), protocol=4))
    r = scan_bytes(data[: len(data) - 12], "m.pkl.gz")[0]
    assert r.verdict == "error"


def test_python_exec_payload_marker_argument():
    # sanity of the helpers the suite relies on
    assert marker_arg("eval") == PY and marker_arg("system") == SHELL
    assert marker_arg("FileHandler") == MARKER


def test_junk_members_named_like_models_are_errors_inside_archives():
    import io
    import tarfile
    import zipfile

    junk = bytes(range(7, 250)) * 4
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("weights.safetensors", junk)
        z.writestr("notes.txt", junk)
    by = {r.path: r.verdict for r in scan_bytes(buf.getvalue(), "a.zip")}
    assert by["a.zip!weights.safetensors"] == "error" and by["a.zip!notes.txt"] == "clean"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        ti = tarfile.TarInfo("model.pkl")
        ti.size = len(junk)
        tf.addfile(ti, io.BytesIO(junk))
    by = {r.path: r.verdict for r in scan_bytes(buf.getvalue(), "a.tar")}
    assert by["a.tar!model.pkl"] == "error"
