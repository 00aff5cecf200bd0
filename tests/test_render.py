"""The terminal tables: a long run shows its most severe rows and says what it left out."""

from __future__ import annotations

import re

from rich.console import Console

from crownwatch.render import TABLE_ROWS, findings_table, incidents_table


def _finding(i: int, severity: str) -> dict:
    return {
        "id": f"f{i:05d}",
        "detection": "identity.password_spray",
        "title": f"finding {i}",
        "severity": severity,
        "first_seen": "2026-03-03T03:00:00Z",
        "last_seen": "2026-03-03T03:05:00Z",
        "attack": ["T1110.003"],
    }


def _printed(draw, rows) -> str:
    console = Console(record=True, width=140, color_system=None)
    draw(rows, console)
    return console.export_text()


def test_a_long_findings_table_shows_the_most_severe_in_order_and_counts_the_rest():
    # every fifth a high, the rest medium: all the highs are shown, then the first mediums
    rows = [_finding(i, "high" if i % 5 == 0 else "medium") for i in range(TABLE_ROWS + 150)]
    out = _printed(findings_table, rows)
    shown = re.findall(r"f\d{5}", out)
    highs = [r["id"] for r in rows if r["severity"] == "high"]
    assert len(shown) == TABLE_ROWS and set(highs) <= set(shown)
    assert shown == sorted(shown)  # in the order given
    assert f"{len(rows)} findings, the {TABLE_ROWS} most severe" in out
    assert "… and 150 more findings not shown (150 medium)" in out
    assert "crownwatch findings --format json" in out


def test_a_short_findings_table_shows_every_row_and_no_note():
    rows = [_finding(i, "low") for i in range(3)]
    out = _printed(findings_table, rows)
    assert re.findall(r"f\d{5}", out) == ["f00000", "f00001", "f00002"]
    assert "3 findings" in out and "not shown" not in out


def test_a_long_incidents_table_is_capped_the_same_way():
    rows = [
        {
            "id": f"i{i:05d}",
            "title": f"incident {i}",
            "summary": "a spray, then a sign-in",
            "severity": "critical" if i == 260 else "low",
            "findings": ["f1"],
            "status": "new",
        }
        for i in range(TABLE_ROWS + 61)
    ]
    out = _printed(incidents_table, rows)
    shown = re.findall(r"i\d{5}", out)
    assert len(shown) == TABLE_ROWS and "i00260" in shown
    assert "… and 61 more incidents not shown (61 low)" in out
