"""Attacker-controlled text made inert for the terminal — one rule for every output.

Log values, artifact content (pickle global names, archive member names, GGUF keys),
file names and command-line arguments are written by the people crownwatch hunts.
Shown in a terminal they must stay text: never parsed as Rich markup (``[link=…]``,
``[/]``), and no character that a terminal acts on — C0/C1 controls (escape
sequences: OSC 8 hyperlinks, cursor moves, title changes), and the bidirectional
controls and marks that reorder what is displayed (Trojan Source) — survives; each is
replaced by U+FFFD so the reader sees that something was there.

This module imports nothing heavy (Rich's ``Text`` only when :func:`safe` is called), so
the scanner's lean entry point can use it without loading the lake, the engine or Rich.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from rich.text import Text

# C0 except tab and newline, DEL, C1; bidi embeddings/overrides/isolates and the
# implicit marks (LRM, RLM, ALM)
_CTRL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# in a one-line cell, line and paragraph breaks would fake a new row
_BREAKS = re.compile(r"[\t\n\r\u0085\u2028\u2029\ufeff]")


def inert_str(value, one_line: bool = False) -> str:
    """``value`` as a plain string with every terminal-active character replaced."""
    s = _CTRL.sub("\ufffd", str(value))
    return _BREAKS.sub("\ufffd", s) if one_line else s


def safe(value, one_line: bool = False) -> Text:
    """``value`` as inert Rich text: no markup, no escapes, no bidi tricks."""
    from rich.text import Text

    return Text(inert_str(value, one_line))


def print_error(console, label: str, detail) -> None:
    """``label: detail`` in red on ``console``, ``detail`` inert (it may quote a path, an
    id or a record). Not wrapped at the terminal's width: a path cut across lines
    cannot be copied or searched for in a log."""
    from rich.text import Text

    console.print(Text(f"{label}: ", style="bold red") + safe(detail), soft_wrap=True)
