"""HDF5 / legacy Keras ``.h5`` without h5py.

A full HDF5 reader is out of scope and h5py is a heavy dependency; what matters for code
execution is the Keras ``model_config`` root attribute, a JSON document stored verbatim in the
file. The file is memory-mapped and searched for ``{"class_name"`` JSON objects, which are
decoded with a bounded JSON decoder and checked like a ``.keras`` config (Lambda layers,
custom objects, dangerous module references). HDF5 files without such a document hold
weights only.
"""

from __future__ import annotations

import json

from .keras import check_keras_config
from .result import ScanResult

MAX_CONFIG = 64 << 20
MAX_CANDIDATES = 64


def scan_h5(data, res: ScanResult) -> None:
    res.format = "h5"
    found = 0
    pos = 0
    dec = json.JSONDecoder()
    tries = 0
    while tries < MAX_CANDIDATES:
        i = data.find(b'{"class_name"', pos)
        if i < 0:
            break
        tries += 1
        end = data.find(b"\x00", i, i + MAX_CONFIG)
        chunk = bytes(data[i : end if end > 0 else i + MAX_CONFIG])
        try:
            obj, n = dec.raw_decode(chunk.decode("utf-8", "replace"))
        except (ValueError, RecursionError):
            pos = i + 1
            continue
        found += 1
        check_keras_config(obj, "model_config", res)
        pos = i + max(n, 1)
    if not found:
        res.add(
            "info", "h5.no_model_config", "HDF5 file without a Keras model_config (weights only)"
        )
