"""Opcode-level pickle analysis: every bypass family has a malicious sample and a benign twin."""

from __future__ import annotations

import pickle
import random
import struct

import pytest

from crownwatch.scan.pickle_vm import walk
from crownwatch.scan.scanner import scan_bytes

from .conftest import scan1, verdict_of
from .pkw import PY, SHELL, P, evil, marker_arg


def kinds(res) -> set[str]:
    return {i.kind for i in res.issues}


# --- direct globals across protocols -----------------------------------------------------------


@pytest.mark.parametrize("proto", [None, 1, 2, 3, 4, 5])
def test_os_system_every_protocol(proto):
    r = scan1(evil(proto=proto))
    assert r.verdict == "malicious"
    assert any("os.system" in i.detail and i.severity == "critical" for i in r.issues)


@pytest.mark.parametrize("proto", [0, 1, 2, 3, 4, 5])
def test_real_benign_pickles_every_protocol(proto):
    import collections
    import datetime

    obj = {
        "a": [1, 2.5, "x", b"y" * 5000, None, True],
        "od": collections.OrderedDict(k=1),
        "t": datetime.datetime(2026, 1, 2, 3, 4, 5),
        "s": {1, 2},
        "fs": frozenset([3]),
        "c": complex(1, 2),
        "big": 2**100,
        "neg": -5,
        "sl": slice(1, 5),
        "ba": bytearray(b"ab"),
    }
    r = scan1(pickle.dumps(obj, protocol=proto))
    assert r.verdict == "clean", r.to_dict()
    assert r.format == "pickle"


def test_stack_global_names_from_memo():
    # 'os' and 'system' are memoized, dropped, then fetched back with GET before STACK_GLOBAL
    p = P(4).s("os").memoize().pop().s("system").memoize().pop()
    p.get(0).get(1).op(b"\x93").s(SHELL).tuple1().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious"
    assert any("os.system" in i.detail for i in r.issues)


def test_stack_global_names_from_memo_benign_twin():
    p = P(4).s("collections").memoize().pop().s("OrderedDict").memoize().pop()
    p.get(0).get(1).op(b"\x93").empty_tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "clean"


def test_global_fetched_back_from_memo_then_called():
    p = P(2).g("subprocess", "check_output").put(3).pop().get(3)
    p.mark().s(SHELL).tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "malicious"


def test_protocol0_text_put_get():
    p = P(None).g("os", "popen").put0(0).pop().get0(0).mark().s0(SHELL).tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "malicious"


def test_stack_global_computed_operands():
    # module name produced by a call: resolved at load time only
    p = (
        P(4)
        .call("codecs", "decode", "bf", "rot13")
        .s("system")
        .op(b"\x93")
        .s(SHELL)
        .tuple1()
        .reduce()
        .stop()
    )
    r = scan1(p.bytes())
    assert r.verdict == "malicious"
    assert "pickle.dynamic_global" in kinds(r)


# --- aliases -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "module,name",
    [
        ("posix", "system"),
        ("nt", "system"),
        ("__builtin__", "eval"),
        ("__builtin__", "execfile"),
        ("_operator", "attrgetter"),
        ("_pickle", "loads"),
        ("cPickle", "loads"),
        ("_io", "FileIO"),
        ("_posixsubprocess", "fork_exec"),
        ("commands", "getoutput"),
        ("__builtin__", "apply"),
        ("exceptions", "eval"),
        ("_codecs", "open"),
        ("__builtin__", "reduce"),
        ("posixpath", "join.__globals__"),
        ("_ctypes", "dlopen"),
        ("_socket", "socket"),
        ("_functools", "reduce"),
    ],
)
def test_aliases_resolve(module, name):
    assert verdict_of(evil(module, name)) == "malicious"


@pytest.mark.parametrize(
    "module,name",
    [
        ("_codecs", "encode"),
        ("__builtin__", "set"),
        ("copy_reg", "_reconstructor"),
        ("__builtin__", "frozenset"),
    ],
)
def test_aliases_benign_twins(module, name):
    p = P(2).g(module, name).mark().s("abc").s("latin1").tuple().op(b"0").none().stop()
    assert verdict_of(p.bytes()) == "clean"


# --- deny list from the advisories ---------------------------------------------------------------

