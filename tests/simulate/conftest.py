from pathlib import Path

import pytest

from crownwatch.simulate.identity import generate_identity


@pytest.fixture(scope="session")
def sim(tmp_path_factory) -> tuple[Path, dict]:
    """The default scenario, generated once for the whole session."""
    out = tmp_path_factory.mktemp("sim")
    return out, generate_identity(out)
