"""Benchmark the ``crownwatch scan`` console script against picklescan and modelscan.

    python -m bench scan [--runs 5] [--rebuild] [--skip-large] [--tools crownwatch,picklescan,modelscan]
                         [--corpora real50,pickles200,malicious,benign,large]

Creates its own venv (``bench/.venv-scan``, gitignored) with picklescan and modelscan (the
versions of the ``bench`` extra) and the real libraries used to build benign checkpoints
(torch 2.13 CPU, scikit-learn, joblib), then builds the corpora under ``bench/out/scan/``:

* ``real50``     - 50 benign artifacts made with the real libraries: torch state dicts / whole
                   models / legacy / TorchScript / optimizer checkpoints / ``pytorch_model.bin``
                   / fp16, scikit-learn via joblib (plain, zlib, xz) and pickle, NumPy
                   npy/npz/pickles, safetensors;
* ``pickles200`` - 200 small benign pickles (protocols 0-5; configs, vocabularies, NumPy
                   arrays, datetimes, collections) written by the real ``pickle`` module;
* ``benign``     - the same kinds as ``real50``, 220 files;
* ``large``      - a real 218 MB PyTorch checkpoint, zip and legacy serialisation;
* ``malicious``  - our own samples (written opcode by opcode, never by pickling live
                   objects): every dangerous target from the public advisories in several
                   encodings, plus the wrapper tricks (zip name mismatch, flag bits, 7z,
                   tar.gz, npy object arrays, compressed joblib, stacked / after-truncation
                   pickles, payloads in non-data.pkl members, getattr chains, GGUF templates,
                   ONNX external data, Keras Lambda).

What is timed is what a user types, each a whole process with its default output:
``crownwatch scan DIR`` (the console script installed next to this Python, or pip's script for
the ``[project.scripts]`` entry point when that install is stale; this checkout's sources),
``picklescan -p DIR`` and ``modelscan -p DIR``. The tools run in turn (A, B, C, A, B, C ...)
after one untimed warm-up each; every row has the median wall time (min-max), the CPU time and
the peak RSS of the child (the kernel's accounting through ``wait4``), and crownwatch's time
divided by that tool's, paired run by run. Recall (malicious) and false positives (benign)
come from one extra untimed run in each tool's machine-readable format. Prints the tables and
writes them to ``bench/out/scan/SCAN_RESULTS.md``.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from bench._util import crownwatch_script

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "bench" / ".venv-scan"
OUT = ROOT / "bench" / "out" / "scan"
VPY = VENV / "bin" / "python"

# --------------------------------------------------------------------------------------------
# environment


def ensure_venv() -> None:
    marker = VENV / ".ready"
    if marker.exists():
        return
    if not VPY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run(
        [
            str(VPY),
            "-m",
            "pip",
            "install",
            "-q",
            "picklescan>=0.0.20,<2",  # as the bench extra of pyproject.toml
            "modelscan>=0.8,<1",
            "py7zr",
            "torch==2.13.0",
            "scikit-learn",
            "joblib",
        ],
        check=True,
    )
    marker.write_text("ok\n")


# --------------------------------------------------------------------------------------------
# benign + large corpora: built with the real libraries inside the bench venv

BENIGN_GEN = r"""
import os, pickle, sys, json, struct
import numpy as np, torch, joblib
from torch import nn
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.ensemble import RandomForestClassifier, GradientBoostingClassifier
from sklearn.svm import SVC
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.decomposition import PCA

out = sys.argv[1]
n_torch, n_sk, n_np, n_st = map(int, sys.argv[2:6])
os.makedirs(out, exist_ok=True)

class MLP(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.l1 = nn.Linear(d, h); self.act = nn.GELU(); self.l2 = nn.Linear(h, 2); self.drop = nn.Dropout(0.1)
    def forward(self, x):
        return self.l2(self.drop(self.act(self.l1(x))))

class CNN(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, c, 3), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d(2))
        self.head = nn.Linear(c, 10)

