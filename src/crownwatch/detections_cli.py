"""``crownwatch detections list`` and ``crownwatch detections show ID`` — the functions
the CLI calls. Everything they print comes from each detection's ``META`` and module
docstring (:mod:`crownwatch.detections.contract`), so the listing cannot drift from
the code. They print (tables or JSON to stdout, errors to stderr) and return the exit
code: 0 done, 2 an unknown detection id.

Terminal output goes through :func:`crownwatch.inert.safe` like every other command's:
the text is ours, but one rule for every output is what keeps it inert."""

from __future__ import annotations

import inspect
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from crownwatch.inert import safe


def describe(det: Any, full: bool = False) -> dict[str, Any]:
    """One detection's metadata as JSON-ready values; ``full`` adds the module and its
    docstring (what ``show`` prints)."""
    m = det.meta
    out: dict[str, Any] = {
        "id": m.id,
        "family": m.id.split(".", 1)[0],
        "title": m.title,
        "severity": m.severity,
        "attack": list(m.attack),
        "tables": list(m.tables),
        "description": m.description,
        "false_positives": m.false_positives,
        "params": {k: list(v) if isinstance(v, tuple) else v for k, v in m.params.items()},
        "runbook": list(m.runbook),
        "references": list(m.references),
    }
    if full:
        out["module"] = det.module.__name__
        out["doc"] = inspect.cleandoc(det.module.__doc__ or "")
    return out


def list_cmd(fmt: str = "table") -> int:
    """Every detection, in id order."""
    from crownwatch.detections import all_detections

    dets = all_detections()
    if fmt == "json":
        _print_json([describe(d) for d in dets])
        return 0
    console = Console()
    console.print(Text(f"{len(dets)} detections", style="bold"))
    for d in dets:
        console.print()
        _render(describe(d), console)
    console.print()
    console.print(
        Text(
            'Override a parameter in crownwatch.toml under [detections."<id>"]; '
            "crownwatch detections show <id> for the full notes.",
            style="dim",
        )
    )
    return 0


def show_cmd(detection_id: str, fmt: str = "table") -> int:
    """One detection in full; exit 2 (with the nearest ids) when there is no such id."""
    from crownwatch.detections import all_detections

    dets = {d.id: d for d in all_detections()}
    det = dets.get(detection_id)
    if det is None:
        _unknown(detection_id, list(dets))
        return 2
    info = describe(det, full=True)
    if fmt == "json":
        _print_json(info)
        return 0
    console = Console()
    _render(info, console)
    if info["doc"]:
        console.print()
        # the docstring is laid out already (lists, indented columns): printed as it is
        console.print(safe(info["doc"]), soft_wrap=True)
    return 0


def _unknown(detection_id: str, known: list[str]) -> None:
    import difflib

    err = Console(stderr=True)
    msg = Text("unknown detection: ", style="bold red") + safe(detection_id, one_line=True)
    near = difflib.get_close_matches(detection_id, known, n=3, cutoff=0.5)
    near += [k for k in known if k.startswith(detection_id + ".") and k not in near][:5]
    if near:
        msg.append(" (did you mean ")
        msg.append_text(safe(", ".join(near)))
        msg.append("?)")
    err.print(msg)
    err.print(Text("crownwatch detections list shows every id", style="dim"))


def _render(info: dict[str, Any], console: Console) -> None:
    from crownwatch.render import SEV_STYLE

    head = safe(info["id"], one_line=True)
    head.stylize("bold")
    head.append("  ")
    head.append(info["severity"], style=SEV_STYLE.get(info["severity"], ""))
    head.append("  ")
    head.append_text(safe(info["title"], one_line=True))
    console.print(head)

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")  # a URL is kept whole, over two lines
    grid.add_row("ATT&CK/ATLAS", safe(", ".join(info["attack"]) or "-"))
    grid.add_row("tables", safe(", ".join(info["tables"]) or "-"))
    grid.add_row("description", safe(info["description"] or "-"))
    grid.add_row("false positives", safe(info["false_positives"] or "-"))
    params = "\n".join(f"{k} = {json.dumps(v)}" for k, v in info["params"].items())
    grid.add_row("params", safe(params or "-"))
    runbook = "\n".join(f"{i}. {step}" for i, step in enumerate(info["runbook"], 1))
    grid.add_row("runbook", safe(runbook or "-"))
    if "module" in info:
        grid.add_row("references", safe("\n".join(info["references"]) or "-"))
        grid.add_row("module", safe(info["module"]))
    console.print(grid)


def _print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, indent=2) + "\n")
