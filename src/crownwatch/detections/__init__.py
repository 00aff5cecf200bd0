"""Detections, one module each, grouped by family (identity/, exfiltration/,
inference/, workforce/…). Every module under this package that defines ``META``
and ``query`` is a detection; there is no list to keep in sync. What such a module
defines and receives is :mod:`crownwatch.detections.contract`. A detection's
``*_scenarios`` module (its attack and benign scenarios) is found from the detection
by :func:`scenarios_of`, and never imported by a detection run."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from crownwatch.detections.base import Detection
from crownwatch.detections.contract import Meta, Scenario

SCENARIOS_SUFFIX = "_scenarios"


@cache
def all_detections() -> tuple[Detection, ...]:
    found = []
    for info in pkgutil.walk_packages(__path__, prefix=__name__ + "."):
        if (
            info.ispkg
            or info.name.rsplit(".", 1)[-1].startswith("_")
            or info.name.endswith(SCENARIOS_SUFFIX)
            or info.name.endswith((".base", ".contract"))
        ):
            continue
        mod = importlib.import_module(info.name)
        meta = getattr(mod, "META", None)
        if isinstance(meta, Meta) and hasattr(mod, "query"):
            title = getattr(mod, "title", None) or (lambda row, p, _t=meta.title: _t)
            found.append(Detection(meta=meta, query=mod.query, title=title, module=mod))
    ids = [d.id for d in found]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise RuntimeError(f"duplicate detection ids: {sorted(dupes)}")
    return tuple(sorted(found, key=lambda d: d.id))


def get(detection_id: str) -> Detection:
    for d in all_detections():
        if d.id == detection_id:
            return d
    raise KeyError(detection_id)


def scenarios_of(det: Detection) -> list[Scenario]:
    """The scenarios in the detection's sibling ``<module>_scenarios`` (none: [])."""
    name = det.module.__name__ + SCENARIOS_SUFFIX
    try:
        mod = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # the module (or its package) is missing; an import failing inside it is a bug
        if not (exc.name and (name == exc.name or name.startswith(exc.name + "."))):
            raise
        return []
    return list(getattr(mod, "SCENARIOS", []))
