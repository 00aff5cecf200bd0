"""A tolerant, symbolic pickle opcode walker (protocols 0-5). It never imports or calls.

``pickle.load`` executes whatever callables a pickle names, so the scanner replays the
opcode stream on a *symbolic* stack instead: literals stay literals, containers stay
containers, a ``GLOBAL`` / ``STACK_GLOBAL`` / ``INST`` becomes a :class:`GlobalRef`, and
``REDUCE`` / ``NEWOBJ`` / ``NEWOBJ_EX`` / ``INST`` / ``OBJ`` become :class:`CallRef` records
of *what would be called with which arguments*. The memo (``PUT`` / ``BINPUT`` /
``LONG_BINPUT`` / ``MEMOIZE`` / ``GET``...) is modelled exactly, so a ``STACK_GLOBAL`` whose
module and name strings come out of the memo resolves to the real target, and so does a
global fetched back from the memo before it is called.

The walker is written for hostile input: every read is bounds-checked, a truncated or
malformed stream stops the walk with an error message and keeps everything seen before the
break (callers judge what precedes it), and large byte strings are referenced, not copied.
It stops at ``STOP``; the caller decides whether more pickles follow (stacked pickles).

joblib interleaves raw array bytes between pickle opcodes: after the ``BUILD`` of a
``joblib.numpy_pickle.NumpyArrayWrapper`` the walker computes the array's byte size from
the wrapper's state (shape, dtype, alignment padding) and skips it, or walks the nested
pickle that follows for object arrays - exactly what joblib's unpickler reads.
"""

from __future__ import annotations

import codecs
import struct

from . import budget as _budget

MAX_OPS = 20_000_000
MAX_STACK = 2_000_000
MAX_NESTED = 4
# text values longer than this are kept as a prefix: a name or a command is never that long,
# and decoding a 500 MB string (4 bytes a character once one emoji is in it) is a memory bomb
MAX_TEXT = 1 << 20


class Mark:
    __slots__ = ()


class GlobalRef:
    """A name the unpickler would import (``find_class``)."""

    __slots__ = ("module", "name", "offset", "op", "calls", "news", "pushes", "pops", "dynamic")

    def __init__(self, module: str, name: str, offset: int, op: str, dynamic: bool = False):
        self.module = module
        self.name = name
        self.offset = offset
        self.op = op
        self.calls = 0  # used as the callable of REDUCE / INST / OBJ
        self.news = 0  # used as the class of NEWOBJ / copyreg reconstructors
        self.pushes = 0  # times it landed on the stack (creation, GET, DUP)
        self.pops = 0  # times it was discarded (POP, POP_MARK)
        self.dynamic = dynamic

    @property
    def refs(self) -> int:
        """Uses other than call / instantiate / discard: argument, container item, state."""
        return self.pushes - self.calls - self.news - self.pops

    @property
    def full(self) -> str:
        return f"{self.module}.{self.name}"

    def __repr__(self) -> str:
        return self.full


class CallRef:
    """The object a call would produce."""

    __slots__ = ("func", "args", "kwargs", "op", "offset", "state")

    def __init__(self, func, args, op: str, offset: int, kwargs=None):
        self.func = func
        self.args = args
        self.kwargs = kwargs
        self.op = op
        self.offset = offset
        self.state = None

    def __repr__(self) -> str:
        return f"{short_repr(self.func)}(...)"


class Opaque:
    """A value the walker cannot know (persistent id result, out-of-band buffer, EXT code)."""

    __slots__ = ("what",)

    def __init__(self, what: str):
        self.what = what

    def __repr__(self) -> str:
        return f"<{self.what}>"


class PersRef(Opaque):
    """What the loader's ``persistent_load`` returns for a persistent id, with the id kept.

    Legacy (non-zip) ``torch.save`` of a whole ``nn.Module`` stores each module class as the
    persistent id ``("module", <class>, source_file, source)``; torch's ``persistent_load``
    returns ``<class>`` itself, which NEWOBJ / REDUCE then instantiate. :meth:`module_class`
    names that class so the call is judged as a call of it, not as an opaque computed call."""

    __slots__ = ("pid",)

    def __init__(self, pid):
        super().__init__("persistent id")
        self.pid = pid

    def module_class(self) -> GlobalRef | None:
        p = self.pid
        if isinstance(p, tuple) and len(p) >= 2 and p[0] == "module":
            cls = p[1]
            if isinstance(cls, GlobalRef) and not cls.dynamic:
                return cls
        return None


