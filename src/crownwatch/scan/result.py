"""Result records of the model-artifact scanner.

A scan produces one :class:`ScanResult` per file, and one per archive member (path
``archive.zip!member``, nested ``a.zip!inner.tar!x.pkl``). Each result carries a format, a
verdict and the issues behind it. The verdict follows from the worst issue:

* ``critical`` / ``high``  -> ``malicious`` (the artifact runs code, touches files or the
  network, or tampers with the loader when it is loaded)
* ``medium``               -> ``suspicious`` (something a loader would resolve that we cannot
  vouch for: an unknown callable, a custom op, a malformed container)
* ``low`` / ``info``       -> ``clean`` (noted, but harmless as far as static analysis can tell)

``error`` is for an artifact that could not be scanned completely, when nothing worse was
found: an I/O error, a container whose structure is unreadable, a truncated pickle / GGUF /
safetensors / ONNX / compressed stream (what precedes the break is still judged), content
beyond the scan budget (``scan.budget_exceeded``), or a file named like a model format
(``.pkl``, ``.safetensors``...) whose content is no recognised format. A file that is simply
not a model artifact and does not claim to be one is ``clean`` with an ``info`` note.
"""

from __future__ import annotations

SEVERITIES = ("info", "low", "medium", "high", "critical")
_RANK = {s: i for i, s in enumerate(SEVERITIES)}

FORMATS = (
    "pickle",
    "pytorch-zip",
    "pytorch-legacy",
    "torchscript",
    "joblib",
    "numpy",
    "npz",
    "keras",
    "h5",
    "savedmodel",
    "onnx",
    "gguf",
    "safetensors",
    "zip",
    "tar",
    "7z",
    "unknown",
)


def severity_rank(sev: str) -> int:
    return _RANK.get(sev, 0)


class Issue:
    __slots__ = ("severity", "kind", "detail")

    def __init__(self, severity: str, kind: str, detail: str):
        self.severity = severity
        self.kind = kind
        self.detail = detail

    def _key(self) -> tuple[str, str, str]:
        return (self.severity, self.kind, self.detail)

    def __eq__(self, other) -> bool:
        return isinstance(other, Issue) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Issue({self.severity!r}, {self.kind!r}, {self.detail!r})"

    def __reduce__(self):
        return (Issue, self._key())

    def to_dict(self) -> dict:
        return {"severity": self.severity, "kind": self.kind, "detail": self.detail}


class ScanResult:
    __slots__ = ("path", "format", "issues", "error", "sha256", "member")

    def __init__(
        self,
        path: str,
        format: str = "unknown",
        issues: list[Issue] | None = None,
        error: bool = False,
        sha256: str | None = None,
        member: str | None = None,
    ):
        self.path = path
        self.format = format
        self.issues: list[Issue] = list(issues or [])
        self.error = error
        # Not part of the JSON contract; used for findings evidence.
        self.sha256 = sha256
        # An archive member's own name inside its container (``path`` is the container's path
        # + ``!`` + this); None for a file. Member names may hold ``!`` themselves, so the
        # nesting cannot be read back from ``path`` (SARIF needs it for nested artifacts).
        self.member = member

    @classmethod
    def member_of(cls, container: str, name: str) -> ScanResult:
        """The result of member ``name`` of the archive whose result path is ``container``."""
        return cls(f"{container}!{name}", member=name)

    def __reduce__(self):
        return (
            ScanResult,
            (self.path, self.format, self.issues, self.error, self.sha256, self.member),
        )

    def __repr__(self) -> str:
        return f"ScanResult({self.path!r}, {self.format!r}, verdict={self.verdict!r}, issues={len(self.issues)})"

    def add(self, severity: str, kind: str, detail: str) -> None:
        issue = Issue(severity, kind, detail[:2000])
        if issue not in self.issues:
            self.issues.append(issue)

    def extend(self, issues) -> None:
        for i in issues:
            if i not in self.issues:
                self.issues.append(i)

    def issues_above(self, severity: str) -> bool:
        floor = _RANK[severity]
        return any(_RANK.get(i.severity, 0) > floor for i in self.issues)

    @property
    def max_severity(self) -> str:
        if not self.issues:
            return "info"
        return max((i.severity for i in self.issues), key=severity_rank)

    @property
    def verdict(self) -> str:
        worst = severity_rank(self.max_severity) if self.issues else -1
        if worst >= _RANK["high"]:
            return "malicious"
        if worst >= _RANK["medium"]:
            return "suspicious"
        if self.error:
            return "error"
        return "clean"

    def to_dict(self) -> dict:
        issues = sorted(self.issues, key=lambda i: -severity_rank(i.severity))
        return {
            "path": self.path,
            "format": self.format,
            "verdict": self.verdict,
            "issues": [i.to_dict() for i in issues],
        }
