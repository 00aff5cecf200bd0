"""Configuration: ``crownwatch.toml``.

Looked for in ``--config``, then ``$CROWNWATCH_CONFIG``, then ``./crownwatch.toml``.
Detection thresholds live under ``[detections."<detection id>"]`` and override the
defaults declared in each detection module; ``enabled = false`` turns one off.
Other sections (``[[assets]]``, ``[organisation]``) belong to the features that read them.
See ``crownwatch.example.toml`` for every key.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    pass


def config_path(explicit: str | Path | None = None) -> Path | None:
    for candidate in (explicit, os.environ.get("CROWNWATCH_CONFIG"), "crownwatch.toml"):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
        if candidate and candidate == explicit:
            raise ConfigError(f"config file not found: {candidate}")
    return None


def load_config(explicit: str | Path | None = None) -> dict[str, Any]:
    path = config_path(explicit)
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
