"""Judging pickle streams: stacked pickles, truncated ones, nested payloads.

Built on :mod:`pickle_vm` (the symbolic walker) and :mod:`globals_policy` (allow/deny).
What it looks for, and why:

* every global a pickle resolves, judged allow / deny / unknown; known-dangerous ones are
  malicious with the reason, unknown callables are suspicious, and a user's own class that is
  only rebuilt (NEWOBJ / copyreg reconstructor / ``torch._tensor._rebuild_from_type_v2``) and
  given state (BUILD) is the everyday ``torch.save(model)`` case, reported at info level;
* calls whose callable is computed at load time (``getattr(...)(...)`` chains), STACK_GLOBAL
  with computed operands, BUILD/SETITEM/APPEND aimed at a module-level object (tampering),
  extension-registry codes;
* gadget arguments: ``numpy.core._ufunc_reconstruct`` imports any module by name, and byte
  strings handed to nested loaders (``pickle.loads``, ``torch.storage._load_from_bytes``) are
  pickles themselves and are walked recursively;
* stacked pickles (a second pickle after ``STOP`` runs when a loader calls ``load`` again),
  truncated or broken pickles (what precedes the break is judged, and the result is an
  ``error`` unless that already makes it suspicious or malicious), and pickles hidden after
  a break (resynchronised at later ``PROTO`` headers, plus a cheap byte search for
  pickle-encoded references to denied modules).
"""

from __future__ import annotations

import re

from . import globals_policy as gp
from .pickle_vm import Blob, CallRef, GlobalRef, WalkResult, short_repr, walk
from .result import ScanResult

TORCH_LEGACY_MAGIC = b"\x8a\x0a" + (0x1950A86A20F9469CFC6C).to_bytes(10, "little")

# protocol-0 openers that a pickle without PROTO header can start with
_P0_OPENERS = set(b"(cl]})NIJKLSVXUTFGMd")

NESTED_LOADERS = {
    "pickle.loads",
    "pickle.load",
    "torch.storage._load_from_bytes",
    "dill.loads",
    "cloudpickle.loads",
    "numpy.loads",
    "pandas.read_pickle",
    "joblib.load",
    "torch.load",
}

MAX_STACKED = 256
MAX_RESYNC = 256
MAX_DEPTH = 4


class PickleSummary:
    __slots__ = ("walks", "complete", "broken", "globals", "joblib", "torch", "end", "not_pickle")

    def __init__(self) -> None:
        self.walks: list[WalkResult] = []
        self.complete = 0
        self.broken = False
        self.globals: set[str] = set()
        self.joblib = False
        self.torch = False
        self.end = 0
        self.not_pickle = False


# The sniffer's complete walk of a whole protocol-0/1 pickle, handed to the scan that follows
# when it walks the very same bytes object from offset 0 to its end (a small file's head *is*
# its data): the second walk doubled the cost of such files. Identity, not equality, and the
# object is held here, so another object can never match; one hand-over only.
_SNIFFED: list = [None, None]


def _sniffed_walk(data, start: int, end: int) -> WalkResult | None:
    head, w = _SNIFFED
    if head is None:
        return None
    _SNIFFED[:] = (None, None)
    if head is data and start == 0 and end == len(data) and w.start == 0:
        return w
    return None


def looks_like_pickle(head: bytes, whole: bool = True) -> bool:
    """Cheap content sniff: a PROTO header, or a protocol-0/1 opener that walks like a pickle.

    Without a PROTO header text files can look like pickles (``certifi\nnumpy\n`` is a GLOBAL),
    so the walk must reach STOP inside ``head`` when ``head`` is the whole file, or run cleanly
    up to the end of ``head`` (a longer pickle) with globals on the way.
    """
    if len(head) >= 2 and head[0] == 0x80 and head[1] <= 5:
        return True
    if head and head[0] in _P0_OPENERS:
        w = walk(head, 0, len(head))
        if w.complete:
            if whole and head.__class__ is bytes:
                _SNIFFED[:] = (head, w)
            return True
        if whole:
            return False
        # "truncated" means the next opcode needs bytes beyond the head: it ran cleanly to there
        return bool(w.globals) and (w.error or "").startswith("truncated") and w.n_ops >= 3
    return False


