"""Record builders for detection scenarios and tests: each writes the vendor's own
layout field for field (Okta System Log events, CloudTrail records, S3 server access
log lines…), so a scenario that passes here passes on a real export.

Nothing in the detection run imports this package; the scenario modules beside the
detections (``*_scenarios.py``) and the tests do. :mod:`crownwatch.testing.scenarios`
builds lakes from scenarios and checks them (the generic test's machinery)."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"


def fixture(relative: str) -> bytes:
    """A log committed under the repository's ``tests/fixtures`` (scenarios run from a
    source checkout): for logs whose builder is a fixture generator there, such as
    the Windows events ``tests/fixtures/windows/make_fixtures.py`` writes."""
    return (FIXTURES / relative).read_bytes()
