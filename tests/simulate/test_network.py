"""The network simulator: a day of Zeek logs in zeekctl's archive layout, the implant
beaconing from a training node beside periodic services — and what the beacon
detection makes of it, with and without the organisation's list of known services."""

from __future__ import annotations

import gzip
import json
import tomllib

import pytest

from crownwatch.detect import run_detections
from crownwatch.engine import Engine
from crownwatch.evaluate import score
from crownwatch.lake import Lake
from crownwatch.simulate import network as net

DET = "network.beaconing"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    out = tmp_path_factory.mktemp("net")
    result = net.generate_network(out / "network")
    lake = Lake(out / "lake")
    results = lake.ingest(sorted((out / "network" / "zeek").rglob("*.gz")))
    config = tomllib.loads((out / "network" / "crownwatch.toml").read_text())
    return out / "network", result, lake, results, config


def _beacons(lake: Lake, config: dict) -> list[dict]:
    return run_detections(Engine(lake), config, only=[DET])


def test_files_are_zeekctl_archives_read_whole(world):
    root, result, _, results, _ = world
    names = sorted(p.name for p in (root / "zeek" / "2026-03-05").iterdir())
    assert len(names) == 48 and names[0] == "conn.00:00:00-01:00:00.log.gz"
    text = gzip.decompress((root / "zeek" / "2026-03-05" / names[5]).read_bytes()).decode()
    lines = text.splitlines()
    assert lines[0] == "#separator \\x09" and lines[4] == "#path\tconn"
    fields = lines[6].split("\t")[1:]
    assert len(lines[7].split("\t")) - 1 == len(fields)
    assert all(len(row.split("\t")) == len(fields) for row in lines[8:-1])
    assert lines[-1].startswith("#close\t")
    # every record a row, nothing skipped or quarantined
    assert all(r.status == "ingested" and r.source == "zeek" for r in results)
    assert all(r.quarantined == 0 and r.skipped == 0 and r.read == r.routed_rows for r in results)
    records = {
        kind: sum(
            len(gzip.decompress(p.read_bytes()).splitlines()) - 9  # 8 header lines, #close
            for p in (root / "zeek").rglob(f"{kind}.*.gz")
        )
        for kind in ("conn", "ssl")
    }
    assert sum(r.rows.get("network_activity", 0) for r in results) == records["conn"] > 50_000
    assert sum(r.rows.get("network_names", 0) for r in results) == records["ssl"]
    assert json.loads((root / "truth.json").read_text()) == result["truth"]


def test_the_implant_is_the_one_beacon_and_the_services_stay_quiet(world):
    _, result, lake, _, config = world
    found = _beacons(lake, config)
    [f] = found
    assert f["entities"]["src_ip"] == [net.IMPLANT_HOST]
    assert f["evidence"]["destination"] == net.C2[1] and f["severity"] == "critical"
    assert f["evidence"]["crown_jewel_host"] is True
    verdicts = {s.item: s.ok for s in score(found, result["truth"])}
    assert verdicts == {
        "beacon-training-node": True,
        "benign-metrics-agent": True,
        "benign-package-mirror": True,
        "benign-ntp": True,
        "benign-browsing": True,
    }


def test_without_the_known_services_the_metrics_agent_scores_like_a_beacon(world):
    """Why the organisation lists what it runs: a 15-second metrics push is a perfect
    clock, and RITA's method scores it as one; the hourly mirror stays low."""
    _, result, lake, _, config = world
    bare = {"assets": config["assets"]}
    found = _beacons(lake, bare)
    # and the scorecard sees it (truth names a service by its destination address)
    verdicts = {s.item: s.ok for s in score(found, result["truth"])}
    assert verdicts["benign-metrics-agent"] is False and verdicts["benign-ntp"] is True
    by_dest: dict[str, list[dict]] = {}
    for f in found:
        by_dest.setdefault(f["evidence"]["destination"], []).append(f)
    assert len(by_dest[net.METRICS[1]]) == len(net.TRAINING)
    assert min(f["evidence"]["score"] for f in by_dest[net.METRICS[1]]) >= 0.9
    assert all(f["severity"] in ("low", "medium") for f in by_dest.get(net.MIRROR[1], []))
    assert not {d for d in by_dest} - {net.METRICS[1], net.MIRROR[1], net.C2[1]}
    assert not any(f["evidence"]["destination"] == net.NTP_POOL for f in found)