def models(i):
    torch.manual_seed(i)
    k = i % 6
    if k == 0: return MLP(8 + i % 7, 16 + i % 5)
    if k == 1: return CNN(4 + i % 4)
    if k == 2: return nn.LSTM(8, 8 + i % 3, num_layers=2)
    if k == 3: return nn.TransformerEncoderLayer(d_model=16, nhead=2, dim_feedforward=32)
    if k == 4: return nn.Sequential(nn.Embedding(50, 8), nn.LayerNorm(8), nn.Linear(8, 4))
    return nn.GRU(6, 6)

p = lambda n: os.path.join(out, n)
for i in range(n_torch):
    m = models(i)
    kind = i % 9
    if kind in (0, 1, 2):
        torch.save(m.state_dict(), p(f"torch_sd_{i}.pt"))
    elif kind == 3:
        torch.save(m, p(f"torch_model_{i}.pth"))
    elif kind == 4:
        torch.save(m.state_dict(), p(f"torch_legacy_{i}.pt"), _use_new_zipfile_serialization=False)
    elif kind == 5:
        opt = torch.optim.Adam(m.parameters())
        torch.save({"model": m.state_dict(), "optimizer": opt.state_dict(), "epoch": i, "cfg": {"lr": 0.001}}, p(f"ckpt_{i}.ckpt"))
    elif kind == 6:
        os.makedirs(p(f"hf_{i}"), exist_ok=True)
        torch.save(m.state_dict(), os.path.join(p(f"hf_{i}"), "pytorch_model.bin"))
    elif kind == 7:
        try:
            torch.jit.script(m).save(p(f"scripted_{i}.pt"))
        except Exception:
            torch.save(m.state_dict(), p(f"torch_sd_{i}.pt"))
    else:
        torch.save({k: v.half() for k, v in m.state_dict().items()}, p(f"half_{i}.pt"))

X, y = make_classification(n_samples=80, n_features=6, random_state=0)
for i in range(n_sk):
    k = i % 6
    est = [LogisticRegression(C=1 + i), RandomForestClassifier(n_estimators=2 + i % 3, max_depth=3, random_state=i),
           GradientBoostingClassifier(n_estimators=3, random_state=i), SVC(C=1 + i % 3),
           Pipeline([("s", StandardScaler()), ("p", PCA(3)), ("c", LogisticRegression())]), KMeans(3, n_init=2, random_state=i)][k]
    est.fit(X, y)
    if i % 4 == 0:
        joblib.dump(est, p(f"sk_{i}.joblib"))
    elif i % 4 == 1:
        joblib.dump(est, p(f"sk_{i}.joblib"), compress=3)
    elif i % 4 == 2:
        with open(p(f"sk_{i}.pkl"), "wb") as fh: pickle.dump(est, fh, protocol=4)
    else:
        joblib.dump(est, p(f"sk_{i}.joblib.xz"), compress=("xz", 3))

rng = np.random.default_rng(0)
for i in range(n_np):
    a = rng.standard_normal((8, 4 + i % 5)).astype(np.float32)
    k = i % 4
    if k == 0: np.save(p(f"arr_{i}.npy"), a)
    elif k == 1: np.savez(p(f"arrs_{i}.npz"), a=a, b=a.astype(np.int32))
    elif k == 2:
        with open(p(f"arr_{i}.pkl"), "wb") as fh: pickle.dump({"a": a, "rng": np.random.default_rng(i)}, fh, protocol=5 if i % 8 == 2 else 2)
    else: np.savez_compressed(p(f"arrz_{i}.npz"), a=a)

def safetensors(path, tensors):
    hdr, off, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for n, a in tensors.items():
        b = a.tobytes(); hdr[n] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}; off += len(b); blobs.append(b)
    h = json.dumps(hdr).encode(); h += b" " * (-len(h) % 8)
    with open(path, "wb") as fh: fh.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
for i in range(n_st):
    safetensors(p(f"model_{i}.safetensors"), {"w": rng.standard_normal((16, 8)).astype(np.float32), "b": np.zeros(8, np.float32)})

