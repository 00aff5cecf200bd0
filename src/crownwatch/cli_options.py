"""Options every command group shares, defined once so ``--lake`` and ``--quiet`` read the
same in ``crownwatch``, ``crownwatch lake`` and ``crownwatch sigma``. Typer only: imported at
start-up.

Help texts go through Rich markup, where ``[default: …]`` is a tag and vanishes:
brackets meant as text are escaped (``\\[``)."""

from __future__ import annotations

import typer

LakeOpt = typer.Option(
    None, "--lake", help="Lake directory \\[default: $CROWNWATCH_LAKE or ./.crownwatch]"
)
QuietOpt = typer.Option(
    False,
    "--quiet",
    "-q",
    help="No progress or summary on stderr (results still on stdout, errors on stderr)",
)
