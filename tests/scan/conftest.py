from __future__ import annotations

import os

import pytest

from crownwatch.scan.scanner import scan_bytes

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