ADVISORY_TARGETS = [
    ("pip", "main"),
    ("pip._internal", "main"),
    ("runpy", "_run_code"),
    ("runpy", "run_path"),
    ("pty", "spawn"),
    ("code", "InteractiveInterpreter.runsource"),
    ("code", "interact"),
    ("cProfile", "run"),
    ("profile", "run"),
    ("timeit", "timeit"),
    ("timeit", "Timer"),
    ("torch.hub", "load"),
    ("torch.hub", "download_url_to_file"),
    ("torch", "load"),
    ("numpy.f2py", "compile"),
    ("numpy.testing._private.utils", "runstring"),
    ("functools", "partial"),
    ("operator", "attrgetter"),
    ("operator", "methodcaller"),
    ("builtins", "getattr"),
    ("builtins", "__import__"),
    ("builtins", "exec"),
    ("builtins", "compile"),
    ("builtins", "open"),
    ("io", "open"),
    ("_io", "FileIO"),
    ("ctypes", "CDLL"),
    ("ctypes", "cdll.LoadLibrary"),
    ("webbrowser", "open"),
    ("asyncio.subprocess", "create_subprocess_shell"),
    ("asyncio", "create_subprocess_exec"),
    ("idlelib.pyshell", "ModifiedInterpreter.runcode"),
    ("idlelib.calltip", "get_entity"),
    ("lib2to3.pgen2.pgen", "generate_grammar"),
    ("distutils.file_util", "write_file"),
    ("distutils.spawn", "spawn"),
    ("bdb", "Bdb.run"),
    ("pdb", "run"),
    ("pydoc", "pipepager"),
    ("venv", "create"),
    ("shutil", "rmtree"),
    ("shutil", "copyfile"),
    ("ssl", "get_server_certificate"),
    ("socket", "create_connection"),
    ("urllib.request", "urlopen"),
    ("requests", "get"),
    ("requests.api", "post"),
    ("http.client", "HTTPSConnection"),
    ("smtplib", "SMTP"),
    ("importlib", "import_module"),
    ("sys", "modules"),
    ("os", "environ"),
    ("subprocess", "Popen"),
    ("multiprocessing", "Process"),
    ("threading", "Thread"),
    ("marshal", "loads"),
    ("types", "FunctionType"),
    ("types", "CodeType"),
    ("dill", "loads"),
    ("yaml", "unsafe_load"),
    ("jinja2", "Template"),
    ("logging.config", "listen"),
    ("torch.fx.graph_module", "reduce_graph_module"),
    ("torch.utils.cpp_extension", "load_inline"),
    ("torch.jit", "load"),
    ("torch.distributed.rpc", "rpc_sync"),
    ("pandas", "read_pickle"),
    ("numpy", "load"),
    ("numpy", "fromfile"),
    ("trace", "Trace.runctx"),
    ("doctest", "debug_script"),
    ("pkgutil", "resolve_name"),
    ("zipimport", "zipimporter"),
    ("tempfile", "mkstemp"),
    ("glob", "glob"),
    ("linecache", "getline"),
    ("platform", "popen"),
    ("uuid", "_get_command_stdout"),
    ("gc", "get_objects"),
    ("signal", "signal"),
    ("atexit", "register"),
    ("sqlite3", "connect"),
    ("tarfile", "open"),
    ("keras.utils", "get_file"),
    ("builtins", "setattr"),
    ("operator", "setitem"),
    ("itertools", "starmap"),
    ("builtins", "map"),
    ("collections", "namedtuple"),
    ("contextlib", "ExitStack"),
]


@pytest.mark.parametrize("module,name", ADVISORY_TARGETS)
@pytest.mark.parametrize("stack_global", [False, True])
def test_advisory_targets_are_malicious(module, name, stack_global):
    data = P(4).call(module, name, marker_arg(name), stack_global=stack_global).stop().bytes()
    r = scan1(data)
    assert r.verdict == "malicious", r.to_dict()
    assert any(i.kind in ("pickle.dangerous_global", "pickle.gadget") for i in r.issues)


