"""SARIF 2.1.0 log of a model-artifact scan (``crownwatch scan --format sarif``).

One run, one invocation. What a consumer such as GitHub code scanning needs to get right:

* **A failed scan is not a clean scan.** Every file or archive member that could not be
  scanned completely (the result's ``error`` flag: unreadable, truncated, corrupt, not the
  format its name claims, beyond the scan budget, a path that matched nothing) gets a
  ``toolExecutionNotification`` of level ``error`` with the reason and its location, and
  ``invocation.executionSuccessful`` is then ``false`` - SARIF's "this run's results are not
  complete". ``exitCode`` is the command's own exit code (0 clean, 1 malicious/suspicious,
  2 unscannable; 1 wins over 2), so exit code 2 always comes with ``executionSuccessful``
  false, and 1 may. An artifact that could not be scanned and shows nothing worse also gets
  a ``scan.unscannable`` result, so a code-scanning UI shows it in the alert list instead of
  reading the file as fixed.
* **Locations are URIs** (RFC 3986). A file under the working directory is a relative
  reference resolved against the base id ``%SRCROOT%``, which ``originalUriBaseIds`` gives as
  the working directory's ``file://`` URI; a file elsewhere is an absolute ``file://`` URI.
  Every path segment is percent-encoded from the file name's bytes (spaces, ``#``, ``?``,
  ``%``, non-ASCII, bytes that are not UTF-8), so the URI resolves back to exactly the file.
* **Archive members are nested artifacts** (``run.artifacts`` with ``parentIndex`` pointing
  at the container's artifact, ``location.uri`` the member's path inside it as an
  absolute-path reference). A result's primary location is the file on disk - the only
  thing a code-scanning UI can open - and, when the issue is in a member, its
  ``relatedLocations`` name the member's artifact by index. Every ``artifactLocation``
  carries the ``index`` of its artifact.
* **Stable identity.** ``partialFingerprints`` hash the rule, the location (base-relative, so
  the same checkout elsewhere fingerprints the same), the member path and the issue's
  detail: the same issue in the same file fingerprints the same on every run.
  ``primaryLocationLineHash`` carries the same value because GitHub reads that key, and
  would otherwise try to hash "lines" of a binary file.
* Rules come from :mod:`crownwatch.outputs.sarif_rules`: help, description, tags and a fixed
  ``security-severity`` per issue kind. ``info`` issues are notes about a file, not
  problems, and are left out of the results.

Everything a scanned file controls - names, member names, details - is hostile text; it is
carried as JSON strings (``message.text``, percent-encoded URIs) and never in Markdown. The
log holds no timestamps, so the same scan of the same files gives the same bytes.

Only the standard library is imported: ``crownwatch scan`` must start fast.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import quote_from_bytes

from .sarif_rules import INCOMPLETE_NOTIFICATION, LEVEL, rule

SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
SRCROOT = "%SRCROOT%"
FINGERPRINT = "crownwatch/v1"
UNSCANNABLE = "scan.unscannable"
EXIT_DESCRIPTION = {
    0: "everything scanned is clean",
    1: "malicious or suspicious artifacts found",
    2: "an artifact could not be scanned",
}


def dumps_sarif(results, cwd: str | None = None) -> str:
    """The SARIF log of ``results`` as one line of ASCII-only JSON. Compact on purpose: only
    then does :mod:`json` use its C encoder (indenting a log of thousands of results took
    longer than scanning the files)."""
    import json

    doc = to_sarif(results, cwd)
    try:
        json.dumps(doc, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates (names that are not UTF-8): escape them
        from crownwatch.scan.report import clean_json

        doc = clean_json(doc)
    return json.dumps(doc, ensure_ascii=True, separators=(",", ":"))


# -- URIs ------------------------------------------------------------------------------------


def _bytes(name: str) -> bytes:
    """A name's bytes as the file system has them (file names that are not UTF-8 arrive as
    lone surrogates and go back to their bytes)."""
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


def _segment(raw: bytes) -> str:
    # everything but RFC 3986 unreserved characters is encoded; "." and ".." are encoded too,
    # so a member named ".." stays a name and is not resolved away as a dot segment
    if raw in (b".", b".."):
        return "%2E" * len(raw)
    return quote_from_bytes(raw, safe="")


def _path_segments(path: str) -> list[str]:
    parts = [path]
    for sep in filter(None, (os.sep, os.altsep)):
        parts = [q for p in parts for q in p.split(sep)]
    return parts


def relative_uri(rel_path: str) -> str:
    """A relative path on this system as a relative-path reference."""
    return "/".join(_segment(_bytes(s)) for s in _path_segments(rel_path))


def file_uri(abs_path: str) -> str:
    """An absolute path as a ``file://`` URI."""
    if os.name == "nt":  # drive letters and UNC shares: pathlib knows the rules
        from pathlib import PureWindowsPath

        return PureWindowsPath(abs_path).as_uri()
    return "file://" + "/".join(_segment(_bytes(s)) for s in abs_path.split("/"))