print("ok")
"""

LARGE_GEN = r"""
import os, sys, torch
from torch import nn
large = sys.argv[1]
os.makedirs(large, exist_ok=True)
torch.manual_seed(0)
big = nn.Sequential(nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.Linear(4096, 1024))
sd = big.state_dict()
torch.save(sd, os.path.join(large, "large_model.pt"))
torch.save(sd, os.path.join(large, "large_model_legacy.pt"), _use_new_zipfile_serialization=False)
print("ok")
"""


PICKLES_GEN = r"""
import collections, datetime, decimal, fractions, os, pickle, sys, uuid
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(1)
for i in range(int(sys.argv[2])):
    k = i % 8
    if k == 0:
        obj = {"lr": 1e-3 * (1 + i), "epochs": i, "layers": [64, 32, 16], "name": f"run-{i}"}
    elif k == 1:
        obj = [list(range(i % 17)), ("a", "b", i), {i, i + 1}, frozenset({"x"}), b"\x00\x01" * i]
    elif k == 2:
        obj = {f"tok{j}": j for j in range(40 + i)}
    elif k == 3:
        obj = collections.OrderedDict(w=rng.standard_normal(8 + i % 5).astype(np.float32), step=i)
    elif k == 4:
        obj = {"when": datetime.datetime(2024, 1, 1 + i % 28), "id": uuid.UUID(int=i), "d": decimal.Decimal(i) / 7, "f": fractions.Fraction(i, 3)}
    elif k == 5:
        obj = {"hist": collections.Counter("abracadabra" * (1 + i % 3)), "q": collections.deque(range(5)), "dd": collections.defaultdict(list, a=[1])}
    elif k == 6:
        obj = rng.integers(0, 100, size=(4, 2 + i % 6))
    else:
        obj = {"vocab": [f"w{j}" for j in range(30)], "merges": [(f"w{j}", f"w{j + 1}") for j in range(20)], "seed": i}
    ext = ("pkl", "pickle", "pkl", "bin")[i % 4]
    with open(os.path.join(out, f"small_{i:03d}.{ext}"), "wb") as fh:
        pickle.dump(obj, fh, protocol=i % 6)