def test_dotted_name_walking_through_module_attribute():
    # torch.serialization imports os; protocol 4 resolves dotted names attribute by attribute
    data = P(4).call("torch.serialization", "os.system", SHELL, stack_global=True).stop().bytes()
    r = scan1(data)
    assert r.verdict == "malicious"
    data = P(4).call("collections", "abc.os.system", SHELL, stack_global=True).stop().bytes()
    assert verdict_of(data) == "malicious"
    data = P(4).call("torch", "nn.modules.linear.__builtins__", stack_global=True)
    data = data.s("exec").op(b"\x86").stop().bytes()  # (__builtins__, 'exec'): reaches exec
    assert verdict_of(data) == "malicious"


def test_dotted_class_name_benign_twin():
    p = (
        P(4)
        .sg("torch.nn.modules.linear", "Linear")
        .empty_tuple()
        .newobj()
        .empty_dict()
        .build()
        .stop()
    )
    assert verdict_of(p.bytes()) == "clean"


def test_getattr_import_chain_is_dynamic_call():
    # getattr(__import__('os'), 'system')('id')
    p = (
        P(2)
        .g("builtins", "getattr")
        .mark()
        .g("builtins", "__import__")
        .mark()
        .s("os")
        .tuple()
        .reduce()
    )
    p.s("system").tuple().reduce().mark().s(SHELL).tuple().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious"
    assert {"pickle.dangerous_global", "pickle.dynamic_call"} <= kinds(r)


def test_attrgetter_on_allowed_module_object():
    # operator.attrgetter('system')(<module posixpath's os>) - the callable is a call result
    p = P(2).g("_operator", "attrgetter").mark().s("os.system").tuple().reduce()
    p.mark().g("posixpath", "sep").tuple().reduce().mark().s(SHELL).tuple().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious"
    assert "pickle.dynamic_call" in kinds(r)


def test_functools_partial_wrapping():
    p = P(2).g("functools", "partial").mark().g("os", "system").s(SHELL).tuple().reduce()
    p.empty_tuple().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious"
    assert {"pickle.dangerous_global", "pickle.gadget"} <= kinds(r)


def test_unknown_main_module_execution_name():
    # `from os import *` in the loading script makes __main__.system == os.system
    assert verdict_of(evil("__main__", "system")) == "malicious"


# --- INST / OBJ / NEWOBJ / NEWOBJ_EX / BUILD / EXT ---------------------------------------------


def test_inst_opcode():
    data = P(None).mark().s0(SHELL).inst("os", "system").stop().bytes()
    assert verdict_of(data) == "malicious"
    benign = P(None).mark().inst("collections", "OrderedDict").stop().bytes()
    assert verdict_of(benign) == "clean"


def test_obj_opcode():
    data = P(1).mark().g("subprocess", "Popen").s(SHELL).op(b"o").stop().bytes()
    assert verdict_of(data) == "malicious"
    benign = P(1).mark().g("collections", "OrderedDict").op(b"o").stop().bytes()
    assert verdict_of(benign) == "clean"


def test_newobj_ex_dangerous_class():
    data = (
        P(4)
        .sg("subprocess", "Popen")
        .mark()
        .s(SHELL)
        .tuple()
        .empty_dict()
        .newobj_ex()
        .stop()
        .bytes()
    )
    assert verdict_of(data) == "malicious"


def test_build_on_global_is_tampering():
    # BUILD aimed at a class itself rewrites attributes that run later
    p = (
        P(4)
        .sg("torch.nn.modules.linear", "Linear")
        .none()
        .empty_dict()
        .s("forward")
        .g("os", "system")
    )
    p.setitem().tuple2().build().stop()
    r = scan1(p.bytes())
    assert "pickle.global_tamper" in kinds(r)
    assert r.verdict == "malicious"


def test_ext_code_is_suspicious():
    data = P(2).op(b"\x82\x07").mark().s(SHELL).tuple().reduce().stop().bytes()
    r = scan1(data)
    assert r.verdict == "suspicious"
    assert "pickle.extension_code" in kinds(r)


