"""GGUF (llama.cpp models): metadata sanity and chat-template gadgets.

GGUF metadata is parsed by C/C++ loaders; absurd counts and lengths have produced heap
overflows there (CVE-2024-25664 family), so the header, every key/value and the tensor
table are checked against the file size. Chat templates (``tokenizer.chat_template*``) are
Jinja2 rendered by Python front ends; an unsandboxed render of a template that walks
``__class__.__mro__``/``__subclasses__``/``__globals__`` runs code (CVE-2024-34359,
llama-cpp-python). Templates are parsed with Jinja's own parser and their syntax tree is
judged (:mod:`.jinja_check`), so payloads whose names are built at render time are caught
too; the text patterns below are only a backstop for templates Jinja cannot parse. Metadata
strings beyond 16 MiB are skipped, not decoded.
"""

from __future__ import annotations

import re
import struct

from . import budget
from .result import ScanResult

MAX_STRING = 16 << 20

FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
MAX_KV = 1_000_000
MAX_TENSORS = 10_000_000
MAX_KEY = 65535

JINJA_GADGETS = [
    (
        re.compile(
            r"__(?:class|mro|subclasses|globals|builtins|base|bases|init|import|getattribute|dict|"
            r"code|func|self|loader|spec|reduce|reduce_ex)__"
        ),
        "walks Python object internals (sandbox escape)",
    ),
    (
        re.compile(
            r"\.\s*(?:popen|system|eval|exec|__import__|import_module|check_output|spawn\w*)\s*\("
        ),
        "calls an execution primitive",
    ),
    (
        re.compile(
            r"\b(?:os|subprocess|importlib|builtins)\s*\.\s*(?:popen|system|spawn\w*|run|call|Popen|"
            r"import_module|getoutput|check_output|exec\w*)\b"
        ),
        "references a command-execution function",
    ),
    (re.compile(r"\|\s*attr\s*\(\s*['\"]_"), "reads private attributes through the attr filter"),
    (
        re.compile(r"\b(?:cycler|joiner|namespace|lipsum|range|dict)\s*\.\s*_"),
        "escapes through a Jinja global's internals",
    ),
    (
        re.compile(
            r"self\._TemplateReference__context|request\.application|url_for\.__|get_flashed_messages\.__"
        ),
        "reaches the template context or framework objects",
    ),
]


class _R:
    def __init__(self, data, pos: int):
        self.data = data
        self.pos = pos
        self.size = len(data)

    def take(self, n: int) -> bytes:
        if n < 0 or n > self.size:
            raise ValueError(f"length {n} larger than the whole file")
        if self.pos + n > self.size:
            raise EOFError(f"file ends inside a {n}-byte field at offset {self.pos}")
        b = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return b

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def string(self, v1: bool, limit: int) -> str | None:
        """The string, or None for one longer than MAX_STRING (skipped, bounds-checked)."""
        n = self.u32() if v1 else self.u64()
        if n > limit:
            raise ValueError(f"string length {n} exceeds limit {limit}")
        if n > MAX_STRING:
            if self.pos + n > self.size:
                raise EOFError(f"file ends inside a {n}-byte string at offset {self.pos}")
            self.pos += n
            return None
        return self.take(n).decode("utf-8", "replace")


