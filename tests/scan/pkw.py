"""A tiny pickle *opcode writer* for building hostile samples without pickling real objects.

Nothing here imports or calls the targets it names: it only emits bytes.

Every malicious sample the tests build carries a payload that would create :data:`MARKER` if it
ever ran (a shell command, Python source or a file path, whichever the target takes); the
suite's session fixture asserts that the marker never appears.
"""

from __future__ import annotations

import os
import re
import struct
import tempfile

MARKER = os.path.join(tempfile.gettempdir(), f"crownwatch-scan-canary-{os.getuid()}")
SHELL = f"touch {MARKER}"  # for os.system, subprocess, popen...
PY = f"open({MARKER!r}, 'w').close()"  # for eval, exec, compile, runsource...

_PY_TARGETS = re.compile(
    r"(?:^|\.)(?:eval|exec|execfile|compile|runsource|runcode|run|runctx|runeval|runstring|"
    r"timeit|Timer|repeat|debug_script|run_path|run_module|_run_code|runcall|interact)$"
)
_FILE_TARGETS = re.compile(
    r"(?:^|\.)(?:open|FileIO|write_file|mkstemp|mkdtemp|copyfile|rmtree|FileHandler|connect|"
    r"HDFStore|save|savetxt|tofile|load|fromfile|getline|glob)$"
)


def marker_arg(name: str) -> str:
    """The argument that would create MARKER when ``name`` is called with it."""
    if _PY_TARGETS.search(name):
        return PY
    if _FILE_TARGETS.search(name):
        return MARKER
    return SHELL


class P:
    def __init__(self, proto: int | None = 4):
        self.b = bytearray()
        if proto is not None and proto >= 2:
            self.b += bytes([0x80, proto])

    # literals -----------------------------------------------------------------------------
    def s(self, text: str) -> P:
        raw = text.encode("utf-8", "surrogatepass")  # pickle's own codec for strings
        if len(raw) < 256:
            self.b += b"\x8c" + bytes([len(raw)]) + raw
        else:
            self.b += b"X" + struct.pack("<I", len(raw)) + raw
        return self

    def s0(self, text: str) -> P:  # protocol 0 STRING
        self.b += b"S'" + text.encode() + b"'\n"
        return self

    def u(self, text: str) -> P:  # BINUNICODE
        raw = text.encode()
        self.b += b"X" + struct.pack("<I", len(raw)) + raw
        return self

    def by(self, data: bytes) -> P:
        if len(data) < 256:
            self.b += b"C" + bytes([len(data)]) + data
        else:
            self.b += b"B" + struct.pack("<I", len(data)) + data
        return self

    def i(self, n: int) -> P:
        if 0 <= n < 256:
            self.b += b"K" + bytes([n])
        else:
            self.b += b"J" + struct.pack("<i", n)
        return self

    def none(self) -> P:
        self.b += b"N"
        return self

    # structure ----------------------------------------------------------------------------
    def op(self, code: bytes) -> P:
        self.b += code
        return self

    def mark(self) -> P:
        return self.op(b"(")

    def tuple(self) -> P:
        return self.op(b"t")

    def tuple1(self) -> P:
        return self.op(b"\x85")

    def tuple2(self) -> P:
        return self.op(b"\x86")

    def empty_tuple(self) -> P:
        return self.op(b")")

    def empty_dict(self) -> P:
        return self.op(b"}")

    def empty_list(self) -> P:
        return self.op(b"]")

    def setitem(self) -> P:
        return self.op(b"s")

    def append(self) -> P:
        return self.op(b"a")

    def reduce(self) -> P:
        return self.op(b"R")

    def build(self) -> P:
        return self.op(b"b")

    def newobj(self) -> P:
        return self.op(b"\x81")

    def newobj_ex(self) -> P:
        return self.op(b"\x92")

    def stop(self) -> P:
        return self.op(b".")

    def pop(self) -> P:
        return self.op(b"0")

    def dup(self) -> P:
        return self.op(b"2")

    def memoize(self) -> P:
        return self.op(b"\x94")

    def put(self, n: int) -> P:
        return self.op(b"q" + bytes([n]))

    def get(self, n: int) -> P:
        return self.op(b"h" + bytes([n]))

    def long_get(self, n: int) -> P:
        return self.op(b"j" + struct.pack("<I", n))

    def put0(self, n: int) -> P:
        return self.op(b"p" + str(n).encode() + b"\n")

    def get0(self, n: int) -> P:
        return self.op(b"g" + str(n).encode() + b"\n")

    def frame(self, n: int) -> P:
        return self.op(b"\x95" + struct.pack("<Q", n))

    # globals --------------------------------------------------------------------------------
    def g(self, module: str, name: str) -> P:  # GLOBAL (protocol 0+)
        self.b += b"c" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def sg(self, module: str, name: str) -> P:  # STACK_GLOBAL (protocol 4+)
        return self.s(module).s(name).op(b"\x93")

    def inst(self, module: str, name: str) -> P:  # INST (after mark + args)
        self.b += b"i" + module.encode() + b"\n" + name.encode() + b"\n"
        return self

    def call(self, module: str, name: str, *args, stack_global: bool = False) -> P:
        (self.sg if stack_global else self.g)(module, name)
        self.mark()
        for a in args:
            self.lit(a)
        return self.tuple().reduce()

    def lit(self, a) -> P:
        if isinstance(a, str):
            return self.s(a)
        if isinstance(a, bytes):
            return self.by(a)
        if isinstance(a, int):
            return self.i(a)
        if a is None:
            return self.none()
        raise TypeError(a)

    def raw(self, data: bytes) -> P:
        self.b += data
        return self

    def bytes(self) -> bytes:
        return bytes(self.b)


def evil(
    module: str = "os", name: str = "system", arg: str | None = None, proto: int | None = 2
) -> bytes:
    """``module.name(arg)`` as a pickle; the default argument would create MARKER."""
    return P(proto).call(module, name, marker_arg(name) if arg is None else arg).stop().bytes()