class Blob:
    """A large byte string, referenced by position instead of copied."""

    __slots__ = ("data", "start", "length")

    def __init__(self, data, start: int, length: int):
        self.data = data
        self.start = start
        self.length = length

    def bytes(self) -> bytes:
        return bytes(self.data[self.start : self.start + self.length])

    def __repr__(self) -> str:
        return f"<{self.length} bytes>"


class SDict:
    __slots__ = ("pairs",)

    def __init__(self):
        self.pairs: list = []

    def get(self, key, default=None):
        for k, v in self.pairs:
            if k == key:
                return v
        return default

    def __repr__(self) -> str:
        return short_repr(self)


class SList(list):
    __slots__ = ()


class SSet(list):
    __slots__ = ()


def short_repr(v, depth: int = 0, limit: int = 160) -> str:
    if depth > 3:
        return "..."
    if isinstance(v, tuple | SList | SSet):
        inner = ", ".join(short_repr(x, depth + 1, 60) for x in v[:6])
        if len(v) > 6:
            inner += ", ..."
        r = f"({inner})" if isinstance(v, tuple) else f"[{inner}]"
    elif isinstance(v, SDict):
        inner = ", ".join(
            f"{short_repr(k, depth + 1, 40)}: {short_repr(x, depth + 1, 60)}"
            for k, x in v.pairs[:6]
        )
        r = "{" + inner + (", ..." if len(v.pairs) > 6 else "") + "}"
    elif isinstance(v, CallRef):
        r = f"{short_repr(v.func, depth + 1)}({short_repr(v.args, depth + 1)[1:-1] if isinstance(v.args, tuple) else short_repr(v.args, depth + 1)})"
    elif isinstance(v, bytes | bytearray):
        r = repr(bytes(v[:48])) + ("..." if len(v) > 48 else "")
    else:
        r = repr(v)
    return r if len(r) <= limit else r[: limit - 3] + "..."


class PickleParseError(Exception):
    pass


class WalkResult:
    __slots__ = (
        "start",
        "end",
        "complete",
        "error",
        "protocol",
        "n_ops",
        "globals",
        "calls",
        "builds",
        "tamper",
        "dynamic_calls",
        "ext_codes",
        "persistent_ids",
        "nested",
        "top",
        "joblib_arrays",
        "notes",
    )

    def __init__(self, start: int):
        self.start = start
        self.end = start
        self.complete = False
        self.error: str | None = None
        self.protocol = 0
        self.n_ops = 0
        self.globals: list[GlobalRef] = []
        self.calls: list[CallRef] = []
        self.builds = 0
        self.tamper: list[tuple[int, str]] = []
        self.dynamic_calls: list[CallRef] = []
        self.ext_codes: list[tuple[int, int]] = []
        self.persistent_ids: list = []
        self.nested: list[WalkResult] = []  # pickles nested inside (joblib object arrays)
        self.top = None
        self.joblib_arrays = 0
        self.notes: list[str] = []


_NEW_ARG0 = {
    "copyreg._reconstructor",
    "copyreg.__newobj__",
    "copyreg.__newobj_ex__",
    "copy_reg._reconstructor",
    "copy_reg.__newobj__",
    # scikit-learn's Cython trees and distance metrics pickle as newObj(cls): cls.__new__(cls)
    "sklearn.neighbors._kd_tree.newObj",
    "sklearn.neighbors._ball_tree.newObj",
    "sklearn.neighbors._binary_tree.newObj",
    "sklearn.neighbors._dist_metrics.newObj",
    "sklearn.metrics._dist_metrics.newObj",
}
# PUT GET INT LONG FLOAT STRING UNICODE: tested together, early in the opcode chain, so a
# protocol-0 pickle (made of them) does not run through forty comparisons per opcode
_TEXT_OPS = frozenset(b"pgILFSV")
_NEW_ARG1 = {"torch._tensor._rebuild_from_type_v2", "torch._tensor._rebuild_from_type"}
_JOBLIB_WRAPPERS = {"joblib.numpy_pickle.NumpyArrayWrapper"}

