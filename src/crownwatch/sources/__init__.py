"""Log sources: one module per vendor format, chosen per file by sniffing content.

To add a format, write a module with ``NAME``, ``sniff(head)`` and ``parse(reader,
path)`` (see :mod:`crownwatch.sources.base`) and list it in ``SOURCES`` — more
specific formats first, because the first module whose ``sniff`` says yes wins.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

from crownwatch.sources.reader import head_text

# Module names under crownwatch.sources, most specific sniff first.
SOURCE_MODULES = (
    "cloudtrail",
    "entra",
    "okta",
    "windows_security",
    "journald",
    "linux_auth",
    "s3_access",
    "gcs_audit",
    "azure_blob",
    "llm_gateway",
    "otel_genai",
    "litellm",
)


def _load() -> list[ModuleType]:
    mods = []
    for name in SOURCE_MODULES:
        try:
            mods.append(importlib.import_module(f"crownwatch.sources.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"crownwatch.sources.{name}":
                raise
    return mods


SOURCES: list[ModuleType] = _load()


def sniff(path: Path) -> ModuleType | None:
    """The source module for this file, or None when no format claims it.

    Binary formats (``.evtx``) are recognised by magic bytes inside their module's
    ``sniff_bytes``; text formats by the first KiB of decompressed text."""
    with open(path, "rb") as fh:
        magic = fh.read(8)
    for mod in SOURCES:
        sniff_bytes = getattr(mod, "sniff_bytes", None)
        if sniff_bytes is not None and sniff_bytes(magic):
            return mod
    head = head_text(path)
    if not head.strip():
        return None
    for mod in SOURCES:
        if mod.sniff(head):
            return mod
    return None