def test_unknown_callable_is_suspicious_and_user_class_is_info():
    called = P(4).call("mylab.tools", "prepare", SHELL, stack_global=True).stop().bytes()
    r = scan1(called)
    assert r.verdict == "suspicious"
    assert "pickle.unknown_global" in kinds(r)
    # torch.save(model) shape: NEWOBJ of the user's class + BUILD with its state
    p = P(2).g("__main__", "MyNet").put(0).empty_tuple().newobj().put(1).empty_dict()
    p.s("training").op(b"\x88").setitem().s("_modules").g(
        "collections", "OrderedDict"
    ).empty_tuple().reduce()
    p.setitem().build().stop()
    r = scan1(p.bytes())
    assert r.verdict == "clean"
    assert "pickle.custom_class" in kinds(r)
    # protocol-1 style: copyreg._reconstructor(MyNet, object, None)
    p = (
        P(1)
        .g("copy_reg", "_reconstructor")
        .mark()
        .g("mymodels.resnet", "ResNet")
        .g("__builtin__", "object")
        .none()
    )
    p.tuple().reduce().empty_dict().build().stop()
    assert verdict_of(p.bytes()) == "clean"


def test_user_class_called_via_reduce_is_suspicious():
    p = P(2).g("__main__", "MyNet").mark().s(SHELL).tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "suspicious"


def test_library_class_newobj_is_not_user_code():
    # an unknown class in a well-known library is not waved through as "user code"
    p = P(2).g("torch.utils.something", "Loader").empty_tuple().newobj().empty_dict().build().stop()
    assert verdict_of(p.bytes()) == "suspicious"


def test_ufunc_reconstruct_gadget():
    bad = (
        P(2)
        .call("numpy.core", "_ufunc_reconstruct", "os", "system")
        .mark()
        .s(SHELL)
        .tuple()
        .reduce()
        .stop()
    )
    r = scan1(bad.bytes())
    assert r.verdict == "malicious"
    assert "pickle.gadget" in kinds(r)
    good = P(2).call("numpy.core", "_ufunc_reconstruct", "numpy", "add").stop()
    assert verdict_of(good.bytes()) == "clean"


def test_nested_pickle_in_load_from_bytes():
    inner = evil("os", "system", proto=2)
    p = P(2).g("torch.storage", "_load_from_bytes").mark().by(inner).tuple().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious"
    assert any("nested" in i.detail and "os.system" in i.detail for i in r.issues)
    benign_inner = pickle.dumps([1, 2, 3], protocol=2)
    p = P(2).g("torch.storage", "_load_from_bytes").mark().by(benign_inner).tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "clean"


# --- stacked, truncated, hidden ------------------------------------------------------------------


def test_second_pickle_after_stop():
    data = pickle.dumps({"weights": [1, 2]}, protocol=2) + evil(proto=2)
    r = scan1(data)
    assert r.verdict == "malicious"
    assert "pickle.stacked" in kinds(r)
    twin = pickle.dumps({"weights": [1, 2]}, protocol=2) + pickle.dumps("meta", protocol=4)
    assert verdict_of(twin) == "clean"


def test_truncated_pickle_judges_what_precedes():
    full = evil("os", "system", SHELL, proto=2)
    cut = full[:-3]
    r = scan1(cut)
    assert r.verdict == "malicious"
    assert "pickle.truncated" in kinds(r)
    benign = pickle.dumps({"a": list(range(50))}, protocol=2)[:-10]
    r = scan1(benign)
    assert r.verdict == "error"  # what follows the break was never seen: unscannable, not clean
    assert "pickle.truncated" in kinds(r)


def test_pickle_hidden_after_a_broken_one():
    broken = pickle.dumps({"a": list(range(50))}, protocol=2)[:-10]
    data = broken + b"\xff\xfe garbage \x00" + evil(proto=4)
    r = scan1(data)
    assert r.verdict == "malicious"


def test_protocol0_reference_after_garbage_is_found():
    data = pickle.dumps([1, 2], protocol=2)[:-4] + b"\x00\x01" + b"cposix\nsystem\n(S'id'\ntR."
    assert verdict_of(data) == "malicious"


def test_bin_file_that_is_a_pickle():
    r = scan1(evil(), "pytorch_model.bin")
    assert r.format == "pickle" and r.verdict == "malicious"
    r = scan1(evil(), "model.safetensors")
    assert r.format == "pickle" and r.verdict == "malicious"
    assert "format.mismatch" in kinds(r)


