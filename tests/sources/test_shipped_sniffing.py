"""The sniffers on shipped files: each recognises its records however they are
wrapped (from the first 4 KiB of text) and claims no one else's — not each other's
shipped files, not Winlogbeat documents (which also carry ``@timestamp`` and
``_source``), not S3 event notifications sent through Splunk."""

from __future__ import annotations

import json

from crownwatch.sources import cloudtrail, entra, okta, sniff
from tests.conftest import FIXTURES
from tests.fixtures.shipped.make_fixtures import es_hit, hec

SH = FIXTURES / "shipped"
CLOUDTRAIL = sorted(p.name for p in SH.glob("cloudtrail_*"))


def test_sniffers_do_not_steal_each_others_shipped_files(tmp_path):
    for name in (
        "okta_splunk_hec.jsonl",
        "okta_elasticsearch_hits.jsonl",
        "okta_sentinel_Okta_CL.json",
        "okta_sentinel_OktaV2_CL.jsonl",
    ):
        assert sniff(SH / name) is okta, name
        assert not cloudtrail.sniff((SH / name).read_text()[:4096])
    for name in ("entra_splunk_hec.jsonl", "entra_diagnostic_categories.jsonl"):
        assert sniff(SH / name) is entra, name
    for name in CLOUDTRAIL:
        assert sniff(SH / name) is cloudtrail, name
        head = (SH / name).read_text()[:4096]
        assert not okta.sniff(head) and not entra.sniff(head), name
    # Winlogbeat documents have @timestamp and _source too, but no CloudTrail fields
    winlogbeat = {
        "@timestamp": "2026-03-02T09:14:03.000Z",
        "@version": "1",
        "event": {
            "code": "4625",
            "kind": "event",
            "provider": "Microsoft-Windows-Security-Auditing",
        },
        "winlog": {
            "event_id": "4625",
            "channel": "Security",
            "event_data": {"TargetUserName": "alice"},
        },
        "host": {"name": "DC01"},
    }
    hit = tmp_path / "winlogbeat.jsonl"
    hit.write_text(json.dumps(es_hit("winlogbeat-8.12.0", winlogbeat, 0)) + "\n")
    for doc in (hit.read_text(), json.dumps(winlogbeat)):
        assert not cloudtrail.sniff(doc) and not okta.sniff(doc) and not entra.sniff(doc)
    assert sniff(hit) not in (cloudtrail, okta, entra)
    # an S3 event notification sent through HEC is still not a trail
    note = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-03-03T02:11:09.000Z",
        "eventName": "ObjectCreated:Put",
        "userIdentity": {"principalId": "AWS:AIDAQRSTUVWXYZEXAMPLE"},
    }
    assert not cloudtrail.sniff(
        json.dumps(hec({"Records": [note]}, note["eventTime"], "aws:s3", "sqs"))
    )
    assert not cloudtrail.sniff(
        json.dumps({"preview": False, "result": {"_raw": json.dumps({"Records": [note]})}})
    )
