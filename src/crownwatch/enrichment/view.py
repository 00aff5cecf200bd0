"""The enrichment view: the tables that carry ``src_ip`` as detections see them.

:class:`Enrichment` is prepared once per detection run (``detect.Tables``) from the
``[enrichment]`` section of crownwatch.toml and the cloud feeds stored in the lake;
:meth:`Enrichment.enrich` turns a lake table into a view with every column it had,
of the same type, plus

======================  ==============================================================
``src_asn``             the source's own value, else the ASN database's
``src_as_org``          the source's own value, else the database's (when the ASN agrees)
``src_country``         ISO 3166-1 alpha-2 always: the source's own value mapped to its
                        code (``United States`` → ``US``), else the country database's
``src_network``         ``private`` / ``reserved`` (no file needed), ``aws`` / ``gcp`` /
                        ``azure`` (stored feeds), NULL: public
``src_cloud_service``   the provider's service for a cloud address (``EC2``, ``S3``…)
``src_cloud_region``    its region (``us-east-1``, ``westeurope``…)
======================  ==============================================================

(A table without a column — ``network_activity`` has no ``src_asn``,
``llm_request`` no ``src_country`` — gains it.)

**Cost.** With no database configured and no feed stored there is no range join at
all: the country mapping — the table's distinct ``src_country`` spellings looked up
once per run (kept by :meth:`crownwatch.engine.Engine.materialise`), then a hash join
with that table of a few rows at each read — and the private/reserved regex per row,
evaluated only where a query reads ``src_network``. With databases or feeds, the
table's *distinct* addresses are converted and range-joined once per run (kept the
same way) and every read of the view is one more hash join on ``src_ip``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
from pydantic import BaseModel, ConfigDict, ValidationError

from crownwatch.enrichment import feeds, mmdb
from crownwatch.enrichment.countries import alias_arrow, apply_codes, country_codes
from crownwatch.enrichment.ip import bucket_expr, network_class_expr, with_ip_hex
from crownwatch.enrichment.ranges import FORMAT, Sidecar, cache_dir, write_spans

# the normalised tables that carry a source address
ENRICHED_TABLES = ("authentication", "api_activity", "llm_request", "network_activity")
# what the view guarantees on each of them
COLUMNS: dict[str, str] = {
    "src_asn": "int64",
    "src_as_org": "string",
    "src_country": "string",
    "src_network": "string",
    "src_cloud_service": "string",
    "src_cloud_region": "string",
}


class EnrichmentError(ValueError):
    """``[enrichment]`` or a file it names cannot be used; the message says why."""


class Settings(BaseModel):
    """``[enrichment]`` in crownwatch.toml."""

    model_config = ConfigDict(extra="forbid")

    asn_db: str | None = None  # GeoLite2-ASN.mmdb, dbip-asn-lite.mmdb, ipinfo_lite.mmdb…
    country_db: str | None = None  # GeoLite2-Country/City.mmdb, dbip-country-lite.mmdb…
    cloud_feeds: bool = True  # use the feeds `crownwatch feeds update` stored in the lake


def settings(config: dict[str, Any] | None) -> Settings:
    raw = (config or {}).get("enrichment") or {}
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise EnrichmentError("invalid enrichment settings:\n  " + "\n  ".join(lines)) from exc


@dataclass
class RangeTable:
    label: str  # asn_db, country_db, cloud
    path: Path
    built: bool = False  # built by this prepare (not found in the cache)
    counts: dict[str, int] = field(default_factory=dict)


def _file_key(path: Path) -> str:
    from crownwatch.lake import file_key

    return file_key(path)


def database_table(lake_root: Path, path: Path, roles: frozenset[str], what: str) -> RangeTable:
    """The range table of one database file, from the cache when its content was
    walked before (see :mod:`.ranges`)."""
    cdir = cache_dir(lake_root)
    cdir.mkdir(parents=True, exist_ok=True)
    role_tag = "+".join(sorted(roles))
    ident = hashlib.sha256(f"{path}|{role_tag}".encode()).hexdigest()[:16]
    side_path = cdir / f"mmdb-src-{ident}.json"
    try:
        st = path.stat()
    except OSError:
        mmdb.open_reader(path, what)  # raises the clear error (missing file)
        raise
    side = Sidecar.read(side_path)
    if (
        side is not None
        and (side.path, side.size, side.mtime_ns) == (str(path), st.st_size, st.st_mtime_ns)
        and (cdir / side.table).is_file()
    ):
        return RangeTable(what, cdir / side.table)
    key = _file_key(path)
    table = f"mmdb-{key}-{role_tag}-v{FORMAT}.parquet"
    out = cdir / table
    counts: dict[str, int] = {}
    built = False
    if not out.is_file():
        counts = mmdb.build(path, roles, out, what)
        built = True
    if side is not None and side.table != table:
        (cdir / side.table).unlink(missing_ok=True)  # the previous release of this file
    Sidecar(str(path), st.st_size, st.st_mtime_ns, key, table).write(side_path)
    return RangeTable(what, out, built, counts)


def cloud_table(lake_root: Path, newest: dict[str, feeds.StoredFeed]) -> RangeTable:
    """The range table of the newest stored feeds (rebuilt when one changes)."""
    cdir = cache_dir(lake_root)
    cdir.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    for name in sorted(newest):
        h.update(f"{name}={_file_key(newest[name].path)};".encode())
    out = cdir / f"cloud-{h.hexdigest()[:32]}-v{FORMAT}.parquet"
    if out.is_file():
        return RangeTable("cloud", out)
    try:
        counts = write_spans(feeds.spans({n: f.path for n, f in newest.items()}), out)
    except (feeds.FeedError, OSError) as exc:
        raise EnrichmentError(f"stored cloud feeds: {exc}") from exc
    for old in cdir.glob("cloud-*.parquet"):  # earlier feed versions
        if old != out:
            old.unlink(missing_ok=True)
    return RangeTable("cloud", out, True, counts)


def _resolve(value: str) -> Path:
    return Path(value).expanduser().resolve()


def countries_file(lake_root: Path) -> Path:
    """The country alias table as Parquet in the lake's cache (written once per
    version of the table): engines read it like the range tables."""
    import pyarrow.parquet as pq

    arrow = alias_arrow()
    digest = hashlib.sha256(
        "\n".join(f"{k}={v}" for k, v in zip(*arrow.to_pydict().values(), strict=True)).encode()
    ).hexdigest()[:16]
    out = cache_dir(lake_root) / f"countries-{digest}.parquet"
    if not out.is_file():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + f".tmp-{os.getpid()}")
        pq.write_table(arrow, tmp)
        os.replace(tmp, out)
    return out


class Enrichment:
    """The range tables of one run and the view over them (module notes)."""

    def __init__(
        self,
        ranges: list[RangeTable] | None = None,
        lake_root: Path | None = None,
        providers: frozenset[str] = frozenset(),
    ):
        self.ranges = list(ranges or [])
        self.lake_root = lake_root
        # the cloud providers whose published ranges this run knows (aws, gcp, azure):
        # only for those is "not in the provider's ranges" evidence of anything
        self.providers = providers
        self._info: dict[tuple[int, str], ibis.Table] = {}  # (engine, what) → kept table

    @classmethod
    def prepare(cls, lake_root: Path | str, config: dict[str, Any] | None) -> Enrichment:
        """Read ``[enrichment]``, walk any database not yet in the cache, and pick up
        the stored cloud feeds. Raises :class:`EnrichmentError` (a ``ValueError``) with
        a clear message for a bad setting or file."""
        lake_root = Path(lake_root)
        s = settings(config)
        wanted: dict[Path, set[str]] = {}
        names: dict[Path, list[str]] = {}
        for role, key, value in (
            ("asn", "asn_db", s.asn_db),
            ("country", "country_db", s.country_db),
        ):
            if value:
                p = _resolve(value)
                wanted.setdefault(p, set()).add(role)
                names.setdefault(p, []).append(f"enrichment.{key}")
        ranges = []
        try:
            for p, roles in wanted.items():
                ranges.append(database_table(lake_root, p, frozenset(roles), " / ".join(names[p])))
        except mmdb.DatabaseError as exc:
            raise EnrichmentError(str(exc)) from exc
        providers: frozenset[str] = frozenset()
        if s.cloud_feeds:
            newest = feeds.newest(lake_root)
            if newest:
                ranges.append(cloud_table(lake_root, newest))
                providers = frozenset(newest)
        return cls(ranges, lake_root, providers)

    # -- the view ------------------------------------------------------------------------

    def enrich(self, engine: Any, name: str) -> ibis.Table:
        """The lake table ``name`` (one with ``src_ip``) on ``engine`` as the view
        described in the module notes."""
        t = engine.table(name)
        cols = list(t.columns)
        had_country = "src_country" in cols
        missing = {c: ibis.null(COLUMNS[c]).name(c) for c in COLUMNS if c not in cols}
        base = [c for c in ("src_asn", "src_as_org", "src_country") if c in missing]
        if base:
            t = t.mutate(**{c: missing[c] for c in base})
        if had_country:
            t = apply_codes(t, self.country_codes(engine, name))
        names = cols + base
        if not self.ranges:
            return t.select(
                *[t[c] for c in names],
                src_network=network_class_expr(t.src_ip),
                src_cloud_service=ibis.null("string"),
                src_cloud_region=ibis.null("string"),
            )
        info = self.ip_info(engine, name)
        j = t.left_join(info, t.src_ip == info._e_ip)
        asn = j.src_asn.coalesce(j._e_asn)
        same_as = j.src_asn.isnull() | (j.src_asn == j._e_asn)
        fill = {
            "src_asn": asn,
            "src_as_org": j.src_as_org.coalesce(
                ibis.ifelse(same_as.fill_null(False), j._e_as_org, ibis.null("string"))
            ),
            "src_country": j.src_country.coalesce(j._e_country),
        }
        return j.select(
            *[fill[c].name(c) if c in fill else j[c] for c in names],
            src_network=j._e_network,
            src_cloud_service=j._e_service,
            src_cloud_region=j._e_region,
        )

    def country_codes(self, engine: Any, name: str) -> ibis.Table:
        """The distinct ``src_country`` spellings of the lake table ``name`` with their
        codes (:func:`.countries.country_codes`), computed once per engine and table
        and kept for the run: every read of the view is then one join with a table of
        a few rows. (Recomputed at each read, the distinct and the alias join tripled
        Spark's stages in the identity detections and ran its driver out of memory.)"""
        key = (id(engine), "countries:" + name)
        if key not in self._info:
            root = self.lake_root if self.lake_root is not None else engine.lake.root
            aliases = engine.backend.read_parquet(str(countries_file(root)))
            codes = country_codes(engine.table(name), "src_country", aliases)
            self._info[key] = engine.materialise(codes)
        return self._info[key]

    def ip_info(self, engine: Any, name: str) -> ibis.Table:
        """One row per distinct ``src_ip`` of the lake table ``name`` with what the range tables say
        about it: ``_e_ip, _e_asn, _e_as_org, _e_country, _e_network, _e_service,
        _e_region`` — computed once per engine and table, kept for the run."""
        key = (id(engine), name)
        if key in self._info:
            return self._info[key]
        t = engine.table(name)
        ips = t.select(_e_ip=t.src_ip).filter(ibis._._e_ip.notnull()).distinct()
        ips = with_ip_hex(ips, "_e_ip", "_e_h")
        x = ips.mutate(_e_b=bucket_expr(ips._e_h))
        found: dict[str, list[ibis.Value]] = {a: [] for a in mmdb_attrs()}
        for i, rt in enumerate(self.ranges):
            r = engine.backend.read_parquet(str(rt.path))
            r = r.select(
                **{f"_r{i}_b": r.bucket, f"_r{i}_s": r.start, f"_r{i}_e": r.end},
                **{f"_r{i}_{a}": r[a] for a in mmdb_attrs()},
            )
            x = x.left_join(
                r,
                [
                    x._e_b == r[f"_r{i}_b"],
                    r[f"_r{i}_s"] <= x._e_h,
                    x._e_h <= r[f"_r{i}_e"],
                ],
            ).drop(f"_r{i}_b", f"_r{i}_s", f"_r{i}_e")
            for a in mmdb_attrs():
                found[a].append(f"_r{i}_{a}")

        def first(a: str) -> ibis.Value:
            vals = [x[c] for c in found[a]]
            return ibis.coalesce(*vals) if len(vals) > 1 else vals[0]

        info = x.select(
            _e_ip=x._e_ip,
            _e_asn=first("asn"),
            _e_as_org=first("as_org"),
            _e_country=first("country"),
            _e_network=network_class_expr(x._e_ip).coalesce(first("network")),
            _e_service=first("service"),
            _e_region=first("region"),
        )
        info = engine.materialise(info)
        self._info[key] = info
        return info


def mmdb_attrs() -> tuple[str, ...]:
    from crownwatch.enrichment.ranges import ATTRS

    return ATTRS