_DTYPE_SIZES = {
    "b": 1,
    "i": None,
    "u": None,
    "f": None,
    "c": None,
    "S": 1,
    "U": 4,
    "V": 1,
    "M": None,
    "m": None,
    "?": 1,
}


def _itemsize(dt) -> int | None:
    """Itemsize of a numpy dtype given as the symbolic ``numpy.dtype(str, ...)`` call."""
    if isinstance(dt, CallRef) and isinstance(dt.args, tuple) and dt.args:
        s = dt.args[0]
    else:
        s = dt
    if not isinstance(s, str) or not s:
        return None
    s = s.lstrip("<>|=!")
    if s in ("?", "b1"):
        return 1
    if s == "O" or s.startswith("O"):
        return 0
    kind, rest = s[0], s[1:]
    digits = "".join(ch for ch in rest if ch.isdigit())
    if kind not in _DTYPE_SIZES or not digits:
        return None
    n = int(digits)
    mult = _DTYPE_SIZES[kind]
    return n * (mult or 1)


def _to_str(v) -> str | None:
    if isinstance(v, str):
        return v
    return None


def walk(data, start: int = 0, end: int | None = None, depth: int = 0) -> WalkResult:
    """Walk one pickle starting at ``start``; stop after STOP, on error or at ``end``."""
    if end is None:
        end = len(data)
    res = WalkResult(start)
    stack: list = []
    metastack: list = []
    memo: dict = {}
    pos = start
    gl = res.globals
    n_ops = 0
    budget = _budget.current()

    def readline(pos: int) -> tuple[bytes, int]:
        nl = data.find(b"\n", pos, end)
        if nl < 0:
            raise PickleParseError(f"truncated: unterminated line at offset {pos}")
        return bytes(data[pos : min(nl, pos + MAX_TEXT)]), nl + 1

    def text(p: int, q: int, codec: str = "utf-8") -> str:
        if q - p <= MAX_TEXT:
            if codec == "utf-8":
                return data[p:q].decode("utf-8", "surrogatepass")
            return bytes(data[p:q]).decode(codec)
        return bytes(data[p : p + MAX_TEXT]).decode(codec, "replace") + f"...<{q - p} bytes>"

    def pop_mark() -> list:
        nonlocal stack
        if not metastack:
            raise PickleParseError("MARK expected but not found")
        items = stack
        stack = metastack.pop()
        return items

    def take(n: int = 1):
        if len(stack) < n:
            raise PickleParseError("stack underflow")

    def make_call(func, args, op: str, offset: int, kwargs=None) -> CallRef:
        if func.__class__ is PersRef:
            cls = func.module_class()
            if cls is not None:  # legacy torch.save: the class came through persistent_load
                func = cls  # its one push (as a pid tuple item) is this use, not a value
        c = CallRef(func, args, op, offset, kwargs)
        if isinstance(func, GlobalRef):
            if op in ("NEWOBJ", "NEWOBJ_EX"):
                func.news += 1
            else:
                func.calls += 1
                full = func.full
                if isinstance(args, tuple) and args:
                    if full in _NEW_ARG0 and isinstance(args[0], GlobalRef):
                        args[0].news += 1
                    elif full in _NEW_ARG1 and len(args) > 1 and isinstance(args[1], GlobalRef):
                        args[1].news += 1
        else:
            res.dynamic_calls.append(c)
        res.calls.append(c)
        return c

    def add_global(module, name, offset, op) -> GlobalRef:
        dyn = not (isinstance(module, str) and isinstance(name, str))
        g = GlobalRef(
            module if isinstance(module, str) else f"<{short_repr(module)}>",
            name if isinstance(name, str) else f"<{short_repr(name)}>",
            offset,
            op,
            dyn,
        )
        gl.append(g)
        return g

    try:
        while True:
            if pos >= end:
                raise PickleParseError(f"truncated: no STOP before end of data at offset {pos}")
            n_ops += 1
            if not n_ops & 0xFFFF:  # cheap periodic resource checks
                if budget is not None:
                    budget.tick()  # raises BudgetExceeded past the file's time budget
                if n_ops > MAX_OPS:
                    raise PickleParseError("too many opcodes")
                if len(stack) > MAX_STACK or len(memo) > MAX_STACK or len(metastack) > MAX_STACK:
                    raise PickleParseError(
                        "stack or memo grows beyond any real checkpoint (resource exhaustion)"
                    )
            op = data[pos]
            opos = pos
            pos += 1
            # --- most frequent opcodes first -------------------------------------------
            if op == 0x71:  # BINPUT
                p = pos + 1
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                if not stack:
                    raise PickleParseError("PUT on empty stack")
                memo[data[pos]] = stack[-1]
                pos = p
            elif op == 0x94:  # MEMOIZE
                if not stack:
                    raise PickleParseError("MEMOIZE on empty stack")
                memo[len(memo)] = stack[-1]
            elif op == 0x68:  # BINGET
                p = pos + 1
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                try:
                    v = memo[data[pos]]
                except KeyError:
                    raise PickleParseError(f"memo key {data[pos]} not found") from None
                if v.__class__ is GlobalRef:
                    v.pushes += 1
                stack.append(v)
                pos = p
            elif op == 0x8C:  # SHORT_BINUNICODE
                p = pos + 1
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                n = data[pos]
                q = pos + 1 + n
                if q > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                stack.append(data[p:q].decode("utf-8", "surrogatepass"))
                pos = q
            elif op == 0x58:  # BINUNICODE
                p = pos + 4
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                (n,) = struct.unpack("<I", data[pos:p])
                pos = p
                q = pos + n
                if q > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                stack.append(text(pos, q))
                pos = q
            elif op == 0x4B:  # BININT1
                p = pos + 1
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                stack.append(data[pos])
                pos = p
            elif op == 0x4D:  # BININT2
                p = pos + 2
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                stack.append(data[pos] | (data[pos + 1] << 8))
                pos = p
            elif op == 0x4A:  # BININT
                p = pos + 4
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                (v,) = struct.unpack("<i", data[pos:p])
                stack.append(v)
                pos = p
            elif op == 0x28:  # MARK
                metastack.append(stack)
                stack = []
            elif op == 0x74:  # TUPLE
                items = pop_mark()
                stack.append(tuple(items))
            elif op == 0x85:  # TUPLE1
                take(1)
                stack[-1] = (stack[-1],)
            elif op == 0x86:  # TUPLE2
                take(2)
                t = (stack[-2], stack[-1])
                del stack[-2:]
                stack.append(t)
            elif op == 0x87:  # TUPLE3
                take(3)
                t = (stack[-3], stack[-2], stack[-1])
                del stack[-3:]
                stack.append(t)
            elif op == 0x29:  # EMPTY_TUPLE
                stack.append(())
            elif op in _TEXT_OPS:  # protocol 0/1 text opcodes: one line argument each
                line, pos = readline(pos)
                if op == 0x70:  # PUT
                    if not stack:
                        raise PickleParseError("PUT on empty stack")
                    try:
                        memo[int(line)] = stack[-1]
                    except ValueError:
                        raise PickleParseError("bad PUT argument") from None
                elif op == 0x67:  # GET
                    try:
                        v = memo[int(line)]
                    except (ValueError, KeyError):
                        raise PickleParseError("bad GET argument") from None
                    if v.__class__ is GlobalRef:
                        v.pushes += 1
                    stack.append(v)
                elif op == 0x49:  # INT
                    if line == b"01":
                        stack.append(True)
                    elif line == b"00":
                        stack.append(False)
                    else:
                        try:
                            stack.append(int(line))
                        except ValueError:
                            raise PickleParseError("bad INT") from None
                elif op == 0x4C:  # LONG
                    try:
                        stack.append(int(line.rstrip(b"L") or b"0"))
                    except ValueError:
                        raise PickleParseError("bad LONG") from None
                elif op == 0x46:  # FLOAT
                    try:
                        stack.append(float(line))
                    except ValueError:
                        raise PickleParseError("bad FLOAT") from None
                elif op == 0x53:  # STRING
                    if len(line) >= 2 and line[0] == line[-1] and line[0] in b"'\"":
                        try:
                            stack.append(codecs.escape_decode(line[1:-1])[0].decode("latin-1"))
                        except Exception:
                            raise PickleParseError("bad STRING") from None
                    else:
                        raise PickleParseError("insecure or bad STRING")
                elif op == 0x56:  # UNICODE
                    stack.append(line.decode("raw-unicode-escape", "replace"))
            elif op == 0x52:  # REDUCE
                take(2)
                args = stack.pop()
                func = stack.pop()
                stack.append(make_call(func, args, "REDUCE", opos))
            elif op == 0x62:  # BUILD
                take(2)
                state = stack.pop()
                inst = stack[-1]
                res.builds += 1
                if isinstance(inst, GlobalRef):
                    res.tamper.append(
                        (
                            opos,
                            f"BUILD sets attributes on {inst.full} itself (a module-level class or function), altering code that runs later",
                        )
                    )
                    inst.pushes += 1
                elif isinstance(inst, CallRef):
                    inst.state = state
                    if isinstance(inst.func, GlobalRef) and inst.func.full in _JOBLIB_WRAPPERS:
                        pos = _skip_joblib_array(data, pos, end, inst, state, res, depth)
            elif op == 0x81:  # NEWOBJ
                take(2)
                args = stack.pop()
                cls = stack.pop()
                stack.append(make_call(cls, args, "NEWOBJ", opos))
            elif op == 0x92:  # NEWOBJ_EX
                take(3)
                kwargs = stack.pop()
                args = stack.pop()
                cls = stack.pop()
                stack.append(make_call(cls, args, "NEWOBJ_EX", opos, kwargs))
            elif op == 0x93:  # STACK_GLOBAL
                take(2)
                name = stack.pop()
                module = stack.pop()
                g = add_global(module, name, opos, "STACK_GLOBAL")
                g.pushes = 1
                stack.append(g)
            elif op == 0x63:  # GLOBAL
                line1, pos = readline(pos)
                line2, pos = readline(pos)
                g = add_global(
                    line1.decode("utf-8", "replace"),
                    line2.decode("utf-8", "replace"),
                    opos,
                    "GLOBAL",
                )
                g.pushes = 1
                stack.append(g)
            elif op == 0x95:  # FRAME
                pos = pos + 8
                if pos > end:
                    raise PickleParseError(f"truncated at offset {pos}")
            elif op == 0x80:  # PROTO
                p = pos + 1
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                proto = data[pos]
                if proto > 5:
                    raise PickleParseError(f"unsupported pickle protocol {proto}")
                res.protocol = max(res.protocol, proto)
                pos = p
            elif op == 0x2E:  # STOP
                res.complete = True
                res.top = stack[-1] if stack else None
                res.end = pos
                res.n_ops = n_ops
                return res
            elif op == 0x7D:  # EMPTY_DICT
                stack.append(SDict())
            elif op == 0x5D:  # EMPTY_LIST
                stack.append(SList())
            elif op == 0x73:  # SETITEM
                take(3)
                v = stack.pop()
                k = stack.pop()
                d = stack[-1]
                if isinstance(d, SDict):
                    if len(d.pairs) < 100_000:
                        d.pairs.append((k, v))
                elif isinstance(d, GlobalRef):
                    res.tamper.append((opos, f"SETITEM writes into {d.full} (module-level object)"))
            elif op == 0x75:  # SETITEMS
                items = pop_mark()
                if not stack:
                    raise PickleParseError("SETITEMS on empty stack")
                d = stack[-1]
                if isinstance(d, SDict):
                    if len(d.pairs) < 100_000:
                        d.pairs.extend(zip(items[0::2], items[1::2], strict=False))
                elif isinstance(d, GlobalRef):
                    res.tamper.append(
                        (opos, f"SETITEMS writes into {d.full} (module-level object)")
                    )
            elif op == 0x61:  # APPEND
                take(2)
                v = stack.pop()
                lst = stack[-1]
                if isinstance(lst, SList):
                    if len(lst) < 100_000:
                        lst.append(v)
                elif isinstance(lst, GlobalRef):
                    res.tamper.append(
                        (opos, f"APPEND calls {lst.full}.append (module-level object)")
                    )
            elif op == 0x65:  # APPENDS
                items = pop_mark()
                if not stack:
                    raise PickleParseError("APPENDS on empty stack")
                lst = stack[-1]
                if isinstance(lst, SList):
                    if len(lst) < 100_000:
                        lst.extend(items[:100_000])
                elif isinstance(lst, GlobalRef):
                    res.tamper.append(
                        (opos, f"APPENDS calls {lst.full}.extend (module-level object)")
                    )
            elif op == 0x4E:  # NONE
                stack.append(None)
            elif op == 0x88:  # NEWTRUE
                stack.append(True)
            elif op == 0x89:  # NEWFALSE
                stack.append(False)
            elif op == 0x47:  # BINFLOAT
                p = pos + 8
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                stack.append(struct.unpack(">d", data[pos:p])[0])
                pos = p
            elif op == 0x43:  # SHORT_BINBYTES
                p = pos + 1
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                n = data[pos]
                q = pos + 1 + n
                if q > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                stack.append(bytes(data[p:q]))
                pos = q
            elif op in (0x42, 0x8E, 0x96, 0x54, 0x8D, 0x55):
                # BINBYTES, BINBYTES8, BYTEARRAY8, BINSTRING, BINUNICODE8, SHORT_BINSTRING
                width = {0x42: 4, 0x54: 4, 0x55: 1}.get(op, 8)
                p = pos + width
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                n = int.from_bytes(data[pos:p], "little", signed=(op == 0x54))
                pos = p
                q = pos + n
                if q > end or n < 0:
                    raise PickleParseError(f"truncated at offset {pos}")
                if op == 0x8D:
                    stack.append(text(pos, q))
                elif op in (0x54, 0x55):
                    stack.append(text(pos, q, "latin-1"))
                elif n > 4096:
                    stack.append(Blob(data, pos, n))
                else:
                    stack.append(bytes(data[pos:q]))
                pos = q
            elif op == 0x8A or op == 0x8B:  # LONG1 / LONG4
                width = 1 if op == 0x8A else 4
                p = pos + width
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                n = int.from_bytes(data[pos:p], "little", signed=(op == 0x8B))
                pos = p
                q = pos + n
                if q > end or n < 0:
                    raise PickleParseError(f"truncated at offset {pos}")
                if n > 64:
                    stack.append(Opaque(f"{n}-byte integer"))
                else:
                    stack.append(int.from_bytes(data[pos:q], "little", signed=True))
                pos = q
            elif op == 0x72:  # LONG_BINPUT
                p = pos + 4
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                if not stack:
                    raise PickleParseError("PUT on empty stack")
                memo[struct.unpack("<I", data[pos:p])[0]] = stack[-1]
                pos = p
            elif op == 0x6A:  # LONG_BINGET
                p = pos + 4
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                key = struct.unpack("<I", data[pos:p])[0]
                if key not in memo:
                    raise PickleParseError(f"memo key {key} not found")
                v = memo[key]
                if v.__class__ is GlobalRef:
                    v.pushes += 1
                stack.append(v)
                pos = p
            elif op == 0x30:  # POP
                if stack:
                    v = stack.pop()
                    if v.__class__ is GlobalRef:
                        v.pops += 1
                else:
                    pop_mark()
            elif op == 0x31:  # POP_MARK
                for v in pop_mark():
                    if v.__class__ is GlobalRef:
                        v.pops += 1
            elif op == 0x32:  # DUP
                take(1)
                v = stack[-1]
                if v.__class__ is GlobalRef:
                    v.pushes += 1
                stack.append(v)
            elif op == 0x69:  # INST
                line1, pos = readline(pos)
                line2, pos = readline(pos)
                args = tuple(pop_mark())
                g = add_global(
                    line1.decode("utf-8", "replace"), line2.decode("utf-8", "replace"), opos, "INST"
                )
                stack.append(make_call(g, args, "INST", opos))
            elif op == 0x6F:  # OBJ
                items = pop_mark()
                if not items:
                    raise PickleParseError("OBJ without class")
                args = tuple(items[1:])
                stack.append(make_call(items[0], args, "OBJ", opos))
            elif op == 0x64:  # DICT
                items = pop_mark()
                d = SDict()
                d.pairs.extend(zip(items[0::2], items[1::2], strict=False))
                stack.append(d)
            elif op == 0x6C:  # LIST
                items = pop_mark()
                stack.append(SList(items))
            elif op == 0x8F:  # EMPTY_SET
                stack.append(SSet())
            elif op == 0x90:  # ADDITEMS
                items = pop_mark()
                if not stack:
                    raise PickleParseError("ADDITEMS on empty stack")
                s = stack[-1]
                if isinstance(s, SSet):
                    s.extend(items[:100_000])
                elif isinstance(s, GlobalRef):
                    res.tamper.append((opos, f"ADDITEMS calls {s.full}.add (module-level object)"))
            elif op == 0x91:  # FROZENSET
                items = pop_mark()
                stack.append(SSet(items))
            elif op == 0x50:  # PERSID
                line, pos = readline(pos)
                pid = line.decode("ascii", "replace")
                if len(res.persistent_ids) < 100_000:
                    res.persistent_ids.append(pid)
                stack.append(PersRef(pid))
            elif op == 0x51:  # BINPERSID
                take(1)
                pid = stack.pop()
                if len(res.persistent_ids) < 100_000:
                    res.persistent_ids.append(pid)
                stack.append(PersRef(pid))
            elif op in (0x82, 0x83, 0x84):  # EXT1 / EXT2 / EXT4
                width = {0x82: 1, 0x83: 2, 0x84: 4}[op]
                p = pos + width
                if p > end:
                    raise PickleParseError(f"truncated at offset {pos}")
                code = int.from_bytes(data[pos:p], "little")
                pos = p
                res.ext_codes.append((opos, code))
                g = add_global("<extension registry>", f"code {code}", opos, "EXT")
                g.pushes = 1
                stack.append(g)
            elif op == 0x97:  # NEXT_BUFFER
                stack.append(Opaque("out-of-band buffer"))
            elif op == 0x98:  # READONLY_BUFFER
                take(1)
            else:
                raise PickleParseError(f"invalid opcode 0x{op:02x} at offset {opos}")
    except PickleParseError as exc:
        res.error = str(exc)
    except (
        IndexError,
        ValueError,
        TypeError,
        struct.error,
        OverflowError,
        MemoryError,
        RecursionError,
    ) as exc:
        res.error = f"malformed pickle near offset {pos}: {type(exc).__name__}: {exc}"
    res.end = pos
    res.n_ops = n_ops
    return res


