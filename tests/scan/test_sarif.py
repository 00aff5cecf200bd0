"""``scan --format sarif`` against the OASIS SARIF 2.1.0 schema, and what GitHub code scanning
reads from it: a failed scan is a failed run, URIs resolve back to the files, archive members
are nested artifacts, fingerprints are stable, rules carry help and a security severity."""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import zipfile
from pathlib import Path
from urllib.parse import unquote, unquote_to_bytes, urljoin, urlsplit

import pytest

from crownwatch.outputs.sarif import SRCROOT, to_sarif
from crownwatch.outputs.sarif_rules import KINDS, SECURITY_SEVERITY
from crownwatch.scan import scan_paths
from crownwatch.scan.cli import run

from .pkw import evil

SCHEMA = Path(__file__).parents[1] / "fixtures" / "sarif" / "sarif-schema-2.1.0.json"
SCAN_SRC = Path(__file__).parents[2] / "src" / "crownwatch" / "scan"


@pytest.fixture(scope="module")
def validator():
    # imported here, not at the top: with its format checkers jsonschema builds RFC 3987
    # grammars on import (~2 s), which every pytest worker paid while collecting
    import jsonschema

    checker = jsonschema.FormatChecker()
    # the schema's uri / uri-reference formats are only checked when an RFC 3986 checker is
    # installed (jsonschema[format-nongpl]); without one every URI would pass unseen
    assert not checker.conforms("a b#c", "uri-reference")
    assert not checker.conforms("evil model.pkl", "uri-reference")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(schema, format_checker=checker)


def valid(validator, doc: dict) -> dict:
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    json.dumps(doc, ensure_ascii=True).encode("ascii")
    return doc["runs"][0]


def sarif_of(paths: list[str], capsys, expect: int) -> dict:
    assert run(paths, "sarif") == expect
    return json.loads(capsys.readouterr().out)


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def tar_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def mixed_tree(root: Path) -> Path:
    (root / "models").mkdir(parents=True)
    (root / "evil.pkl").write_bytes(evil())
    (root / "ok.pkl").write_bytes(b"\x80\x04K\x01.")
    (root / "corrupt.pkl").write_bytes(b"this is no pickle")
    bundle = zip_bytes({"weights/evil.pkl": evil(), "README.txt": b"hello"})
    (root / "models" / "bundle.zip").write_bytes(bundle)
    return root