def member_uri(name: str) -> str:
    """An archive member's path inside its container: an absolute-path reference (SARIF
    3.24.3). The archive's own separator is ``/``; a backslash is part of the name. A name
    that starts with ``/`` keeps that slash as ``%2F``: ``//x`` would be a network path."""
    uri = "/" + "/".join(_segment(_bytes(s)) for s in name.split("/"))
    return "/%2F" + uri[2:] if uri.startswith("//") else uri


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:  # the working directory was removed
        return None


def file_location(path: str, cwd: str | None) -> tuple[dict, str]:
    """(``artifactLocation`` of a file on disk, how to name it in messages): relative to
    ``%SRCROOT%`` (``cwd``) when the file is under it, else an absolute ``file://`` URI."""
    if cwd is None:
        if os.path.isabs(path):
            return {"uri": file_uri(path)}, path
        return {"uri": relative_uri(path)}, path
    ap = os.path.normpath(os.path.join(cwd, path))  # join keeps an absolute path as it is
    root = os.path.join(os.path.normpath(cwd), "")  # with its trailing separator
    if os.path.normcase(ap).startswith(os.path.normcase(root)) and len(ap) > len(root):
        rel = ap[len(root) :]
        return {"uri": relative_uri(rel), "uriBaseId": SRCROOT}, rel
    return {"uri": file_uri(ap)}, ap


def base_uri(cwd: str) -> str:
    uri = file_uri(cwd)
    return uri if uri.endswith("/") else uri + "/"


# -- the log ---------------------------------------------------------------------------------


class _Artifacts:
    """``run.artifacts``: one per file and per archive member, with the location of the file
    on disk each one sits in and the chain of member names leading to it."""

    def __init__(self, cwd: str | None):
        self.cwd = cwd
        self.items: list[dict] = []
        self.by_key: dict[tuple, int] = {}
        self.by_path: dict[str, int] = {}
        self.top: list[int] = []  # per artifact: index of its file on disk
        self.chain: list[tuple[str, ...]] = []  # per artifact: member names from that file
        self.display: list[str] = []

    def add(self, r) -> int:
        if r.member is None:
            idx = self._file(r.path, r)
        else:
            container = r.path[: -len(r.member) - 1]
            parent = self.by_path.get(container)
            if parent is None:  # its container's result was not handed over: name the file
                parent = self._file(container, None)
            idx = self._member(parent, r.member, r)
        self.by_path[r.path] = idx
        return idx

    def _file(self, path: str, r) -> int:
        loc, shown = file_location(path, self.cwd)
        key = ("file", loc.get("uriBaseId"), loc["uri"])
        return self._new(key, loc, None, (), shown, r)

    def _member(self, parent: int, name: str, r) -> int:
        loc = {"uri": member_uri(name)}
        chain = (*self.chain[parent], name)
        return self._new(("member", parent, loc["uri"]), loc, parent, chain, "", r)

    def _new(self, key: tuple, loc: dict, parent: int | None, chain, shown: str, r) -> int:
        idx = self.by_key.get(key)
        if idx is not None:  # the same file named twice, a duplicate member name
            return idx
        idx = len(self.items)
        art: dict = {"location": {**loc, "index": idx}}
        if parent is None:
            art["roles"] = ["analysisTarget"]
        else:
            art["parentIndex"] = parent
        if r is not None:
            if r.sha256:
                art["hashes"] = {"sha-256": r.sha256}
            art["properties"] = {"format": r.format}
        self.items.append(art)
        self.by_key[key] = idx
        self.top.append(idx if parent is None else self.top[parent])
        self.chain.append(tuple(chain))
        self.display.append(shown)
        return idx

    def primary(self, idx: int) -> dict:
        """The location of the file on disk that artifact ``idx`` is (or sits in)."""
        top = self.top[idx]
        return {"physicalLocation": {"artifactLocation": dict(self.items[top]["location"])}}

    def nested(self, idx: int) -> dict:
        return {"physicalLocation": {"artifactLocation": dict(self.items[idx]["location"])}}

    def name(self, idx: int) -> str:
        return "!".join((self.display[self.top[idx]], *self.chain[idx]))

    def identity(self, idx: int) -> str:
        loc = self.items[self.top[idx]]["location"]
        members = [self.items[i]["location"]["uri"] for i in self._lineage(idx)]
        return " ".join((loc.get("uriBaseId", "-"), loc["uri"], *members))

    def _lineage(self, idx: int) -> list[int]:
        out = []
        while "parentIndex" in self.items[idx]:
            out.append(idx)
            idx = self.items[idx]["parentIndex"]
        return out[::-1]


