"""TensorFlow SavedModel (``saved_model.pb``) and frozen ``GraphDef`` files, parsed from the
protobuf wire format by hand, plus ``keras_metadata.pb``.

A SavedModel is a graph of ops the runtime executes when the model is served. Most ops are
math, but some run Python (``PyFunc``, ``PyFuncStateless``, ``EagerPyFunc``) or touch the
file system (``ReadFile``, ``WriteFile``, ``MatchingFiles``, ``DeleteFile``...), which turns a
model into a file reader/writer. Graph nodes and every function in the function library are
walked. ``keras_metadata.pb`` carries the Keras layer configs as JSON strings, checked like a
``.keras`` config.
"""

from __future__ import annotations

import json

from .keras import check_keras_config
from .protowire import ProtoError, fields, text
from .result import ScanResult

PY_OPS = {"PyFunc", "PyFuncStateless", "EagerPyFunc"}
FILE_OPS = {
    "ReadFile",
    "WriteFile",
    "MatchingFiles",
    "DeleteFile",
    "ImmutableConst",
    "WholeFileReader",
    "WholeFileReaderV2",
    "FixedLengthRecordReader",
    "TextLineReader",
    "TFRecordReader",
    "Save",
    "SaveSlices",
    "Restore",
    "RestoreSlice",
    "LoadAndRemapMatrix",
    "CreateSummaryFileWriter",
}
NET_OPS = {"DecodeProtoV2", "EncodeProto"}  # noted only


def scan_savedmodel(data, res: ScanResult, name: str) -> bool:
    res.format = "savedmodel"
    if name.lower().endswith("keras_metadata.pb"):
        return _keras_metadata(data, res)
    ops: dict[str, int] = {}
    try:
        kind = _walk_saved_model(data, ops)
    except ProtoError as exc:
        res.error = True
        res.add("low", "savedmodel.malformed", f"protobuf structure broken: {exc}")
        return bool(ops)
    if not kind:
        return False
    for op, count in sorted(ops.items()):
        if op in PY_OPS:
            res.add(
                "critical",
                "savedmodel.python_op",
                f"graph uses {op} ({count}x): the op calls a Python function when the graph runs",
            )
        elif op in FILE_OPS:
            res.add(
                "high",
                "savedmodel.file_op",
                f"graph uses {op} ({count}x): the model reads or writes files when it runs",
            )
    return True


def _walk_saved_model(data, ops: dict[str, int]) -> str | None:
    metas = []
    nodes = []
    for fno, wt, v in fields(data):
        if fno == 2 and wt == 2:
            metas.append(v)
        elif fno == 1 and wt == 2:
            nodes.append(v)
    if metas and not nodes:
        for span in metas:
            for fno, wt, v in fields(data, *span):
                if fno == 2 and wt == 2:
                    _graph(data, v, ops)
        return "savedmodel"
    if nodes:  # a bare GraphDef: repeated NodeDef at field 1
        _graph(data, (0, len(data)), ops)
        return "graphdef" if ops else None
    return None


def _graph(data, span, ops) -> None:
    for fno, wt, v in fields(data, *span):
        if fno == 1 and wt == 2:
            _nodedef(data, v, ops)
        elif fno == 2 and wt == 2:  # FunctionDefLibrary
            for f2, w2, v2 in fields(data, *v):
                if f2 == 1 and w2 == 2:  # FunctionDef
                    for f3, w3, v3 in fields(data, *v2):
                        if f3 == 3 and w3 == 2:
                            _nodedef(data, v3, ops)


def _nodedef(data, span, ops) -> None:
    for fno, wt, v in fields(data, *span):
        if fno == 2 and wt == 2:
            op = text(data, v)
            if not op.isprintable() or len(op) > 200:
                raise ProtoError("op name is not text")
            ops[op] = ops.get(op, 0) + 1


def _keras_metadata(data, res: ScanResult) -> bool:
    found = False
    stack = [(0, len(data), 0)]
    while stack:
        s, e, depth = stack.pop()
        try:
            for _fno, wt, v in fields(data, s, e):
                if wt != 2:
                    continue
                raw = bytes(data[v[0] : v[1]])
                if raw[:1] == b"{":
                    try:
                        cfg = json.loads(raw.decode("utf-8"))
                    except (ValueError, UnicodeDecodeError):
                        cfg = None
                    if cfg is not None:
                        found = True
                        check_keras_config(cfg, "keras_metadata", res)
                        continue
                if depth < 4:
                    stack.append((v[0], v[1], depth + 1))
        except ProtoError:
            continue
    return found or True
