"""Keras model configs (``.keras`` archives' ``config.json``, the ``model_config`` attribute of
legacy ``.h5`` files, ``keras_metadata.pb`` of SavedModels).

What runs at load time is decided by the config: a ``Lambda`` layer carries marshalled
Python bytecode that is executed when loaded with ``safe_mode=False`` (CVE-2024-3660), and
every ``{"module": ..., "class_name": ...}`` reference is imported and looked up; references
outside Keras/TensorFlow reach arbitrary code (CVE-2025-1550, CVE-2025-8747 via
``keras.utils.get_file``). Lambda bytecode is not unmarshalled (that would be executing a
parser on attacker data); its printable names are searched for execution primitives.
"""

from __future__ import annotations

import base64
import binascii
import json
import re

from . import globals_policy as gp
from .result import ScanResult

SAFE_MODULE_PREFIXES = (
    "keras",
    "tensorflow",
    "tf_keras",
    "tf",
    "keras_nlp",
    "keras_hub",
    "keras_cv",
    "builtins",
)
BYTECODE_BAD = re.compile(
    rb"\b(os|posix|nt|system|popen|subprocess|exec|eval|__import__|"
    rb"socket|urllib|requests|builtins|getattr|compile|open|pty|shutil|ctypes)\b"
)


def check_keras_json(raw: bytes, where: str, res: ScanResult) -> None:
    try:
        cfg = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError) as exc:
        res.error = True
        res.add("low", "keras.bad_config", f"{where}: config is not JSON: {exc}")
        return
    check_keras_config(cfg, where, res)


def check_keras_config(cfg, where: str, res: ScanResult) -> None:
    stack = [cfg]
    seen = 0
    while stack and seen < 1_000_000:
        node = stack.pop()
        seen += 1
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        cls = node.get("class_name")
        module = node.get("module")
        if cls == "Lambda" or cls == "__lambda__":
            _check_lambda(node, where, res)
        if isinstance(module, str) and isinstance(cls, str):
            fname = (
                node.get("config")
                if cls == "function" and isinstance(node.get("config"), str)
                else cls
            )
            _check_reference(module, fname, where, res)
        elif isinstance(node.get("registered_name"), str) and ">" in node["registered_name"]:
            res.add(
                "low",
                "keras.custom_object",
                f"{where}: custom object {node['registered_name']!r} must be supplied by the loader's code",
            )


def _check_reference(module: str, name: str, where: str, res: ScanResult) -> None:
    v = gp.judge(module, name)
    if v.action == "deny":
        res.add(
            v.severity,
            "keras.dangerous_reference",
            f"{where}: config references {module}.{name}: {v.reason}",
        )
        return
    if module.split(".")[0] not in SAFE_MODULE_PREFIXES:
        res.add(
            "medium",
            "keras.custom_object",
            f"{where}: config names module {module} for {name}; Keras versions before 3.9 import it at "
            "load time (CVE-2025-1550), running code outside Keras/TensorFlow",
        )


def _check_lambda(node: dict, where: str, res: ScanResult) -> None:
    cfg = node.get("config") if isinstance(node.get("config"), dict) else node
    fn = cfg.get("function", cfg.get("code"))
    code = None
    if isinstance(fn, dict):
        inner = fn.get("config")
        code = inner.get("code") if isinstance(inner, dict) else inner
        if fn.get("class_name") == "function" and isinstance(inner, str):
            code = None  # a reference to a named function: checked as a module reference
    elif isinstance(fn, list | tuple) and fn and isinstance(fn[0], str):
        code = fn[0]
    elif isinstance(fn, str) and node.get("class_name") == "__lambda__":
        code = fn
    if isinstance(code, str):
        try:
            blob = base64.b64decode(code.encode(), validate=False)
        except (binascii.Error, ValueError):
            blob = code.encode()
        bad = sorted({m.decode() for m in BYTECODE_BAD.findall(blob)})
        if bad:
            res.add(
                "critical",
                "keras.lambda_code",
                f"{where}: Lambda layer carries Python bytecode referring to {', '.join(bad)}; it runs "
                "when the model is loaded with safe_mode=False",
            )
        else:
            res.add(
                "high",
                "keras.lambda_code",
                f"{where}: Lambda layer carries marshalled Python bytecode ({len(blob)} bytes); arbitrary "
                "code runs when the model is loaded with safe_mode=False",
            )
    else:
        res.add(
            "medium",
            "keras.lambda",
            f"{where}: Lambda layer refers to a Python function that the loader resolves by name",
        )