print("ok")
"""

# corpus name -> (torch, scikit-learn, numpy, safetensors) file counts for BENIGN_GEN
BENIGN_SIZES = {"real50": (20, 15, 10, 5), "benign": (90, 60, 40, 30)}


def build_benign(rebuild: bool) -> None:
    for name, sizes in BENIGN_SIZES.items():
        if rebuild or not (OUT / name).exists():
            subprocess.run(
                [str(VPY), "-c", BENIGN_GEN, str(OUT / name), *map(str, sizes)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
    if rebuild or not (OUT / "pickles200").exists():
        subprocess.run(
            [str(VPY), "-c", PICKLES_GEN, str(OUT / "pickles200"), "200"],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    large = OUT / "large"
    if rebuild or not (large / "large_model_legacy.pt").exists():
        subprocess.run(
            [str(VPY), "-c", LARGE_GEN, str(large)], check=True, stdout=subprocess.DEVNULL
        )


# --------------------------------------------------------------------------------------------
# malicious corpus: written opcode by opcode


def _s(text: str) -> bytes:
    raw = text.encode()
    return (
        b"\x8c" + bytes([len(raw)]) + raw
        if len(raw) < 256
        else b"X" + struct.pack("<I", len(raw)) + raw
    )


def call_global(module: str, name: str, arg: str = "id", proto: int = 2) -> bytes:
    return bytes([0x80, proto]) + b"c" + f"{module}\n{name}\n".encode() + b"(" + _s(arg) + b"tR."


def call_stack_global(module: str, name: str, arg: str = "id") -> bytes:
    return (
        b"\x80\x04\x95"
        + struct.pack("<Q", 0)
        + _s(module)
        + _s(name)
        + b"\x93"
        + _s(arg)
        + b"\x85R."
    )


def call_memo_stack_global(module: str, name: str, arg: str = "id") -> bytes:
    return (
        b"\x80\x04"
        + _s(module)
        + b"\x94"
        + b"0"
        + _s(name)
        + b"\x94"
        + b"0"
        + b"h\x00h\x01\x93"
        + _s(arg)
        + b"\x85R."
    )


def getattr_chain(module: str, name: str) -> bytes:
    return (
        b"\x80\x02cbuiltins\ngetattr\n(cbuiltins\n__import__\n("
        + _s(module)
        + b"tR"
        + _s(name)
        + b"tR("
        + _s("id")
        + b"tR."
    )


TARGETS = [
    ("os", "system"),
    ("posix", "system"),
    ("nt", "system"),
    ("os", "popen"),
    ("os", "execv"),
    ("subprocess", "Popen"),
    ("subprocess", "check_output"),
    ("subprocess", "run"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("__builtin__", "eval"),
    ("builtins", "getattr"),
    ("builtins", "__import__"),
    ("builtins", "open"),
    ("builtins", "compile"),
    ("runpy", "_run_code"),
    ("runpy", "run_path"),
    ("pty", "spawn"),
    ("pip", "main"),
    ("code", "InteractiveInterpreter"),
    ("cProfile", "run"),
    ("profile", "run"),
    ("timeit", "timeit"),
    ("torch.hub", "load"),
    ("torch.hub", "download_url_to_file"),
    ("numpy.f2py", "run_main"),
    ("functools", "partial"),
    ("operator", "attrgetter"),
    ("_operator", "methodcaller"),
    ("_io", "FileIO"),
    ("ctypes", "CDLL"),
    ("webbrowser", "open"),
    ("asyncio.subprocess", "create_subprocess_shell"),
    ("idlelib.pyshell", "ModifiedInterpreter"),
    ("lib2to3.pgen2.pgen", "generate_grammar"),
    ("distutils.file_util", "write_file"),
    ("bdb", "Bdb"),
    ("pydoc", "pipepager"),
    ("venv", "create"),
    ("shutil", "rmtree"),
    ("ssl", "get_server_certificate"),
    ("socket", "create_connection"),
    ("urllib.request", "urlopen"),
    ("requests", "get"),
    ("_pickle", "loads"),
    ("importlib", "import_module"),
    ("marshal", "loads"),
    ("types", "FunctionType"),
    ("pdb", "run"),
    ("trace", "Trace"),
    ("doctest", "debug_script"),
    ("multiprocessing", "Process"),
    ("httplib", "HTTPSConnection"),
    ("smtplib", "SMTP"),
    ("ftplib", "FTP"),
    ("telnetlib", "Telnet"),
    ("pandas", "read_pickle"),
    ("numpy", "load"),
    ("torch", "load"),
    ("yaml", "unsafe_load"),
]
CLASSIC = [
    ("os", "system"),
    ("subprocess", "Popen"),
    ("builtins", "eval"),
    ("builtins", "exec"),
    ("runpy", "_run_code"),
    ("pty", "spawn"),
    ("webbrowser", "open"),
    ("socket", "create_connection"),
    ("requests", "get"),
    ("pip", "main"),
    ("torch.hub", "load"),
    ("operator", "attrgetter"),
]


def _zip(members: dict[str, bytes], compression=zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for n, d in members.items():
            z.writestr(n, d)
    return buf.getvalue()


def _torch_zip(payload: bytes, member: str = "archive/data.pkl") -> bytes:
    benign = b"\x80\x02}q\x00X\x01\x00\x00\x00wq\x01K\x01s."
    members = {
        "archive/data.pkl": benign,
        "archive/byteorder": b"little",
        "archive/version": b"3\n",
        "archive/data/0": b"\x00" * 256,
    }
    members[member] = payload
    return _zip(members)


def _mismatch(data: bytes) -> bytes:
    i = data.index(b"archive/data.pkl", data.index(b"PK\x03\x04"))
    return data[:i] + b"archive/data.pkX" + data[i + 16 :]


def _flag(data: bytes) -> bytes:
    b = bytearray(data)
    for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        i = b.find(sig)
        while i >= 0:
            b[i + off] |= 1
            i = b.find(sig, i + 4)
    return bytes(b)


def _npy_object(payload: bytes) -> bytes:
    hdr = repr({"descr": "|O", "fortran_order": False, "shape": (1,)}).encode()
    hdr += b" " * (63 - (10 + len(hdr)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(hdr)) + hdr + payload


def _tar_gz(name: str, payload: bytes) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        ti = tarfile.TarInfo(name)
        ti.size = len(payload)
        tf.addfile(ti, io.BytesIO(payload))
    return buf.getvalue()


def _legacy_torch(payload_call: bytes) -> bytes:
    magic = b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little") + b"."
    proto = b"\x80\x02M\xe9\x03."
    info = b"\x80\x02}q\x00(X\x10\x00\x00\x00protocol_versionq\x01M\xe9\x03u."
    keys = b"\x80\x02]q\x00."
    return magic + proto + info + payload_call + keys


def _gguf_template(tpl: str) -> bytes:
    out = b"GGUF" + struct.pack("<IQQ", 3, 0, 1)
    k, v = b"tokenizer.chat_template", tpl.encode()
    return out + struct.pack("<Q", len(k)) + k + struct.pack("<IQ", 8, len(v)) + v


def _pb(fno: int, value) -> bytes:
    def vint(n):
        o = bytearray()
        while True:
            b = n & 0x7F
            n >>= 7
            o.append(b | (0x80 if n else 0))
            if not n:
                return bytes(o)

    if isinstance(value, int):
        return vint(fno << 3) + vint(value)
    value = value.encode() if isinstance(value, str) else value
    return vint((fno << 3) | 2) + vint(len(value)) + value


def _onnx_escape(loc: str) -> bytes:
    t = _pb(1, 4) + _pb(2, 1) + _pb(8, "w") + _pb(13, _pb(1, "location") + _pb(2, loc)) + _pb(14, 1)
    graph = _pb(1, _pb(4, "Add")) + _pb(5, t)
    return _pb(1, 8) + _pb(2, "x") + _pb(7, graph) + _pb(8, _pb(2, 17))


def _keras_lambda() -> bytes:
    import base64

    code = base64.b64encode(b"\xe3\x00\x00os\x00system\x00").decode()
    cfg = {
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "layers": [
                {
                    "module": "keras.layers",
                    "class_name": "Lambda",
                    "config": {"function": {"class_name": "__lambda__", "config": {"code": code}}},
                }
            ]
        },
    }
    return _zip(
        {
            "config.json": json.dumps(cfg).encode(),
            "metadata.json": b"{}",
            "model.weights.h5": b"\x89HDF\r\n\x1a\n",
        }
    )


def build_malicious() -> int:
    d = OUT / "malicious"
    d.mkdir(parents=True, exist_ok=True)
    n = 0

    def put(name: str, data: bytes) -> None:
        nonlocal n
        (d / name).write_bytes(data)
        n += 1

    for mod, name in TARGETS:
        tag = f"{mod}_{name}".replace(".", "_")
        put(f"g2_{tag}.pkl", call_global(mod, name))
        put(f"sg4_{tag}.pickle", call_stack_global(mod, name))
        put(f"memo_{tag}.bin", call_memo_stack_global(mod, name))
        put(f"torchzip_{tag}.pt", _torch_zip(call_global(mod, name)))
    benign_pickle = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01K\x02es."
    for mod, name in CLASSIC:
        tag = f"{mod}_{name}".replace(".", "_")
        payload = call_global(mod, name)
        put(f"mismatch_{tag}.pt", _mismatch(_torch_zip(payload)))
        put(f"flagbit_{tag}.pt", _flag(_torch_zip(payload)))
        put(f"member_{tag}.pt", _torch_zip(payload, "archive/extra/meta.pkl"))
        put(f"tensor_member_{tag}.pt", _torch_zip(payload, "archive/data/1"))
        put(f"npy_{tag}.npy", _npy_object(payload))
        put(f"npz_{tag}.npz", _zip({"a.npy": _npy_object(payload)}))
        put(f"joblib_zlib_{tag}.joblib", zlib.compress(payload))
        put(f"joblib_gz_{tag}.joblib", gzip.compress(payload))
        put(f"targz_{tag}.tar.gz", _tar_gz("model.pkl", payload))
        put(f"stacked_{tag}.pkl", benign_pickle + payload)
        put(f"aftertrunc_{tag}.pkl", benign_pickle[:-6] + b"\x00" + payload)
        put(f"legacy_{tag}.pt", _legacy_torch(payload))
        put(f"nested_{tag}.zip", _zip({"inner.zip": _zip({"x.pkl": payload})}))
        put(f"getattr_{tag}.pkl", getattr_chain(mod, name))
        try:
            import py7zr

            buf = io.BytesIO()
            with py7zr.SevenZipFile(buf, "w") as z:
                z.writestr(payload, "model.pkl")
            put(f"sevenz_{tag}.7z", buf.getvalue())
        except ImportError:
            pass
    for i, tpl in enumerate(
        [
            "{{ ''.__class__.__mro__[1].__subclasses__() }}",
            "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        ]
    ):
        put(f"gguf_template_{i}.gguf", _gguf_template(tpl))
    for i, loc in enumerate(["../../../../etc/passwd", "/root/.ssh/id_rsa"]):
        put(f"onnx_escape_{i}.onnx", _onnx_escape(loc))
    put("keras_lambda.keras", _keras_lambda())
    return n


# --------------------------------------------------------------------------------------------
# running the tools


def _files(directory: Path) -> list[str]:
    return sorted(str(p) for p in directory.rglob("*") if p.is_file())


def _env() -> dict[str, str]:
    """Same conditions for every tool: bytecode caches allowed, as after a normal install; the
    crownwatch console script runs this checkout's sources (an editable install elsewhere, or
    a stale one, would otherwise decide what is measured); no colour codes."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    env["NO_COLOR"] = "1"
    return env