def scan_raw_references(data, result: ScanResult, cap: int = 64 << 20) -> bool:
    """For files that are not parseable pickles but start like one: denied references only."""
    found = False
    for off, mod, name in heuristic_references(data, 0, min(len(data), cap)):
        v = gp.judge(mod, name)
        if v.action == "deny":
            found = True
            result.add(
                "high",
                "pickle.hidden_reference",
                f"pickle-encoded reference to {gp.describe(mod, name)} at offset {off} in data that "
                f"does not parse as a complete pickle (truncated or broken): {v.reason}",
            )
    return found


def is_torch_legacy(head: bytes) -> bool:
    return TORCH_LEGACY_MAGIC in head[:24]


def scan_pickle_stream(
    data,
    result: ScanResult,
    start: int = 0,
    end: int | None = None,
    *,
    where: str = "",
    stacked: bool = True,
    max_pickles: int | None = None,
    context: str = "",
    depth: int = 0,
    note_stacked: bool = True,
) -> PickleSummary:
    """Walk every pickle from ``start``; add issues to ``result``; return a summary."""
    if end is None:
        end = len(data)
    summ = PickleSummary()
    pos = start
    limit = max_pickles or MAX_STACKED
    prefix = f"{where}: " if where else ""
    while pos < end and len(summ.walks) < limit:
        w = (_sniffed_walk(data, pos, end) if pos == start else None) or walk(data, pos, end)
        summ.walks.append(w)
        _judge_walk(w, result, prefix, context, depth, summ)
        if not w.complete:
            if len(summ.walks) == 1 and not w.globals and w.n_ops < 3 and not w.calls:
                summ.not_pickle = True
                summ.end = w.end
                return summ
            summ.broken = True
            result.error = True  # what follows the break was not seen: unscannable, not clean
            result.add(
                "low",
                "pickle.truncated",
                f"{prefix}pickle #{len(summ.walks)} at offset {w.start} is broken: {w.error}; "
                "everything before the break was judged",
            )
            break
        summ.complete += 1
        pos = w.end
        if len(summ.walks) > 1 and note_stacked:
            result.add(
                "info",
                "pickle.stacked",
                f"{prefix}pickle #{len(summ.walks)} follows the previous STOP at offset {w.start} "
                "(a loader calling load() again runs it)",
            )
        if not stacked or pos >= end:
            break
        nxt = data[pos]
        if not (nxt == 0x80 or nxt in _P0_OPENERS):
            if max_pickles is None:
                result.add(
                    "info",
                    "pickle.trailing_data",
                    f"{prefix}{end - pos} bytes of non-pickle data follow the last STOP at offset {pos}",
                )
            break
    summ.end = pos if not summ.walks else max(w.end for w in summ.walks)
    if summ.broken or (stacked and max_pickles is None and summ.end < end):
        _resync(data, summ.end, end, result, prefix, context, depth, summ)
    return summ


def _resync(data, pos: int, end: int, result, prefix, context, depth, summ) -> None:
    """Look for pickles and pickle-encoded dangerous references after a break."""
    tries = 0
    cur = pos
    while tries < MAX_RESYNC:
        nxt = data.find(b"\x80", cur, end)
        if nxt < 0 or nxt + 1 >= end:
            break
        cur = nxt + 1
        if data[nxt + 1] > 5 or data[nxt + 1] < 2:
            continue
        tries += 1
        w = walk(data, nxt, end)
        if w.globals and (w.complete or len(w.globals) >= 1):
            result.add(
                "medium" if not w.complete else "low",
                "pickle.hidden_pickle",
                f"{prefix}a further pickle starts at offset {nxt}, after the break or "
                "trailing data; loaders that seek there would run it",
            )
            _judge_walk(w, result, prefix + f"hidden pickle at {nxt}: ", context, depth, summ)
            if w.complete:
                cur = w.end
    for off, mod, name in heuristic_references(data, pos, end):
        v = gp.judge(mod, name)
        if v.action == "deny":
            result.add(
                "high",
                "pickle.hidden_reference",
                f"{prefix}bytes after the parseable pickle carry a pickle-encoded reference to "
                f"{gp.describe(mod, name)} at offset {off}: {v.reason}",
            )


