"""The findings store under concurrent use, and triage by a short id."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from crownwatch.findings import FindingStore, StoreBusy


def _finding(i: int) -> dict:
    return {
        "id": f"cw-{i:04d}abcdef{i:06d}",
        "detection": "identity.password_spray",
        "title": f"finding {i}",
        "severity": "high",
        "first_seen": "2026-03-01T10:00:00Z",
        "last_seen": "2026-03-01T11:00:00Z",
        "entities": {"src_ip": ["203.0.113.9"]},
        "attack": ["T1110.003"],
        "evidence": {},
    }


def _hold_lock(path, seconds: float) -> subprocess.Popen:
    """Another process writing the store (as detect does while it stores findings)."""
    code = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect({str(path)!r})\n"
        "print('held', flush=True)\n"
        f"time.sleep({seconds})\n"
        "con.close()\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_reader_waits_for_a_writer_instead_of_failing(tmp_path):
    store = FindingStore(tmp_path)
    store.upsert([_finding(1), _finding(2)])
    proc = _hold_lock(store.path, 1.5)
    t0 = time.monotonic()
    try:
        got = store.all()
    finally:
        proc.wait()
    assert [f["id"] for f in got] == [_finding(1)["id"], _finding(2)["id"]]
    assert time.monotonic() - t0 >= 1.0  # it waited for the lock, then read


def test_a_store_held_too_long_is_a_clear_error(tmp_path):
    store = FindingStore(tmp_path)
    store.upsert([_finding(1)])
    store.wait_seconds = 0.5
    proc = _hold_lock(store.path, 3)
    try:
        with pytest.raises(StoreBusy, match="held by another crownwatch process"):
            store.all()
    finally:
        proc.wait()


def test_triage_takes_a_unique_prefix_as_the_readme_shows_it(tmp_path):
    store = FindingStore(tmp_path)
    store.upsert([_finding(1), _finding(2)])
    assert store.set_status("cw-0001abcd…", "escalated", "IR-42")
    [one] = [f for f in store.all() if f["status"] == "escalated"]
    assert one["id"] == _finding(1)["id"] and one["note"] == "IR-42"
    with pytest.raises(ValueError, match="more than one finding"):
        store.set_status("cw-000", "closed")
    with pytest.raises(ValueError, match="at least 6 characters"):
        store.set_status("cw-", "closed")
    assert not store.set_status("cw-9999", "closed")


def test_one_batch_stores_every_finding_and_a_repeated_id_as_given_last(tmp_path):
    store = FindingStore(tmp_path)
    store.upsert([_finding(i) for i in range(500)])
    again = dict(_finding(7), title="finding 7, seen again")
    evidence = {"quote": 'a "quoted" value', "nested": {"n": [1, 2]}}
    assert store.upsert([_finding(7), _finding(8), dict(again, evidence=evidence)]) == 2
    got = {f["id"]: f for f in store.all()}
    assert len(got) == 500
    assert got[again["id"]]["title"] == "finding 7, seen again"
    assert got[again["id"]]["evidence"] == evidence
    assert got[_finding(8)["id"]]["title"] == "finding 8"
    # the triage status a responder set survives a refresh in a batch
    con = store._connect()
    con.execute("UPDATE findings SET status = 'triaged' WHERE id = ?", [_finding(9)["id"]])
    con.close()
    store.upsert([_finding(9), _finding(10)])
    assert {f["id"]: f["status"] for f in store.all()}[_finding(9)["id"]] == "triaged"
