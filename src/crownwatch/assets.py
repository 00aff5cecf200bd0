"""The crown-jewel registry: what the organisation must not lose, and where it lives.

``crownwatch.toml`` declares it (see ``crownwatch.example.toml``)::

    [organisation]
    own_accounts = ["111122223333", "northwind-ml-prod", "5f1c…-subscription-id"]
    identity_map = { "alice@northwind-ai.com" = ["arn:aws:sts::*:assumed-role/*/alice@*"] }

    [[assets]]
    name = "frontier-weights"
    kind = "model_weights"                 # model_weights | dataset | chip_design | source_code | secrets
    locations = ["s3://nw-model-weights/frontier/", "gs://nw-weights-eu/frontier/"]
    owners = ["ml-platform@northwind-ai.com"]
    expected_readers = ["arn:aws:sts::*:assumed-role/nightly-train/*"]
    sensitivity = "critical"

**Locations** are canonicalised to the form every source writes into
``api_activity.resource`` — ``s3://bucket/key``, ``gs://bucket/object``,
``azure://account/container/blob`` (the ``https://acct.blob.core.windows.net/…``,
``abfss://container@acct.dfs.core.windows.net/…`` and ``arn:aws:s3:::bucket/…`` spellings
are accepted too), ``hf://org/repo`` for Hugging Face repos, ``github://org/repo`` for
source repositories (``https://github.com/org/repo`` and ``git@github.com:org/repo.git``
are accepted; lower case, as GitHub's names are case-insensitive and its audit log
writes ``repo`` as ``org/name``; a repository location names that repository only, and
``github://org/*`` every repository of the org) — and the others matched as *prefixes*,
exactly like the object stores treat them (``s3://b/llm`` covers ``s3://b/llm-v2/…``;
end it with ``/`` to mean one folder). A location with ``*``, ``?`` or ``[`` is a glob
(``//filer/chips/**/*.gds``, ``s3://b/*/weights/*.safetensors``); ``*`` crosses ``/``.

**Expected readers** are globs over the principal as the logs write it (an ARN, an
e-mail, an Azure object id), case-insensitive: the people and jobs whose reading of the
asset is the point of having it. They keep *first access* quiet and are never the only
reason a bulk read stays quiet.

Matching happens **in the engine**: :func:`tag_assets` turns the registry into one
Ibis ``CASE`` over ``resource`` (most specific location first), so the same
expression runs on DuckDB and Spark over billions of rows — never a Python loop per row.

Detections reach the registry through :func:`registry_for` (the run's configuration
when the framework passes it, else ``load_config()``); with no ``[[assets]]`` at all
they fall back to :func:`auto_registry`-style tagging by file type, so an unconfigured
first run still sees model shards, datasets and chip designs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import cached_property
from typing import Any, Literal

import ibis
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from crownwatch.config import load_config
from crownwatch.tables.authentication import user_key

KINDS = ("model_weights", "dataset", "chip_design", "source_code", "secrets")
AI_KINDS = ("model_weights", "dataset")
SENSITIVITIES = ("low", "medium", "high", "critical")

Kind = Literal["model_weights", "dataset", "chip_design", "source_code", "secrets"]
Sensitivity = Literal["low", "medium", "high", "critical"]

# File types that say what an object is, whoever stores it (discovery and the
# unconfigured fallback use the same list).
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "model_weights": (
        ".safetensors",
        ".pt",
        ".pth",
        ".bin",
        ".gguf",
        ".ckpt",
        ".onnx",
        ".h5",
        ".pb",
        ".mlmodel",
    ),
    "dataset": (
        ".parquet",
        ".arrow",
        ".tfrecord",
        ".jsonl",
        ".jsonl.gz",
        ".jsonl.zst",
        ".webdataset",
        ".mds",
    ),
    "chip_design": (
        ".gds",
        ".gds2",
        ".gdsii",
        ".oas",
        ".oasis",
        ".lef",
        ".def",
        ".v",
        ".sv",
        ".vhd",
        ".lib",
        ".spef",
        ".sdc",
    ),
}


class RegistryError(ValueError):
    """The registry in crownwatch.toml is invalid; the message says where and why."""


class Location(BaseModel):
    """One canonical location: a prefix or a glob over ``api_activity.resource``."""

    model_config = ConfigDict(frozen=True)
    raw: str
    canonical: str
    scheme: str  # s3 | gs | azure | hf | github | file
    bucket: str | None = None
    is_glob: bool = False

    @property
    def regex(self) -> str:
        return glob_to_regex(self.canonical) if self.is_glob else "^" + _re_escape(self.canonical)


def _re_escape(s: str) -> str:
    # Only the metacharacters RE2 (DuckDB) and java.util.regex (Spark) share.
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", s)


def glob_to_regex(glob: str) -> str:
    """Anchored regex for a glob: ``*`` any run of characters (``/`` included), ``?`` one,
    ``[...]`` a class. Portable between RE2 and Java regex."""
    out, i = ["^"], 0
    while i < len(glob):
        c = glob[i]
        if c == "*":
            while i + 1 < len(glob) and glob[i + 1] == "*":
                i += 1
            out.append(".*")
        elif c == "?":
            out.append(".")
        elif c == "[":
            j = glob.find("]", i + 1)
            if j == -1:
                out.append(r"\[")
            else:
                body = glob[i + 1 : j].replace("\\", r"\\")
                if body.startswith("!"):
                    body = "^" + body[1:]
                out.append("[" + body + "]")
                i = j
        else:
            out.append(_re_escape(c))
        i += 1
    return "".join(out) + "$"


_AZ_HTTPS = re.compile(
    r"^https://([a-z0-9]{3,24})\.(?:blob|dfs)\.core\.windows\.net(?::\d+)?/(.*)$", re.I
)
_AZ_ABFS = re.compile(r"^abfss?://([^@/]+)@([a-z0-9]{3,24})\.dfs\.core\.windows\.net/?(.*)$", re.I)
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([^/]+)/?(.*)$")
_GITHUB = re.compile(
    r"^(?:https?://(?:www\.)?github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"([^/\s]+)/([^/\s]+?)(?:\.git)?/?$",
    re.I,
)


def parse_location(raw: str) -> Location:
    """Canonicalise one location string; raises ValueError with the accepted forms."""
    s = raw.strip()
    if not s:
        raise ValueError("empty location")
    if m := _S3_ARN.match(s):
        s = f"s3://{m.group(1)}/{m.group(2)}"
    elif m := _AZ_HTTPS.match(s):
        s = f"azure://{m.group(1).lower()}/{m.group(2)}"
    elif m := _AZ_ABFS.match(s):
        s = f"azure://{m.group(2).lower()}/{m.group(1)}/{m.group(3)}"
    elif m := _GITHUB.match(s):
        s = f"github://{m.group(1)}/{m.group(2)}"
    if s.lower().startswith("github://"):
        s = s.lower().rstrip("/")
    is_glob = any(c in s for c in "*?[")
    if "://" in s:
        scheme, rest = s.split("://", 1)
        scheme = scheme.lower()
        if scheme not in ("s3", "gs", "azure", "hf", "github", "file"):
            raise ValueError(
                f"unsupported location {raw!r}: use s3://bucket/prefix, gs://bucket/prefix, "
                "https://account.blob.core.windows.net/container/prefix, azure://account/container/prefix, "
                "hf://org/repo, github://org/repo or a file-share path/glob"
            )
        bucket, _, path = rest.partition("/")
        if not bucket:
            raise ValueError(f"location {raw!r} names no bucket/account")
        if scheme == "azure":
            bucket = bucket.lower()
        if not path and not is_glob:
            # a bare bucket means the whole bucket, not every bucket whose name starts so
            return Location(
                raw=raw, canonical=f"{scheme}://{bucket}/", scheme=scheme, bucket=bucket
            )
        return Location(
            raw=raw,
            canonical=f"{scheme}://{bucket}/{path}",
            scheme=scheme,
            bucket=bucket,
            is_glob=is_glob,
        )
    if s.startswith(("/", "\\\\", "//")) or re.match(r"^[A-Za-z]:[\\/]", s):
        # file shares: one spelling (forward slashes) whatever the log wrote
        norm = s.replace("\\", "/")
        return Location(raw=raw, canonical=norm, scheme="file", is_glob=is_glob)
    raise ValueError(f"unrecognised location {raw!r}")


class Asset(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: Kind
    locations: list[str] = Field(min_length=1)
    owners: list[str] = []
    expected_readers: list[str] = []
    sensitivity: Sensitivity = "high"
    description: str = ""
    # Machines the asset lives on or is worked on from (training nodes, the file server
    # of a chip team): CIDRs or host names. Network detections rank traffic of these
    # hosts higher (network.beaconing).
    hosts: list[str] = []

    @field_validator("locations")
    @classmethod
    def _locations_parse(cls, v: list[str]) -> list[str]:
        for raw in v:
            parse_location(raw)
        return v

    @cached_property
    def parsed(self) -> list[Location]:
        return [parse_location(raw) for raw in self.locations]

    @property
    def is_ai(self) -> bool:
        return self.kind in AI_KINDS


class Organisation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = ""
    # AWS account ids, GCP project ids/numbers, Azure subscription ids and storage
    # accounts that are ours: a copy, grant or share to one of these is not "out".
    own_accounts: list[str] = []
    # identity user (Okta/Entra login in any form: alice@corp.example, CORP\\alice)
    # -> principal globs in cloud logs, for users whose cloud principal does not
    # contain their login. Keyed by the identity key (``alice``) the tables use.
    identity_map: dict[str, list[str]] = {}
    # ASNs of our own egress (office, VPN, cloud NAT) — never "a new place".
    own_asns: list[int] = []
    # Address ranges of our own egress (VPN concentrators, office NAT), IPv4 or IPv6
    # CIDRs — never "a new place" either (crownwatch.enrichment.places.own_network).
    own_cidrs: list[str] = []
    # Services our machines call on a schedule by design (update mirrors, monitoring
    # intake, time servers): CIDRs or DNS names (a name covers its subdomains). Periodic
    # traffic to them is not a beacon (network.beaconing).
    known_services: list[str] = []

    @field_validator("identity_map")
    @classmethod
    def _identity_keys(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for user, globs in v.items():
            key = user_key(user)
            if key is None:
                raise ValueError(f"identity_map: {user!r} is not a user name")
            out.setdefault(key, []).extend(globs)
        return out

    @field_validator("own_cidrs")
    @classmethod
    def _cidrs(cls, v: list[Any]) -> list[str]:
        import ipaddress

        out = []
        for c in v:
            try:
                out.append(str(ipaddress.ip_network(str(c).strip(), strict=False)))
            except ValueError as exc:
                raise ValueError(f"own_cidrs: {c!r} is not an IP network ({exc})") from exc
        return out

    @field_validator("own_accounts")
    @classmethod
    def _accounts_str(cls, v: list[Any]) -> list[str]:
        return [str(a).strip() for a in v if str(a).strip()]


class Registry(BaseModel):
    model_config = ConfigDict(extra="ignore")

    assets: list[Asset] = []
    organisation: Organisation = Organisation()

    @model_validator(mode="after")
    def _unique_names(self) -> Registry:
        names = [a.name for a in self.assets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"asset names must be unique; repeated: {', '.join(dupes)}")
        return self

    def get(self, name: str) -> Asset | None:
        return next((a for a in self.assets if a.name == name), None)

    def locations(self) -> list[tuple[Asset, Location]]:
        """Every (asset, location), most specific first: a longer prefix wins, and a
        glob is tried after the prefixes it might overlap."""
        pairs = [(a, loc) for a in self.assets for loc in a.parsed]
        return sorted(pairs, key=lambda al: (al[1].is_glob, -len(al[1].canonical), al[0].name))


def load_registry(config: Mapping[str, Any] | None) -> Registry:
    """The registry from a loaded configuration dict (missing sections → empty)."""
    config = config or {}
    try:
        return Registry.model_validate(
            {"assets": config.get("assets", []), "organisation": config.get("organisation", {})}
        )
    except ValidationError as exc:
        lines = []
        for e in exc.errors():
            where = ".".join(str(x) for x in e["loc"])
            if where.startswith("assets.") and isinstance(e["loc"][1], int):
                idx = e["loc"][1]
                assets = config.get("assets", [])
                name = (
                    assets[idx].get("name")
                    if idx < len(assets) and isinstance(assets[idx], dict)
                    else None
                )
                where = (
                    f"[[assets]] #{idx + 1}"
                    + (f" ({name})" if name else "")
                    + "."
                    + ".".join(str(x) for x in e["loc"][2:])
                )
            lines.append(f"{where}: {e['msg']}")
        raise RegistryError("invalid asset registry:\n  " + "\n  ".join(lines)) from exc


def registry_for(t: Any = None, p: Any = None) -> Registry:
    """The registry a detection should use.

    The framework's ``Tables`` may carry the run's configuration as ``t.config`` (see the
    note in the exfiltration package); until it does, ``load_config()`` finds
    crownwatch.toml the usual way ($CROWNWATCH_CONFIG, ./crownwatch.toml)."""
    config = None
    if t is not None:
        config = vars(t).get("config") if hasattr(t, "__dict__") else None
    if config is None:
        config = load_config()
    return load_registry(config)


# -- engine expressions ---------------------------------------------------------------


def _match(resource: ibis.Value, loc: Location) -> ibis.Value:
    if loc.is_glob:
        return resource.re_search(loc.regex)
    if loc.scheme == "github" and not loc.canonical.endswith("/"):
        # a repository is one repository: github://org/app must not cover org/app-docs
        return resource.lower() == loc.canonical
    return resource.startswith(loc.canonical)


def tag_repos(t: ibis.Table, reg: Registry) -> ibis.Table:
    """``t`` (with ``repo``: ``org/name`` as the code platform's audit log writes it)
    with ``asset``, ``asset_kind`` and ``asset_sensitivity`` from the registry's
    ``github://`` locations — NULL off the registry. No file-type fallback: a
    repository's name says nothing of what it holds."""
    pairs = [(a, loc) for a, loc in reg.locations() if loc.scheme == "github"]
    res = ibis.literal("github://").concat(t.repo.lower())
    if not pairs:
        return t.mutate(
            asset=ibis.null("string"),
            asset_kind=ibis.null("string"),
            asset_sensitivity=ibis.null("string"),
        )
    asset = ibis.cases(*[(_match(res, loc), a.name) for a, loc in pairs], else_=ibis.null("string"))
    return _with_facts(t.mutate(asset=asset), [a for a, _ in pairs])


def _ext_kind(resource: ibis.Value) -> ibis.Value:
    low = resource.lower()
    cases = []
    for kind, exts in EXTENSIONS.items():
        cond = None
        for ext in exts:
            c = low.endswith(ext)
            cond = c if cond is None else cond | c
        cases.append((cond, kind))
    return ibis.cases(*cases, else_=ibis.null("string"))


def tag_assets(
    t: ibis.Table, reg: Registry, *, auto: bool = True, readers: bool = True
) -> ibis.Table:
    """``t`` (an api_activity-shaped table) with ``asset``, ``asset_kind``,
    ``asset_sensitivity`` and ``expected_reader`` added — NULL/False off the registry.

    With an empty registry and ``auto``, objects whose file type says model weights,
    dataset or chip design are tagged per bucket as ``auto:<scheme>://<bucket>``.
    ``readers=False`` leaves ``expected_reader`` out, for callers that decide it once
    per distinct (principal, asset) with :func:`expected_reader` instead of per row."""
    res = t.resource
    if not reg.assets:
        if not auto:
            t = t.mutate(
                asset=ibis.null("string"),
                asset_kind=ibis.null("string"),
                asset_sensitivity=ibis.null("string"),
            )
        else:
            kind = _ext_kind(res)
            bucket_url = res.re_extract(r"^([a-z0-9]+://[^/]+)", 1)
            t = t.mutate(
                asset=ibis.ifelse(
                    kind.notnull(), ibis.literal("auto:").concat(bucket_url), ibis.null("string")
                ),
                asset_kind=kind,
                asset_sensitivity=ibis.ifelse(kind.notnull(), "high", ibis.null("string")),
            )
        return t.mutate(expected_reader=ibis.literal(False)) if readers else t
    pairs = reg.locations()
    asset = ibis.cases(*[(_match(res, loc), a.name) for a, loc in pairs], else_=ibis.null("string"))
    t = _with_facts(t.mutate(asset=asset), reg.assets)
    return t.mutate(expected_reader=expected_reader(t, reg)) if readers else t


def _with_facts(t: ibis.Table, assets: Iterable[Asset]) -> ibis.Table:
    """``t`` (with ``asset``, a name) with that asset's ``asset_kind`` and
    ``asset_sensitivity``."""
    by_name = {a.name: a for a in assets}
    kind = ibis.cases(
        *[(t.asset == n, a.kind) for n, a in by_name.items()], else_=ibis.null("string")
    )
    sens = ibis.cases(
        *[(t.asset == n, a.sensitivity) for n, a in by_name.items()], else_=ibis.null("string")
    )
    return t.mutate(asset_kind=kind, asset_sensitivity=sens)


def expected_reader(t: ibis.Table, reg: Registry) -> ibis.Value:
    """True where ``t.principal`` is one of ``t.asset``'s expected readers (a regex per
    row: evaluate it on distinct (principal, asset) pairs where rows are many)."""
    reader_cases = []
    principal = t.principal.lower()
    for a in reg.assets:
        if a.expected_readers:
            rx = "|".join("(" + glob_to_regex(g.lower()) + ")" for g in a.expected_readers)
            reader_cases.append((t.asset == a.name, principal.re_search(rx).fill_null(False)))
    return ibis.cases(*reader_cases, else_=False) if reader_cases else ibis.literal(False)


def bucket_assets(t: ibis.Table, reg: Registry) -> ibis.Table:
    """``t`` with ``asset`` set when the row's *bucket* (``scheme://bucket``) holds any
    location of an asset — for bucket-level changes (policy, ACL, replication) that
    expose every object in it."""
    res = t.resource
    pairs = [(a, loc) for a, loc in reg.locations() if loc.bucket]
    if not pairs:
        return tag_assets(t, reg).mutate(asset=ibis.null("string"))
    root = res.re_extract(r"^([a-z0-9]+://[^/]+)", 1)
    cases = [(root == f"{loc.scheme}://{loc.bucket}", a.name) for a, loc in pairs]
    return t.mutate(asset=ibis.cases(*cases, else_=ibis.null("string")))


def own_accounts_expr(col: ibis.Value, reg: Registry) -> ibis.Value:
    """True where ``col`` is one of our own accounts (NULL stays NULL)."""
    own = list(reg.organisation.own_accounts)
    return col.isin(own) if own else ibis.literal(False)


def principal_globs(reg: Registry, user: str) -> list[str]:
    return list(reg.organisation.identity_map.get(user_key(user) or "", []))


def describe(reg: Registry) -> list[dict]:
    """Plain rows for ``crownwatch assets list``."""
    return [
        {
            "name": a.name,
            "kind": a.kind,
            "sensitivity": a.sensitivity,
            "locations": [loc.canonical for loc in a.parsed],
            "owners": a.owners,
            "expected_readers": a.expected_readers,
        }
        for a in reg.assets
    ]


def _uniq(xs: Iterable[str]) -> list[str]:
    return sorted(set(xs))


# -- discovery ----------------------------------------------------------------------------

_SHARD = r"-\d{5}-of-\d{5}\."


def suggest(lake: Any, *, min_objects: int = 1) -> list[dict]:
    """Crown-jewel candidates from what the logs show: object keys that look like model
    weights, dataset shards or chip designs, grouped per bucket and top folder, with their
    volumes and readers. Aggregated in the engine; Python sees one row per candidate.

    ``lake`` is a :class:`crownwatch.lake.Lake` (or anything with ``table_files``)."""
    from crownwatch.engine import Engine

    eng = Engine(lake)
    t = eng.table("api_activity")
    t = t.filter(t.resource.notnull() & t.object_key.notnull())
    kind = _ext_kind(t.object_key)
    # the folder that holds the files: up to the last "/" of the resource
    prefix = t.resource.re_extract(r"^(.*/)[^/]*$", 1)
    t = t.mutate(kind=kind, prefix=prefix, sharded=t.object_key.re_search(_SHARD))
    t = t.filter(t.kind.notnull())
    g = t.group_by(["prefix", "kind"]).aggregate(
        objects=t.object_key.nunique(),
        requests=t.count(),
        bytes_read=t.bytes_out.fill_null(0).sum(),
        largest_object=t.object_size.max(),
        readers=t.principal.nunique(),
        sharded=t.sharded.any(),
        first_seen=t.time.min(),
        last_seen=t.time.max(),
    )
    g = g.filter(g.objects >= min_objects).order_by([g.bytes_read.desc(), g.prefix])
    rows = eng.execute(g)
    out = []
    for r in rows:
        loc = r["prefix"]
        name = "-".join(p for p in loc.split("://", 1)[-1].strip("/").split("/")[-2:] if p) or loc
        out.append(
            {
                "name": re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-").lower(),
                "kind": r["kind"],
                "locations": [loc],
                "sensitivity": "critical"
                if r["kind"] in ("model_weights", "chip_design")
                else "high",
                "evidence": {
                    "objects": r["objects"],
                    "requests": r["requests"],
                    "bytes_read": r["bytes_read"],
                    "largest_object": r["largest_object"],
                    "readers": r["readers"],
                    "sharded_checkpoint": bool(r["sharded"]),
                    "first_seen": str(r["first_seen"]),
                    "last_seen": str(r["last_seen"]),
                },
            }
        )
    # the same name twice (two buckets with the same folder): keep them apart
    seen: dict[str, int] = {}
    for s in out:
        n = seen.get(s["name"], 0)
        seen[s["name"]] = n + 1
        if n:
            s["name"] = f"{s['name']}-{n + 1}"
    return out


def _toml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_toml(suggestions: list[dict]) -> str:
    """``[[assets]]`` tables the user can paste into crownwatch.toml, volumes as comments."""
    lines = [
        "# Suggested crown jewels — review, rename, add owners and expected_readers, then paste.",
        "",
    ]
    for s in suggestions:
        ev = s["evidence"]
        lines.append(
            f"# {ev['objects']} objects, {ev['bytes_read']} bytes read in {ev['requests']} requests "
            f"by {ev['readers']} principals"
            + (", sharded checkpoint" if ev["sharded_checkpoint"] else "")
        )
        lines.append("[[assets]]")
        lines.append(f"name = {_toml_str(s['name'])}")
        lines.append(f"kind = {_toml_str(s['kind'])}")
        lines.append("locations = [" + ", ".join(_toml_str(x) for x in s["locations"]) + "]")
        lines.append("owners = []")
        lines.append("expected_readers = []")
        lines.append(f"sensitivity = {_toml_str(s['sensitivity'])}")
        lines.append("")
    return "\n".join(lines)