def test_frame_opcode_and_protocol5_buffers():
    p = (
        P(5)
        .frame(20)
        .s("x")
        .op(b"\x97")
        .tuple2()
        .op(b"\x96" + struct.pack("<Q", 3) + b"abc")
        .op(b"\x98")
        .tuple2()
        .stop()
    )
    r = scan1(p.bytes())
    assert r.verdict == "clean"


def test_unsupported_protocol_stops():
    # pickle.load refuses protocol 9 before reading on, so what follows never runs; named .pkl
    # it is a pickle that cannot be read (error), under a neutral name just not a model
    data = b"\x80\x09" + evil(proto=None)
    assert scan1(data, "m.pkl").verdict == "error"
    assert scan1(data, "m.bin").verdict == "clean"


# --- joblib raw bytes between opcodes ------------------------------------------------------------


def test_joblib_wrapper_skips_raw_bytes_then_finds_payload():
    arr = struct.pack("<4d", 1.0, 2.0, 3.0, 4.0)
    p = (
        P(4)
        .sg("joblib.numpy_pickle", "NumpyArrayWrapper")
        .empty_tuple()
        .newobj()
        .empty_dict()
        .mark()
    )
    p.s("subclass").sg("numpy", "ndarray").s("shape").i(4).tuple1()
    p.s("order").s("C").s("dtype").sg("numpy", "dtype").s("f8").op(b"\x89\x88").op(b"\x87").reduce()
    p.mark().i(3).s("<").none().none().none().i(255).i(255).i(0).tuple().build()
    p.s("allow_mmap").op(b"\x89").s("numpy_array_alignment_bytes").i(16).op(b"u").build()
    body = p.bytes()
    pad = b"\x03" + b"\xff" * 3
    # raw array bytes contain pickle-looking junk that must not confuse the walker
    tail = P(None).op(b"0").call("builtins", "eval", PY, stack_global=True).stop().bytes()
    data = body + pad + arr + tail
    w = walk(data)
    assert w.joblib_arrays == 1
    r = scan1(data, "model.joblib")
    assert r.format == "joblib"
    assert r.verdict == "malicious"
    benign = body + pad + arr + P(None).op(b"0").none().stop().bytes()
    r = scan1(benign, "model.joblib")
    assert r.verdict == "clean", r.to_dict()


# --- robustness ----------------------------------------------------------------------------------


def test_every_truncation_of_a_real_pickle_never_crashes():
    import collections

    data = pickle.dumps(
        {"a": collections.OrderedDict(x=[1.5, "s" * 300, b"b" * 10]), "n": 2**70}, protocol=4
    )
    for i in range(len(data)):
        r = scan_bytes(data[:i], "t.pkl")[0]
        assert r.verdict in ("clean", "error"), (i, r.to_dict())


def test_random_mutations_never_crash():
    rnd = random.Random(1234)
    seeds = [pickle.dumps({"k": [1, 2, "x"]}, protocol=p) for p in range(6)] + [
        evil(proto=p) for p in (None, 2, 4)
    ]
    for _ in range(600):
        b = bytearray(rnd.choice(seeds))
        for _ in range(rnd.randint(1, 4)):
            b[rnd.randrange(len(b))] = rnd.randrange(256)
        scan_bytes(bytes(b), "m.pkl")


def test_random_bytes_are_not_a_model():
    rnd = random.Random(7)
    r = scan1(bytes(rnd.randrange(256) for _ in range(5000)), "weights.pt")
    assert r.verdict == "clean"
    assert r.format == "unknown"
    r = scan1(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "model.pt")
    assert r.verdict == "clean" and r.format == "unknown"
    assert any(i.kind == "format.not_model" for i in r.issues)


def test_deep_nesting_and_huge_lengths():
    assert scan1(b"\x80\x04" + b"(" * 100000 + b".").verdict in ("clean", "error")
    assert scan1(b"\x80\x04" + b"]" * 200000 + b".").verdict == "clean"
    assert scan1(b"\x80\x04\x8d" + struct.pack("<Q", 1 << 60) + b"abc").verdict in (
        "clean",
        "error",
    )


def test_deeply_nested_arguments_are_reported_without_recursion_errors():
    p = P(4).g("os", "system")
    for _ in range(5000):
        p.empty_dict().s("k")
    p.empty_list()
    for _ in range(5000):
        p.setitem()
    p.tuple1().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious" and not r.error