def artifact_locations(obj):
    """Every artifactLocation in the log that names an artifact by index."""
    if isinstance(obj, dict):
        if "index" in obj and "uri" in obj and "location" not in obj:
            yield obj
        for v in obj.values():
            yield from artifact_locations(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from artifact_locations(v)


def by_uri(run_: dict) -> dict[str, int]:
    return {a["location"]["uri"]: i for i, a in enumerate(run_["artifacts"])}


def test_a_failed_file_fails_the_run_and_is_located(tmp_path, monkeypatch, capsys, validator):
    mixed_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    doc = sarif_of(["."], capsys, expect=1)
    run_ = valid(validator, doc)
    (inv,) = run_["invocations"]
    assert inv["executionSuccessful"] is False
    assert inv["exitCode"] == 1  # malicious wins over unscannable, as the exit code does
    (note,) = inv["toolExecutionNotifications"]
    assert note["level"] == "error"
    assert "format.unrecognised" in note["message"]["text"]
    loc = note["locations"][0]["physicalLocation"]["artifactLocation"]
    assert (loc["uri"], loc["uriBaseId"]) == ("corrupt.pkl", SRCROOT)
    assert run_["artifacts"][loc["index"]]["location"]["uri"] == "corrupt.pkl"
    driver = run_["tool"]["driver"]
    assert driver["notifications"][note["descriptor"]["index"]]["id"] == note["descriptor"]["id"]
    # the unscannable file is an alert of its own, not a silence a UI reads as "fixed"
    unscannable = [r for r in run_["results"] if r["ruleId"] == "scan.unscannable"]
    assert [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in unscannable
    ] == ["corrupt.pkl"]
    # every index names the artifact at that URI; every rule index names its rule
    for al in artifact_locations(doc):
        assert run_["artifacts"][al["index"]]["location"]["uri"] == al["uri"]
    for r in run_["results"]:
        assert driver["rules"][r["ruleIndex"]]["id"] == r["ruleId"]


def test_archive_members_are_nested_artifacts(tmp_path, monkeypatch, capsys, validator):
    mixed_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_ = valid(validator, sarif_of(["models"], capsys, expect=1))
    idx = by_uri(run_)
    bundle, member = idx["models/bundle.zip"], idx["/weights/evil.pkl"]
    assert run_["artifacts"][member]["parentIndex"] == bundle
    assert "parentIndex" not in run_["artifacts"][bundle]
    assert run_["artifacts"][bundle]["roles"] == ["analysisTarget"]
    (hit,) = [r for r in run_["results"] if r["level"] == "error"]
    primary = hit["locations"][0]["physicalLocation"]["artifactLocation"]
    assert primary["index"] == bundle  # the file on disk: what a code-scanning UI can open
    related = hit["relatedLocations"][0]["physicalLocation"]["artifactLocation"]
    assert related == {"uri": "/weights/evil.pkl", "index": member}
    assert "weights/evil.pkl" in hit["message"]["text"]
    assert run_["invocations"][0]["executionSuccessful"] is True


def test_nested_archives_chain_their_parents(tmp_path, monkeypatch, capsys, validator):
    inner = tar_bytes({"deep/model.pkl": evil()})
    (tmp_path / "outer.zip").write_bytes(zip_bytes({"inner.tar": inner}))
    monkeypatch.chdir(tmp_path)
    run_ = valid(validator, sarif_of(["outer.zip"], capsys, expect=1))
    idx = by_uri(run_)
    arts = run_["artifacts"]
    assert arts[idx["/deep/model.pkl"]]["parentIndex"] == idx["/inner.tar"]
    assert arts[idx["/inner.tar"]]["parentIndex"] == idx["outer.zip"]
    (hit,) = [r for r in run_["results"] if r["level"] == "error"]
    assert hit["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "outer.zip"
    assert hit["properties"]["member"] == "inner.tar!deep/model.pkl"


def test_exit_codes_and_execution_successful_agree(tmp_path, monkeypatch, capsys, validator):
    (tmp_path / "ok.pkl").write_bytes(b"\x80\x04K\x01.")
    (tmp_path / "corrupt.safetensors").write_bytes(b"\x00" * 3)
    monkeypatch.chdir(tmp_path)
    clean = valid(validator, sarif_of(["ok.pkl"], capsys, expect=0))
    assert clean["invocations"][0] == {
        "executionSuccessful": True,
        "exitCode": 0,
        "exitCodeDescription": "everything scanned is clean",
        "toolExecutionNotifications": [],
    }
    assert clean["results"] == []
    failed = valid(validator, sarif_of(["ok.pkl", "corrupt.safetensors"], capsys, expect=2))
    inv = failed["invocations"][0]
    assert (inv["executionSuccessful"], inv["exitCode"]) == (False, 2)
    missing = valid(validator, sarif_of(["nothing-here.pkl"], capsys, expect=2))
    (note,) = missing["invocations"][0]["toolExecutionNotifications"]
    assert "io.not_found" in note["message"]["text"]


def test_a_partly_scanned_malicious_file_still_fails_the_run(
    tmp_path, monkeypatch, capsys, validator
):
    (tmp_path / "cut.pkl").write_bytes(evil()[:-1])  # truncated after the call
    monkeypatch.chdir(tmp_path)
    run_ = valid(validator, sarif_of(["cut.pkl"], capsys, expect=1))
    inv = run_["invocations"][0]
    assert inv["executionSuccessful"] is False and inv["exitCode"] == 1
    assert len(inv["toolExecutionNotifications"]) == 1
    rules = {r["ruleId"] for r in run_["results"]}
    assert "pickle.dangerous_global" in rules and "scan.unscannable" not in rules


ODD_NAMES = [
    "my model #1.pkl",
    "50% off?.pkl",
    "модель ✓.pkl",
    "a:b.pkl",
    "[x] & (y);=.pkl",
    "%41.pkl",  # a literal percent sign, not an escape
]


def test_uris_are_percent_encoded_and_resolve_to_the_files(
    tmp_path, monkeypatch, capsys, validator
):
    d = tmp_path / "dir with space"
    d.mkdir()
    names = [*ODD_NAMES, os.fsdecode(b"\xff\xfe-not-utf8.pkl")]
    for n in names:
        (d / n).write_bytes(evil())
    monkeypatch.chdir(tmp_path)
    run_ = valid(validator, sarif_of(["dir with space"], capsys, expect=1))
    base = run_["originalUriBaseIds"][SRCROOT]["uri"]
    assert base.startswith("file:///") and base.endswith("/")
    assert unquote_to_bytes(urlsplit(base).path) == os.fsencode(str(tmp_path)) + b"/"
    seen = set()
    for art in run_["artifacts"]:
        loc = art["location"]
        assert loc["uriBaseId"] == SRCROOT
        assert re.fullmatch(r"[A-Za-z0-9\-._~%/]+", loc["uri"]), loc["uri"]
        full = urlsplit(urljoin(base, loc["uri"]))
        assert (full.scheme, full.query, full.fragment) == ("file", "", "")
        seen.add(unquote_to_bytes(full.path))
    assert seen == {os.fsencode(str(d / n)) for n in names}


def test_a_file_outside_the_working_directory_is_an_absolute_file_uri(
    tmp_path, monkeypatch, capsys, validator
):
    (tmp_path / "elsewhere #2.pkl").write_bytes(evil())
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    run_ = valid(validator, sarif_of([str(tmp_path / "elsewhere #2.pkl")], capsys, expect=1))
    (art,) = run_["artifacts"]
    assert "uriBaseId" not in art["location"]  # SARIF: an absolute URI has no base id
    uri = urlsplit(art["location"]["uri"])
    assert (uri.scheme, uri.fragment) == ("file", "")
    assert unquote_to_bytes(uri.path) == os.fsencode(str(tmp_path / "elsewhere #2.pkl"))


HOSTILE_MEMBERS = [
    "/abs.pkl",
    "../../up.pkl",
    "a!b.pkl",
    "sp ace#?.pkl",
    "..",
    "c\\d.pkl",
    "./x.pkl",
]


def test_hostile_member_names_stay_names(tmp_path, monkeypatch, capsys, validator):
    (tmp_path / "a.zip").write_bytes(zip_bytes({n: evil() for n in HOSTILE_MEMBERS}))
    monkeypatch.chdir(tmp_path)
    run_ = valid(validator, sarif_of(["a.zip"], capsys, expect=1))
    arts = run_["artifacts"]
    zip_idx = by_uri(run_)["a.zip"]
    names = []
    for art in arts:
        if "parentIndex" not in art:
            continue
        assert art["parentIndex"] == zip_idx  # "a!b.pkl" is one member, not "b.pkl" inside "a"
        uri = art["location"]["uri"]
        assert uri.startswith("/") and not uri.startswith("//")  # never a network path
        segs = uri[1:].split("/")
        assert "." not in segs and ".." not in segs  # nothing a resolver would collapse
        names.append("/".join(unquote(s) for s in segs))
    assert sorted(names) == sorted(HOSTILE_MEMBERS)


def fingerprints(run_: dict) -> list[tuple[str, str]]:
    return [
        (r["ruleId"], r["partialFingerprints"]["crownwatch/v1"])
        for r in sorted(run_["results"], key=lambda r: r["partialFingerprints"]["crownwatch/v1"])
    ]


def test_fingerprints_are_stable_across_runs_and_checkouts(
    tmp_path, monkeypatch, capsys, validator
):
    a = mixed_tree(tmp_path / "checkout-a")
    monkeypatch.chdir(a)
    first = valid(validator, sarif_of(["."], capsys, expect=1))
    again = valid(validator, sarif_of(["."], capsys, expect=1))
    assert fingerprints(first) == fingerprints(again)
    fps = [fp for _, fp in fingerprints(first)]
    assert len(set(fps)) == len(fps)  # one identity per issue
    for r in first["results"]:
        pf = r["partialFingerprints"]
        assert pf["primaryLocationLineHash"] == pf["crownwatch/v1"]
    # the same files checked out elsewhere: the same identities (locations are base-relative)
    b = mixed_tree(tmp_path / "elsewhere" / "checkout-b")
    monkeypatch.chdir(b)
    moved = valid(validator, sarif_of(["."], capsys, expect=1))
    assert fingerprints(moved) == fingerprints(first)
    assert moved["originalUriBaseIds"] != first["originalUriBaseIds"]
    # a different issue in the same file is a different identity
    (a / "evil.pkl").write_bytes(evil(module="subprocess", name="Popen"))
    monkeypatch.chdir(a)
    changed = valid(validator, sarif_of(["."], capsys, expect=1))
    assert set(fingerprints(changed)) != set(fingerprints(first))


def test_the_process_pool_keeps_archive_nesting(tmp_path, monkeypatch):
    import crownwatch.scan as scan_pkg

    monkeypatch.setattr(scan_pkg, "PARALLEL_MIN_WORK_S", 0.0)
    monkeypatch.setattr(scan_pkg, "CHUNK_BYTES", 1)  # a task per file: the pool runs
    for i in range(10):
        (tmp_path / f"b{i}.zip").write_bytes(zip_bytes({"x!y.pkl": evil(), "ok.txt": b"hi"}))
    serial = to_sarif(scan_paths([str(tmp_path)], workers=1), cwd=str(tmp_path))
    pooled = to_sarif(scan_paths([str(tmp_path)], workers=2), cwd=str(tmp_path))
    assert pooled == serial
    assert sum("parentIndex" in a for a in serial["runs"][0]["artifacts"]) == 20


def test_rules_carry_help_tags_and_a_fixed_security_severity(
    tmp_path, monkeypatch, capsys, validator
):
    mixed_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    run_ = valid(validator, sarif_of(["."], capsys, expect=1))
    rules = run_["tool"]["driver"]["rules"]
    assert {r["id"] for r in rules} >= {"pickle.dangerous_global", "scan.unscannable"}
    for r in rules:
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert r["help"]["text"] and r["help"]["markdown"].startswith("**")
        tags = r["properties"]["tags"]
        assert "security" in tags and len(tags) == len(set(tags))
        score = float(r["properties"]["security-severity"])
        assert 0.0 < score <= 10.0
        assert r["properties"]["security-severity"] == SECURITY_SEVERITY[KINDS[r["id"]][0]]
    pickle_rule = next(r for r in rules if r["id"] == "pickle.dangerous_global")
    assert float(pickle_rule["properties"]["security-severity"]) >= 9.0  # GitHub: critical
    assert "external/cwe/cwe-502" in pickle_rule["properties"]["tags"]


def test_every_issue_kind_the_scanner_emits_has_rule_help():
    # (severity, "family.kind", ...) and .add(severity, "family.kind", ...) in the scanner
    pat = re.compile(r"(?:\.add\(|\()\s*[^,()\n]+,\s*\"([a-z0-9]+\.[a-z0-9_]+)\",")
    kinds = set()
    for f in SCAN_SRC.glob("*.py"):
        kinds.update(pat.findall(f.read_text()))
    assert len(kinds) > 60, kinds  # the pattern still finds the scanner's issue kinds
    assert kinds - set(KINDS) == set()