# GLOBAL/INST lines followed by an opcode that would use the global (MARK, PUT, MEMOIZE, an
# argument...): prose and SQL such as "point\nFROM\n" do not continue like that
_RE_GLOBAL = re.compile(
    rb"[ci]([A-Za-z_][\w.]{0,120})\n([A-Za-z_][\w.]{0,120})\n[()qp\x94NSVX\x8cKJIUTCB}\]\x85\x86\x87]"
)
_RE_STACK = re.compile(
    rb"(?:\x8c([\x01-\x7f])|X([\x01-\x7f])\x00\x00\x00)([A-Za-z_][\w.]{0,126})(?:\x94|q.|r....)?"
    rb"(?:\x8c([\x01-\x7f])|X([\x01-\x7f])\x00\x00\x00)([A-Za-z_][\w.]{0,126})(?:\x94|q.|r....)?\x93",
    re.S,
)


def heuristic_references(data, start: int, end: int, cap: int = 64 << 20):
    """Yield (offset, module, name) for pickle-encoded global references in raw bytes."""
    region = bytes(data[start : min(end, start + cap)])
    for m in _RE_GLOBAL.finditer(region):
        yield start + m.start(), m.group(1).decode(), m.group(2).decode()
    for m in _RE_STACK.finditer(region):
        l1 = (m.group(1) or m.group(2))[0]
        l2 = (m.group(4) or m.group(5))[0]
        mod, name = m.group(3), m.group(6)
        if len(mod) == l1 and len(name) == l2:
            yield start + m.start(), mod.decode(), name.decode()


def _args_repr(g: GlobalRef, calls: list[CallRef]) -> str:
    for c in calls:
        if c.func is g:
            return f"; called as {short_repr(c)}"
    return ""


