from __future__ import annotations

import os

import pytest

from crownwatch.scan.scanner import scan_bytes

from .pkw import MARKER

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "benign")


def verdict_of(data: bytes, name: str = "sample.pkl") -> str:
    return scan_bytes(data, name)[0].verdict


def scan1(data: bytes, name: str = "sample.pkl"):
    return scan_bytes(data, name)[0]


def worst(results) -> str:
    order = ["clean", "error", "suspicious", "malicious"]
    return max((r.verdict for r in results), key=order.index)


@pytest.fixture
def fixtures_dir() -> str:
    return FIXTURES


@pytest.fixture(scope="session", autouse=True)
def payloads_never_run():
    """Every malicious sample the tests build carries a payload that would create MARKER if it
    ever ran (os.system('touch ...'), exec of Python that opens it, a file handler on it, a
    Jinja template that popens it...). The scanner must never import, execute or unpickle
    what it scans: if the marker shows up, something did."""
    if os.path.exists(MARKER):
        os.remove(MARKER)
    yield
    assert not os.path.exists(MARKER), f"a scanned payload ran: {MARKER} was created"
