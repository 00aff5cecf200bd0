"""ONNX models, parsed from the protobuf wire format by hand.

Two things in an ONNX file reach outside the model: tensors stored as *external data*,
whose ``location`` is a path the runtime opens relative to the model folder - an absolute
path or one climbing out with ``..`` reads (or, with some tools, writes) arbitrary files
(CVE-2024-27318 / CVE-2024-5187) - and operators from custom domains, which need a native
custom-op library to be loaded. Standard domains are ``""``/``ai.onnx``, ``ai.onnx.ml``,
``ai.onnx.training``, ``ai.onnx.preview.training`` and ``com.microsoft*``. Subgraphs (If /
Loop / Scan bodies) and model-local functions are walked too.
"""

from __future__ import annotations

import os

from .protowire import ProtoError, fields, text
from .result import ScanResult

STD_DOMAINS = {
    "",
    "ai.onnx",
    "ai.onnx.ml",
    "ai.onnx.training",
    "ai.onnx.preview.training",
    "com.microsoft",
    "com.microsoft.nchwc",
    "com.microsoft.experimental",
    "com.microsoft.dml",
    "org.pytorch.aten",
    "com.ms.internal.nhwc",
    "pkg.onnxscript.torch_lib",
    "pkg.onnxscript.torch_lib.common",
    "pkg.torch.onnx",
}
MAX_DEPTH = 16


class _State:
    def __init__(self, data, res: ScanResult, model_dir: str | None):
        self.data = data
        self.res = res
        self.model_dir = model_dir
        self.nodes = 0
        self.domains: set[str] = set()


def scan_onnx(data, res: ScanResult, fs_path: str | None = None) -> None:
    res.format = "onnx"
    st = _State(data, res, os.path.dirname(os.path.abspath(fs_path)) if fs_path else None)
    saw_graph = False
    try:
        for fno, wt, v in fields(data):
            if fno == 7 and wt == 2:
                saw_graph = True
                _graph(st, v, 0)
            elif fno == 8 and wt == 2:  # opset_import
                for f2, w2, v2 in fields(data, *v):
                    if f2 == 1 and w2 == 2:
                        _domain(st, text(data, v2), "opset import")
            elif fno == 25 and wt == 2:  # functions
                _function(st, v, 0)
        if not saw_graph:
            res.add("low", "onnx.no_graph", "ModelProto without a graph")
    except ProtoError as exc:
        if not saw_graph and not st.nodes:
            res.format = "unknown"
            res.add(
                "info", "format.not_model", "starts like an ONNX model but does not parse as one"
            )
            return
        res.error = True
        res.add(
            "low",
            "onnx.malformed",
            f"protobuf structure broken after {st.nodes} nodes ({exc}); what precedes the break was checked",
        )


def _domain(st: _State, dom: str, where: str) -> None:
    if dom not in STD_DOMAINS and dom not in st.domains:
        st.domains.add(dom)
        st.res.add(
            "medium",
            "onnx.custom_domain",
            f"{where} uses custom operator domain {dom!r}; running the model needs a native custom-op library",
        )


def _graph(st: _State, span, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ProtoError("graphs nested too deep")
    d = st.data
    for fno, wt, v in fields(d, *span):
        if wt != 2:
            continue
        if fno == 1:
            _node(st, v, depth)
        elif fno == 5:
            _tensor(st, v)
        elif fno == 15:  # sparse initializer: values (1) and indices (2) are tensors
            for f2, w2, v2 in fields(d, *v):
                if f2 in (1, 2) and w2 == 2:
                    _tensor(st, v2)


def _node(st: _State, span, depth: int) -> None:
    d = st.data
    op = dom = ""
    st.nodes += 1
    for fno, wt, v in fields(d, *span):
        if wt != 2:
            continue
        if fno == 4:
            op = text(d, v)
        elif fno == 7:
            dom = text(d, v)
        elif fno == 5:  # attribute: subgraphs g (6), graphs (11), tensors t (5) / tensors (10)
            for f2, w2, v2 in fields(d, *v):
                if w2 == 2 and f2 in (6, 11):
                    _graph(st, v2, depth + 1)
                elif w2 == 2 and f2 in (5, 10):
                    _tensor(st, v2)
    if dom:
        _domain(st, dom, f"node {op!r}")


def _function(st: _State, span, depth: int) -> None:
    d = st.data
    for fno, wt, v in fields(d, *span):
        if fno == 7 and wt == 2:
            _node(st, v, depth + 1)
        elif fno == 9 and wt == 2:
            for f2, w2, v2 in fields(d, *v):
                if f2 == 1 and w2 == 2:
                    _domain(st, text(d, v2), "function opset import")


def _tensor(st: _State, span) -> None:
    d = st.data
    name = ""
    for fno, wt, v in fields(d, *span):
        if fno == 8 and wt == 2:
            name = text(d, v)
        elif fno == 13 and wt == 2:  # external_data: StringStringEntryProto
            key = val = ""
            for f2, w2, v2 in fields(d, *v):
                if f2 == 1 and w2 == 2:
                    key = text(d, v2)
                elif f2 == 2 and w2 == 2:
                    val = text(d, v2)
            if key == "location":
                _location(st, name, val)


def _location(st: _State, tensor: str, loc: str) -> None:
    norm = loc.replace("\\", "/")
    parts = norm.split("/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":") or norm.startswith("~"):
        st.res.add(
            "high",
            "onnx.external_data_escape",
            f"tensor {tensor!r}: external data at absolute path {loc!r} - the runtime reads any file",
        )
        return
    if ".." in parts:
        st.res.add(
            "high",
            "onnx.external_data_escape",
            f"tensor {tensor!r}: external data path {loc!r} climbs out of the model folder",
        )
        return
    if st.model_dir:
        full = os.path.realpath(os.path.join(st.model_dir, norm))
        root = os.path.realpath(st.model_dir)
        if os.path.islink(os.path.join(st.model_dir, norm)) and not full.startswith(root + os.sep):
            st.res.add(
                "high",
                "onnx.external_data_escape",
                f"tensor {tensor!r}: external data {loc!r} is a symlink leaving the model folder",
            )