def command(tool: str, directory: Path) -> list[str]:
    """The command a user types, default output (what is timed)."""
    if tool == "crownwatch":
        return [str(crownwatch_script()), "scan", str(directory)]
    return [str(VENV / "bin" / tool), "-p", str(directory)]


GNU_TIME = "/usr/bin/time"


def timed(cmd: list[str]) -> tuple[float, float, float, int, str]:
    """Run ``cmd`` as its own process: (wall s, CPU s, peak RSS MiB, exit code, output).

    CPU time is the kernel's accounting of the finished child and what it waited for
    (``wait4``). Peak RSS comes from GNU time's ``%M`` (the largest single process): a child
    forked from this Python would report at least this process's own peak, since the kernel
    carries the pre-exec high-water mark over; GNU time is a few MiB. Without it, the
    ``wait4`` figure is used (an upper bound)."""
    with tempfile.TemporaryFile() as out, tempfile.NamedTemporaryFile("r") as rss:
        full = [GNU_TIME, "-f", "%M", "-o", rss.name, *cmd] if os.path.exists(GNU_TIME) else cmd
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            full, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=_env()
        )
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
        kib = ru.ru_maxrss
        if full is not cmd:
            lines = [ln for ln in rss.read().splitlines() if ln.strip().isdigit()]
            kib = int(lines[-1]) if lines else kib  # (its exit status is the command's)
    return wall, ru.ru_utime + ru.ru_stime, kib / 1024, proc.returncode, text


