"""A small real lake, ingested once per session and copied by each test that changes it:
four CloudTrail files whose S3 reads fall on two days (four small files per day of
api_activity), a console sign-in each (authentication) and one record at an impossible
time each (quarantine). network_activity and llm_request stay empty."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from crownwatch.lake import Lake

FILES = 4
DAYS = ("2026-03-01", "2026-03-02")


def cloudtrail_file(path: Path, i: int, days: tuple[str, ...] = DAYS) -> Path:
    who = {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "userName": "alice"}
    recs = [
        {
            "eventVersion": "1.08",
            "eventTime": f"{day}T1{i}:00:0{j}Z",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "userIdentity": who,
            "requestParameters": {"bucketName": "models", "key": f"w/shard-{i}-{j}.bin"},
        }
        for day in days
        for j in range(3)
    ]
    recs.append(
        {
            "eventVersion": "1.08",
            "eventTime": f"{DAYS[0]}T0{i}:30:00Z",
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "203.0.113.9",
            "userIdentity": who,
            "responseElements": {"ConsoleLogin": "Success"},
            "eventType": "AwsConsoleSignin",
        }
    )
    recs.append({**recs[0], "eventTime": "1601-01-01T00:00:00Z"})  # quarantined
    path.write_text(json.dumps({"Records": recs}))
    return path


def make_logs(
    folder: Path, start: int = 0, count: int = FILES, days: tuple[str, ...] = DAYS
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + count):
        cloudtrail_file(folder / f"ct{i}.json", i, days)
    return folder


@pytest.fixture(scope="session")
def pristine_lake(tmp_path_factory) -> Path:
    """The lake as ingest leaves it with automatic compaction off: never modify it."""
    root = tmp_path_factory.mktemp("pristine")
    mp = pytest.MonkeyPatch()
    mp.setenv("CROWNWATCH_COMPACT_AFTER", "0")
    try:
        results = Lake(root / "lake").ingest([make_logs(root / "logs")])
    finally:
        mp.undo()
    assert [r.status for r in results] == ["ingested"] * FILES
    return root / "lake"


@pytest.fixture
def small_lake(pristine_lake, tmp_path) -> Lake:
    """A copy of the pristine lake for one test to change."""
    shutil.copytree(pristine_lake, tmp_path / "lake")
    return Lake(tmp_path / "lake")
