"""``crownwatch report``: one self-contained HTML file a responder can read without the CLI.

Everything in the page comes from the lake (findings, incidents, detections' META) and
is rendered server-side: the timeline and entity graph are inline SVG computed here,
so the page carries no script at all. Its Content-Security-Policy forbids every fetch
(``default-src 'none'``), and every value — all of which may come from a log an
attacker wrote — reaches the page through Jinja2's autoescaping, never by string
concatenation.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from crownwatch.outputs.report.build import report_context


def render_report(findings: list[dict], incidents: list[dict]) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("crownwatch.outputs.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    ctx = report_context(findings, incidents)
    ctx["generated"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return env.get_template("report.html.j2").render(**ctx)


def write_report(lake_root: str | Path, out: str | Path) -> Path:
    """Render the lake's findings and incidents into ``out``; returns the path."""
    from crownwatch.findings import FindingStore
    from crownwatch.incidents.store import IncidentStore

    html = render_report(FindingStore(lake_root).all(), IncidentStore(lake_root).all())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out