def flagged_by(tool: str, directory: Path, output: str) -> tuple[set[str], str]:
    """Top-level files a tool flags (untimed, machine-readable run where the tool has one)."""
    flagged: set[str] = set()
    note = ""
    if tool == "crownwatch":
        proc = subprocess.run(
            [*command(tool, directory), "--format", "json"],
            capture_output=True,
            text=True,
            env=_env(),
        )
        try:
            for r in json.loads(proc.stdout):
                if r["verdict"] in ("malicious", "suspicious"):
                    flagged.add(r["path"].split("!", 1)[0])
        except json.JSONDecodeError:
            note = "unparseable output"
    elif tool == "picklescan":
        for line in output.splitlines():
            m = re.match(r"^(.*?): dangerous import ", line)
            if m:
                flagged.add(_top(m.group(1), directory))
    else:
        report = OUT / f"modelscan-{directory.name}.json"
        proc = subprocess.run(
            [*command(tool, directory), "-r", "json", "-o", str(report)],
            capture_output=True,
            text=True,
            env=_env(),
        )
        try:
            doc = json.loads(report.read_text())
            for issue in doc.get("issues", []):
                flagged.add(_top(issue.get("source") or "", directory))
        except (OSError, json.JSONDecodeError):
            note = f"no report (rc={proc.returncode})"
    return {f for f in flagged if f}, note


def _top(src: str, directory: Path) -> str:
    """Map a tool's reported location (maybe 'file:member' or relative) to the top-level file."""
    src = src.strip()
    cand = Path(src) if os.path.isabs(src) else directory / src
    while True:
        if cand.is_file():
            return str(cand)
        s = str(cand)
        for sep in (":", "!"):
            if sep in s[1:]:
                s2 = s.rsplit(sep, 1)[0]
                if s2 != s:
                    cand = Path(s2)
                    break
        else:
            return ""
        if str(cand) == s:
            return ""