def _judge_walk(
    w: WalkResult, result: ScanResult, prefix: str, context: str, depth: int, summ: PickleSummary
) -> None:
    # aggregate usage per resolved name
    usage: dict[tuple[str, str], list[GlobalRef]] = {}
    for g in w.globals:
        usage.setdefault((g.module, g.name), []).append(g)
        summ.globals.add(g.full)
        if g.module.startswith("joblib"):
            summ.joblib = True
        if g.module.startswith("torch"):
            summ.torch = True
    for (module, name), refs in usage.items():
        g = refs[0]
        calls = sum(r.calls for r in refs)
        news = sum(r.news for r in refs)
        others = sum(r.refs for r in refs)
        where = f"{g.op} at offset {g.offset}"
        if g.dynamic:
            result.add(
                "high",
                "pickle.dynamic_global",
                f"{prefix}{g.op} at offset {g.offset} resolves a name computed at load time "
                f"({module}.{name}); scanners that read names statically are blind to it",
            )
            continue
        if g.op == "EXT":
            result.add(
                "medium",
                "pickle.extension_code",
                f"{prefix}{where}: {name} of the copyreg extension registry resolves to whatever "
                "callable the loading process registered",
            )
            continue
        if context == "torchscript" and module.split(".")[0] == "__torch__":
            continue  # TorchScript classes, compiled from the archive's code/, never imported
        v = gp.judge(module, name)
        if v.action == "deny":
            result.add(
                v.severity,
                "pickle.dangerous_global",
                f"{prefix}{gp.describe(module, name)} ({where}): {v.reason}{_args_repr(g, w.calls)}",
            )
        elif v.action == "unknown":
            if calls == 0 and others <= 0 and news > 0 and gp.is_user_module(module):
                result.add(
                    "info",
                    "pickle.custom_class",
                    f"{prefix}{module}.{name} is a class from the user's own code, only rebuilt "
                    "(NEWOBJ) and given state (BUILD); its code must already be installed to load "
                    "this file (the usual torch.save(model) case)",
                )
            else:
                use = []
                if calls:
                    use.append(f"called {calls}x")
                if news:
                    use.append(f"instantiated {news}x")
                if others > 0:
                    use.append("passed as a value")
                result.add(
                    "medium",
                    "pickle.unknown_global",
                    f"{prefix}{module}.{name} ({where}, {', '.join(use) or 'imported'}): "
                    f"{v.reason}{_args_repr(g, w.calls)}",
                )
    for off, what in w.tamper:
        result.add("high", "pickle.global_tamper", f"{prefix}offset {off}: {what}")
    for c in w.dynamic_calls:
        result.add(
            "high",
            "pickle.dynamic_call",
            f"{prefix}{c.op} at offset {c.offset} calls a value computed at load time: "
            f"{short_repr(c)} (attribute-indirection chains hide the real target this way)",
        )
    for c in w.calls:
        f = c.func
        if not isinstance(f, GlobalRef):
            continue
        full = ".".join(gp.normalise(f.module, f.name))
        if full.endswith("_ufunc_reconstruct") and isinstance(c.args, tuple):
            mod = c.args[0] if c.args else None
            nm = c.args[1] if len(c.args) > 1 else None
            if not (
                isinstance(mod, str)
                and mod.split(".")[0] in ("numpy", "scipy")
                and isinstance(nm, str)
                and nm.isidentifier()
                and not nm.startswith("_")
            ):
                result.add(
                    "critical",
                    "pickle.gadget",
                    f"{prefix}{full} at offset {c.offset} imports an arbitrary module and "
                    f"fetches an attribute: {short_repr(c)}",
                )
        if full == "builtins.type" and not (isinstance(c.args, tuple) and len(c.args) == 1):
            result.add(
                "high",
                "pickle.gadget",
                f"{prefix}builtins.type at offset {c.offset} creates a class at load time: {short_repr(c)}",
            )
        if full in ("functools.partial", "functools.partialmethod"):
            target = c.args[0] if isinstance(c.args, tuple) and c.args else None
            if not (
                isinstance(target, GlobalRef)
                and not target.dynamic
                and gp.judge(target.module, target.name).action == "allow"
            ):
                result.add(
                    "high",
                    "pickle.gadget",
                    f"{prefix}{full} at offset {c.offset} wraps {short_repr(target)}: binding arguments to "
                    "a callable that is not known-safe hides the real call (documented scanner bypass)",
                )
        if full in NESTED_LOADERS and isinstance(c.args, tuple) and c.args:
            payload = c.args[0]
            if isinstance(payload, Blob):
                payload = payload.bytes()
            if isinstance(payload, bytes | bytearray) and depth < MAX_DEPTH:
                scan_pickle_stream(
                    payload,
                    result,
                    where=f"{prefix}pickle nested in {full} argument",
                    context=context,
                    depth=depth + 1,
                )
            elif not isinstance(payload, bytes | bytearray):
                result.add(
                    "high" if full != "torch.storage._load_from_bytes" else "medium",
                    "pickle.nested_dynamic",
                    f"{prefix}{full} at offset {c.offset} unpickles data built at load time "
                    f"({short_repr(payload)}); it cannot be inspected statically",
                )
    for pid in w.persistent_ids[:1]:
        if not (
            isinstance(pid, tuple) and pid and pid[0] in ("storage", "module")
        ) and context not in ("torchscript",):
            result.add(
                "low",
                "pickle.persistent_id",
                f"{prefix}persistent ids (e.g. {short_repr(pid)}) are resolved by the loader's "
                "persistent_load, outside the pickle",
            )
    for sub in w.nested:
        _judge_walk(
            sub, result, prefix + f"object-array pickle at {sub.start}: ", context, depth + 1, summ
        )