def _reasons(r) -> str:
    from crownwatch.scan.result import severity_rank

    issues = sorted(r.issues, key=lambda i: -severity_rank(i.severity))
    return "; ".join(f"{i.kind}: {i.detail}" for i in issues) or "no detail"


def to_sarif(results, cwd: str | None = None) -> dict:
    """The SARIF log (a dict) of one scan's results; ``cwd`` is the directory relative
    locations resolve against (default: the working directory)."""
    from crownwatch import __version__
    from crownwatch.scan.cli import exit_code
    from crownwatch.scan.result import severity_rank

    if cwd is None:
        cwd = _cwd()
    arts = _Artifacts(cwd)
    rules: dict[str, int] = {}
    rule_list: list[dict] = []
    out: list[dict] = []
    notes: list[dict] = []
    noted: set[tuple[int, str]] = set()
    seen_fp: dict[str, int] = {}

    def rule_index(kind: str) -> int:
        if kind not in rules:
            rules[kind] = len(rule_list)
            rule_list.append(rule(kind))
        return rules[kind]

    def result(idx: int, kind: str, level: str, text: str, detail: str, props: dict) -> dict:
        digest = hashlib.sha256(
            f"{kind} {arts.identity(idx)}\n{detail}".encode("utf-8", "surrogatepass")
        ).hexdigest()[:32]
        n = seen_fp[digest] = seen_fp.get(digest, 0) + 1
        fp = digest if n == 1 else f"{digest}:{n}"  # same name twice (duplicate zip members)
        res = {
            "ruleId": kind,
            "ruleIndex": rule_index(kind),
            "level": level,
            "message": {"text": text},
            "locations": [arts.primary(idx)],
            "partialFingerprints": {FINGERPRINT: fp, "primaryLocationLineHash": fp},
            "properties": props,
        }
        if arts.chain[idx]:
            related = arts.nested(idx)
            related["id"] = 1
            related["message"] = {"text": f"archive member {arts.name(idx)}"}
            res["relatedLocations"] = [related]
        return res

    for r in results:
        idx = arts.add(r)
        member = "!".join(arts.chain[idx])
        where = f"in archive member {member}: " if member else ""
        props = {"verdict": r.verdict, "format": r.format}
        if member:
            props["member"] = member
        for i in sorted(r.issues, key=lambda i: -severity_rank(i.severity)):
            if i.severity == "info":
                continue
            text = where + i.detail
            out.append(
                result(
                    idx,
                    i.kind,
                    LEVEL[i.severity],
                    text,
                    i.detail,
                    {**props, "severity": i.severity},
                )
            )
        if r.verdict == "error":
            text = f"{where}could not be scanned: {_reasons(r)}"
            out.append(
                result(idx, UNSCANNABLE, "warning", text, "", {**props, "severity": "medium"})
            )
        if not r.error:
            continue
        text = f"{arts.name(idx)} could not be scanned completely: {_reasons(r)}"
        if (idx, text) not in noted:  # a duplicate member name is noted once
            noted.add((idx, text))
            locations = [arts.primary(idx)]
            if arts.chain[idx]:
                locations.append(arts.nested(idx))
            notes.append(
                {
                    "level": "error",
                    "message": {"text": text},
                    "locations": locations,
                    "descriptor": {"id": INCOMPLETE_NOTIFICATION["id"], "index": 0},
                    "properties": {"verdict": r.verdict},
                }
            )

    code = exit_code(results)
    invocation = {
        "executionSuccessful": not notes,
        "exitCode": code,
        "exitCodeDescription": EXIT_DESCRIPTION[code],
        "toolExecutionNotifications": notes,
    }
    run: dict = {
        "tool": {
            "driver": {
                "name": "crownwatch-scan",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": "https://github.com/crownwatch/crownwatch",
                "rules": rule_list,
                "notifications": [INCOMPLETE_NOTIFICATION],
            }
        },
        "invocations": [invocation],
    }
    if cwd is not None:
        run["originalUriBaseIds"] = {
            SRCROOT: {
                "uri": base_uri(cwd),
                "description": {"text": "The working directory crownwatch scan ran in."},
            }
        }
    run["artifacts"] = arts.items
    run["results"] = out
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}