def scan_gguf(data, res: ScanResult) -> None:
    res.format = "gguf"
    r = _R(data, 4)
    try:
        version = r.u32()
        if version not in (1, 2, 3):
            res.add("medium", "gguf.bad_header", f"unknown GGUF version {version}")
            return
        v1 = version == 1
        n_tensors = r.u32() if v1 else r.u64()
        n_kv = r.u32() if v1 else r.u64()
        if n_kv > MAX_KV or n_tensors > MAX_TENSORS or n_kv > r.size or n_tensors > r.size:
            res.add(
                "medium",
                "gguf.bad_header",
                f"implausible counts: {n_tensors} tensors, {n_kv} metadata keys for a {r.size}-byte file",
            )
            return
        for i in range(n_kv):
            if not i & 1023:
                budget.tick()
            key = r.string(v1, MAX_KEY)
            vtype = r.u32()
            val = _value(r, vtype, v1, 0)
            if (
                key == "general.alignment"
                and isinstance(val, int)
                and (val <= 0 or val & (val - 1))
            ):
                res.add(
                    "medium", "gguf.bad_metadata", f"general.alignment {val} is not a power of two"
                )
            if key.startswith("tokenizer.chat_template"):
                if isinstance(val, str):
                    _check_template(key, val, res)
                elif vtype == 8:
                    res.add(
                        "medium",
                        "gguf.template_injection",
                        f"{key}: chat template longer than {MAX_STRING:,} bytes; not judged",
                    )
        data_start = None
        for i in range(n_tensors):
            if not i & 1023:
                budget.tick()
            name = r.string(v1, MAX_KEY)
            n_dims = r.u32()
            if n_dims > 8:
                res.add("medium", "gguf.bad_tensor", f"tensor {name!r}: {n_dims} dimensions")
                return
            dims = [r.u32() if v1 else r.u64() for _ in range(n_dims)]
            ttype = r.u32()
            off = r.u64()
            if ttype > 64:
                res.add("medium", "gguf.bad_tensor", f"tensor {name!r}: unknown type {ttype}")
            if data_start is None:
                data_start = r.pos  # provisional; fixed after the table
            if any(d > (1 << 40) for d in dims):
                res.add("medium", "gguf.bad_tensor", f"tensor {name!r}: implausible shape {dims}")
            if off > r.size:
                res.add(
                    "medium", "gguf.bad_tensor", f"tensor {name!r}: offset {off} beyond the file"
                )
    except EOFError as exc:
        res.error = True
        res.add("low", "gguf.truncated", f"file is truncated: {exc}; what precedes was checked")
    except (ValueError, struct.error, RecursionError) as exc:
        res.add(
            "medium",
            "gguf.malformed",
            f"metadata cannot be parsed safely ({exc}); crafted lengths like this target loader parsers",
        )


def _value(r: _R, vtype: int, v1: bool, depth: int):
    if vtype in FIXED:
        b = r.take(FIXED[vtype])
        if vtype in (6, 12):
            return struct.unpack("<f" if vtype == 6 else "<d", b)[0]
        if vtype == 7:
            return b != b"\x00"
        return int.from_bytes(b, "little", signed=vtype in (1, 3, 5, 11))
    if vtype == 8:
        return r.string(v1, r.size)
    if vtype == 9:
        if depth > 2:
            raise ValueError("arrays nested too deep")
        etype = r.u32()
        n = r.u32() if v1 else r.u64()
        if etype in FIXED:
            r.take(n * FIXED[etype])  # bounds-checked skip
            return None
        if n > r.size:
            raise ValueError(f"array of {n} elements in a {r.size}-byte file")
        if etype == 8:  # string arrays (vocabularies): skip without decoding
            for _ in range(n):
                ln = r.u32() if v1 else r.u64()
                if ln > r.size:
                    raise ValueError(f"string length {ln} larger than the whole file")
                if r.pos + ln > r.size:
                    raise EOFError("file ends inside the vocabulary")
                r.pos += ln
            return None
        for _ in range(n):
            _value(r, etype, v1, depth + 1)
        return None
    raise ValueError(f"unknown metadata value type {vtype}")


def _check_template(key: str, tpl: str, res: ScanResult) -> None:
    from .jinja_check import check_template

    findings, problem = check_template(tpl)
    for f in findings:
        res.add(
            f.severity,
            "gguf.template_injection",
            f"{key}: Jinja template {f.reason}"
            + (" - runs code when rendered without a sandbox" if f.severity != "medium" else ""),
        )
    if problem is None:
        return
    res.add("info", "gguf.template_unparsed", f"{key}: {problem}; Jinja renderers reject it")
    hits = [why for rx, why in JINJA_GADGETS if rx.search(tpl)]  # backstop for other renderers
    if hits:
        m = next(rx.search(tpl) for rx, _ in JINJA_GADGETS if rx.search(tpl))
        snippet = tpl[max(0, m.start() - 40) : m.end() + 40].replace("\n", " ")
        res.add(
            "critical",
            "gguf.template_injection",
            f"{key}: Jinja template {'; '.join(hits)} - runs code when rendered without a sandbox "
            f"(near: {snippet!r})",
        )