def recheck(tool: str, paths: list[str]) -> set[str]:
    from concurrent.futures import ThreadPoolExecutor

    exe = str(VENV / "bin" / tool)

    def one(p: str) -> str | None:
        proc = subprocess.run([exe, "-p", p], capture_output=True, text=True, env=_env())
        hit = proc.returncode == 1 or "dangerous import" in proc.stdout + proc.stderr
        return p if hit else None

    with ThreadPoolExecutor(max_workers=2) as ex:
        return {p for p in ex.map(one, paths) if p}


def _med(xs: list[float]) -> float:
    return statistics.median(xs)


def measure(tools: list[str], corpora: dict[str, Path], runs: int) -> list[dict]:
    """Whole processes, in turn (crownwatch, picklescan, modelscan, crownwatch, ...) so that
    background load hits all alike; crownwatch's ratio to each peer is taken round by round
    (the median of the paired ratios), which holds when the machine's speed drifts."""
    rows = []
    for cname, cdir in corpora.items():
        files = set(_files(cdir))
        m: dict[str, dict[str, list]] = {
            t: {"wall": [], "cpu": [], "rss": [], "rc": [], "out": []} for t in tools
        }
        for tool in tools:  # warm-up: page cache and bytecode caches, not counted
            timed(command(tool, cdir))
        for _ in range(runs):
            for tool in tools:
                wall, cpu, rss, rc, out = timed(command(tool, cdir))
                for k, v in (("wall", wall), ("cpu", cpu), ("rss", rss), ("rc", rc), ("out", out)):
                    m[tool][k].append(v)
        cw = m.get("crownwatch")
        for tool in tools:
            t = m[tool]
            flagged, note = flagged_by(tool, cdir, t["out"][-1])
            row = {
                "tool": tool,
                "corpus": cname,
                "files": len(files),
                "wall": _med(t["wall"]),
                "wall_min": min(t["wall"]),
                "wall_max": max(t["wall"]),
                "cpu": _med(t["cpu"]),
                "rss": _med(t["rss"]),
                "rc": sorted(set(t["rc"])),
                "flagged": len(flagged & files),
                "note": note,
            }
            if cw is not None:
                # crownwatch / this tool, paired run by run: the target is <= 0.5
                row["cw_ratio"] = _med([a / b for a, b in zip(cw["wall"], t["wall"], strict=True)])
                row["cw_cpu_ratio"] = _med(
                    [a / b for a, b in zip(cw["cpu"], t["cpu"], strict=True) if b > 0] or [0.0]
                )
            if cname == "malicious":
                if tool != "crownwatch":
                    # directory mode can hide detections (e.g. picklescan reports 7z members under
                    # a temp path and skips .npy in directories): give every miss a second,
                    # untimed chance as a single-file scan
                    flagged = flagged | recheck(tool, sorted(files - flagged))
                    row["flagged"] = len(flagged & files)
                row["recall"] = len(flagged & files) / max(1, len(files))
                row["missed"] = sorted(os.path.basename(f) for f in files - flagged)
            else:
                row["fp"] = len(flagged & files)
                row["fp_files"] = sorted(os.path.basename(f) for f in flagged & files)
            rows.append(row)
            print(
                f"  {tool:10s} {cname:10s} {row['wall']:6.3f}s wall {row['cpu']:6.3f}s cpu "
                f"{row['rss']:6.1f} MiB  crownwatch/this {row.get('cw_ratio', 0):.2f}x  "
                f"flagged {row['flagged']}/{len(files)} {note}",
                file=sys.stderr,
            )
    return rows


FAMILIES = [
    ("g2_", "GLOBAL+REDUCE, protocol 2"),
    ("sg4_", "STACK_GLOBAL, protocol 4"),
    ("memo_", "STACK_GLOBAL names via memo (.bin)"),
    ("torchzip_", "PyTorch zip data.pkl"),
    ("mismatch_", "zip local/central name mismatch"),
    ("flagbit_", "zip encryption flag bit"),
    ("member_", "payload in another zip member (.pkl)"),
    ("tensor_member_", "payload in a tensor member"),
    ("npy_", "npy object array"),
    ("npz_", "npz object array"),
    ("joblib_zlib_", "zlib-compressed joblib"),
    ("joblib_gz_", "gzip-compressed joblib"),
    ("targz_", "tar.gz wrapped"),
    ("stacked_", "second pickle after STOP"),
    ("aftertrunc_", "pickle after a broken one"),
    ("legacy_", "legacy torch stream"),
    ("nested_", "zip in zip"),
    ("getattr_", "getattr(__import__(m), name) chain"),
    ("sevenz_", "7z wrapped"),
    ("gguf_template_", "GGUF Jinja template"),
    ("onnx_escape_", "ONNX external data escape"),
    ("keras_lambda", "Keras Lambda bytecode"),
]