def test_partial_judged_by_its_target():
    # partial(torch.optim.AdamW, lr=...) as stored by training configs: benign
    p = P(2).g("functools", "partial").mark().g("torch.optim.adamw", "AdamW").tuple().reduce()
    p.mark().g("torch.optim.adamw", "AdamW").empty_tuple().empty_dict().s("lr").i(
        3
    ).setitem().none().tuple().build().stop()
    assert verdict_of(p.bytes()) == "clean"
    # partial around something unknown or dangerous: malicious
    p = P(2).g("functools", "partial").mark().g("mylab.x", "run").s(SHELL).tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "malicious"


def test_training_checkpoint_config_objects_are_clean():
    import argparse
    import types

    obj = {"args": argparse.Namespace(lr=0.1, layers=[1, 2]), "ns": types.SimpleNamespace(a=1)}
    for proto in (2, 4):
        assert verdict_of(pickle.dumps(obj, protocol=proto)) == "clean"


def test_text_files_that_start_like_protocol0_pickles_are_not_pickles():
    for text in (
        b"certifi\nnumpy\ntorch>=2\n",
        b"cat\ndog\nbird\n",
        b"(1, 2, 3)\n",
        b"Linear layers\n",
        b"ios\nandroid\n",
        b"]\n",
        b"}\n",
    ):
        r = scan1(text, "requirements.txt")
        assert r.verdict == "clean" and r.format == "unknown", (text, r.to_dict())


def test_truncated_protocol0_payload_is_still_caught():
    data = b"cposix\nsystem\n(S'" + SHELL.encode() + b"'\ntR"  # no STOP
    r = scan1(data, "m.pkl")
    assert r.verdict == "malicious"


def test_joblib_object_array_nested_pickle():
    p = (
        P(4)
        .sg("joblib.numpy_pickle", "NumpyArrayWrapper")
        .empty_tuple()
        .newobj()
        .empty_dict()
        .mark()
    )
    p.s("subclass").sg("numpy", "ndarray").s("shape").i(1).tuple1()
    p.s("order").s("C").s("dtype").sg("numpy", "dtype").s("O8").op(b"\x89\x88").op(b"\x87").reduce()
    p.s("allow_mmap").op(b"\x89").op(b"u").build()
    nested_evil = evil("subprocess", "getoutput", proto=4)
    tail = P(None).op(b"0").none().stop().bytes()
    r = scan1(p.bytes() + nested_evil + tail, "m.joblib")
    assert r.format == "joblib" and r.verdict == "malicious"
    assert any("object-array pickle" in i.detail for i in r.issues)
    benign = p.bytes() + pickle.dumps(["a", "b"], protocol=4) + tail
    assert scan1(benign, "m.joblib").verdict == "clean"


def test_resource_exhaustion_is_bounded():
    import time

    t = time.perf_counter()
    r = scan1(b"\x80\x04" + b"N" * 3_000_000 + b".")
    assert time.perf_counter() - t < 20
    assert r.verdict == "error"  # the walk stopped before the end: not scanned completely
    assert any("resource" in i.detail for i in r.issues)


def test_builtins_type_one_arg_benign_three_args_malicious():
    assert verdict_of(pickle.dumps({"t": type(None), "e": type(Ellipsis)}, protocol=2)) == "clean"
    p = (
        P(2)
        .g("builtins", "type")
        .mark()
        .s("X")
        .empty_tuple()
        .empty_dict()
        .s("__reduce__")
        .g("builtins", "exec")
        .s("__doc__")
        .s(PY)
    )
    p.setitem().setitem().tuple().reduce().stop()
    r = scan1(p.bytes())
    assert r.verdict == "malicious" and "pickle.gadget" in kinds(r)
    p = P(2).g("builtins", "type").mark().s("X").empty_tuple().empty_dict().tuple().reduce().stop()
    assert verdict_of(p.bytes()) == "malicious"


def test_prose_and_sql_are_not_pickle_references():
    sql = b"(select i_item_id\n  ,avg(ss_quantity) agg1\nFROM\nstore_sales, point\nFROM\nwhere x = 1\n"
    assert verdict_of(sql, "q.sql") == "clean"
