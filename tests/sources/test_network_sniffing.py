"""The network sources' sniffers against every fixture of the project: each of their
layouts is claimed by its source alone, and they claim nothing of anyone else's."""

from __future__ import annotations

import pytest

from crownwatch.sources import SOURCES, sniff, vpc_flow, zeek
from crownwatch.sources.reader import head_text
from tests.conftest import FIXTURES

MINE = {"zeek": zeek, "vpcflow": vpc_flow}
EXFIL = FIXTURES.parent / "exfiltration" / "fixtures"


def _fixtures():
    for root in (FIXTURES, EXFIL):
        for p in sorted(root.rglob("*")):
            if p.is_file() and p.suffix not in (".md", ".py", ".png") and "sarif" not in p.parts:
                yield p


ALL = list(_fixtures())


@pytest.mark.parametrize("path", [p for p in ALL if p.parent.name in MINE], ids=lambda p: p.name)
def test_each_layout_is_claimed_by_its_source_alone(path):
    mod = MINE[path.parent.name]
    assert sniff(path) is mod
    head = head_text(path)
    claimed = {m.NAME for m in SOURCES if m.sniff(head)}
    # a CloudWatch export line starts with an RFC 3339 time and a token, which is
    # also the shape of a syslog line: vpc_flow is asked before linux_auth
    if path.name == "cloudwatch_export.txt":
        claimed.discard("sshd")
    assert claimed == {mod.NAME}


def test_they_claim_no_other_source_s_fixture():
    others = [p for p in ALL if p.parent.name not in MINE]
    assert len(others) > 40
    for path in others:
        head = head_text(path)
        assert not zeek.sniff(head), path
        assert not vpc_flow.sniff(head), path
        assert sniff(path) not in (zeek, vpc_flow), path


def test_near_misses():
    # a TSV that is not Zeek's, a JSON record with ts and uid but no connection
    assert not zeek.sniff("#separator tab\nts\tuid\n")
    assert not zeek.sniff('{"ts": 1, "uid": "x", "message": "hello"}')
    # an S3 server access log, a CloudTrail VPC event, a plain list of words
    assert not vpc_flow.sniff("version of the thing\n")
    assert not vpc_flow.sniff('{"eventSource": "ec2.amazonaws.com", "eventName": "CreateFlowLogs"}')
    assert vpc_flow.sniff("version srcaddr dstaddr start end action log-status\n")