def family_table(rows: list[dict], corpus: Path) -> str:
    files = [os.path.basename(f) for f in _files(corpus)]
    tools = [r["tool"] for r in rows if r["corpus"] == "malicious"]
    missed = {r["tool"]: set(r.get("missed", [])) for r in rows if r["corpus"] == "malicious"}
    lines = [
        "| sample family | samples | " + " | ".join(tools) + " |",
        "|---|---:|" + "---:|" * len(tools),
    ]
    for prefix, label in sorted(FAMILIES, key=lambda f: -len(f[0])):
        members = [f for f in files if f.startswith(prefix)]
        files = [f for f in files if not f.startswith(prefix)]
        if not members:
            continue
        cells = [f"{sum(1 for m in members if m not in missed[t])}/{len(members)}" for t in tools]
        lines.append(f"| {label} | {len(members)} | " + " | ".join(cells) + " |")
    head, body = lines[:2], lines[2:]
    order = [label for _, label in FAMILIES]
    body.sort(key=lambda ln: order.index(ln.split(" | ")[0][2:]))
    return "\n".join(head + body)


def table(rows: list[dict]) -> str:
    lines = [
        "| tool | corpus | files | wall (median) | min-max | CPU (median) | peak RSS (median) "
        "| crownwatch ÷ tool (wall, paired) | crownwatch ÷ tool (CPU) | recall (malicious) "
        "| false positives (benign) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        recall = f"{r['recall']:.1%}" if "recall" in r else ""
        fp = str(r["fp"]) if "fp" in r else ""
        ratio = f"{r['cw_ratio']:.2f}" if "cw_ratio" in r else ""
        cpu_ratio = f"{r['cw_cpu_ratio']:.2f}" if "cw_cpu_ratio" in r else ""
        lines.append(
            f"| {r['tool']} | {r['corpus']} | {r['files']} | {r['wall']:.3f} s "
            f"| {r['wall_min']:.3f}-{r['wall_max']:.3f} | {r['cpu']:.3f} s | {r['rss']:.1f} MiB "
            f"| {ratio} | {cpu_ratio} | {recall} | {fp} |"
        )
    return "\n".join(lines)


CORPORA = ("real50", "pickles200", "malicious", "benign", "large")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="bench/scan.py")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--skip-large", action="store_true")
    ap.add_argument("--tools", default="crownwatch,picklescan,modelscan")
    ap.add_argument(
        "--corpora", default=",".join(CORPORA), help=f"comma-separated, from {','.join(CORPORA)}"
    )
    a = ap.parse_args(argv)
    ensure_venv()
    OUT.mkdir(parents=True, exist_ok=True)
    build_benign(a.rebuild)
    n_mal = build_malicious()
    print(f"corpora ready under {OUT} ({n_mal} malicious samples)", file=sys.stderr)
    names = [c for c in a.corpora.split(",") if c and not (a.skip_large and c == "large")]
    corpora = {c: OUT / c for c in names}
    rows = measure(a.tools.split(","), corpora, a.runs)
    md = table(rows)
    if "malicious" in corpora:
        md += "\n\nRecall per sample family (files flagged / samples):\n\n" + family_table(
            rows, corpora["malicious"]
        )
    missed = {r["tool"]: r.get("missed", []) for r in rows if r["corpus"] == "malicious"}
    detail = "\n".join(
        f"- {t} missed {len(m)}: {', '.join(m[:40])}{' ...' if len(m) > 40 else ''}"
        for t, m in missed.items()
    )
    (OUT / "SCAN_RESULTS.md").write_text(md + "\n\n" + detail + "\n")
    print(md)
    print()
    print(detail)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