def _skip_joblib_array(
    data, pos: int, end: int, inst: CallRef, state, res: WalkResult, depth: int
) -> int:
    """Return the offset after the raw array bytes joblib writes behind a NumpyArrayWrapper."""
    if not isinstance(state, SDict):
        raise PickleParseError("joblib NumpyArrayWrapper without a state dict")
    shape = state.get("shape")
    dtype = state.get("dtype")
    if not isinstance(shape, tuple) or not all(isinstance(x, int) and x >= 0 for x in shape):
        raise PickleParseError("joblib array with unreadable shape")
    count = 1
    for x in shape:
        count *= x
    itemsize = _itemsize(dtype)
    if itemsize is None:
        raise PickleParseError(f"joblib array with unreadable dtype {short_repr(dtype)}")
    res.joblib_arrays += 1
    if itemsize == 0:  # object array: a complete pickle follows
        if depth >= MAX_NESTED:
            raise PickleParseError("joblib object arrays nested too deep")
        sub = walk(data, pos, end, depth + 1)
        res.nested.append(sub)
        if not sub.complete:
            raise PickleParseError(f"nested object-array pickle broken: {sub.error}")
        return sub.end
    if state.get("numpy_array_alignment_bytes") is not None:
        if pos >= end:
            raise PickleParseError("truncated joblib padding")
        pos += 1 + data[pos]
    nbytes = count * itemsize
    if pos + nbytes > end:
        raise PickleParseError(f"truncated joblib array data ({nbytes} bytes expected)")
    return pos + nbytes
