"""Cloud providers' published address ranges: AWS ``ip-ranges.json``, Google Cloud
``cloud.json`` and Azure's service tags (``ServiceTags_Public_YYYYMMDD.json``).

``crownwatch feeds update`` downloads them (or takes copies from ``--from DIR``) and
keeps each **dated** in the lake: ``<lake>/feeds/<aws|gcp|azure>/<YYYY-MM-DD>.json``,
the date the provider published it (AWS ``createDate``, Google ``creationTime``,
Azure's file name) or, lacking one, the day it was fetched. The newest file of each
provider is what the enrichment view uses; older ones stay for looking back at what
an address was on a given day (delete them freely). A file is parsed before it is
stored: a truncated download or an error page never replaces a good feed.

**Azure.** Microsoft publishes the file weekly under a new URL
(``https://download.microsoft.com/download/…/ServiceTags_Public_<date>.json``),
linked from the download page https://www.microsoft.com/en-us/download/details.aspx?id=56519.
``update`` reads that page and follows the link. Where the page cannot be read (a
proxy, a changed page), download the file by hand and run
``crownwatch feeds update --from DIR``; files there are recognised by their content,
whatever their names.

Overlapping prefixes (AWS lists each prefix once as ``AMAZON`` and again under its
service; Azure under ``AzureCloud``, its region and every service tag) are made
disjoint: the most specific prefix wins, then a named service over the
provider-wide tag, then a regional tag over a global one.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from crownwatch.enrichment.ip import network_int_range
from crownwatch.enrichment.ranges import Span, flatten

NAMES = ("aws", "gcp", "azure")
URLS: dict[str, str] = {
    "aws": "https://ip-ranges.amazonaws.com/ip-ranges.json",
    "gcp": "https://www.gstatic.com/ipranges/cloud.json",
    # no fixed URL: found on the download page (AZURE_PAGE) each time
    "azure": "",
}
AZURE_PAGE = "https://www.microsoft.com/en-us/download/details.aspx?id=56519"
_AZURE_LINK = re.compile(r"https?://[^\"'<>\s]*?ServiceTags_Public_\d{8}\.json")
_AZURE_HOST = "download.microsoft.com"
_AZURE_NAME = re.compile(r"ServiceTags_Public_(\d{4})(\d{2})(\d{2})\.json$")
MAX_BYTES = 128 * 1024 * 1024  # the largest feed (Azure) is ~10 MB
_UA = "crownwatch-feeds/1 (+https://github.com/; python-urllib)"

# provider-wide tags: lose against a named service covering the same prefix
_GENERIC = {"AMAZON", "AzureCloud", ""}


class FeedError(ValueError):
    """A feed could not be fetched, read or stored; the message says which and why."""


@dataclass
class Prefix:
    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    service: str | None
    region: str | None


@dataclass
class StoredFeed:
    name: str
    day: date
    path: Path

    def age_days(self, today: date | None = None) -> int:
        return ((today or datetime.now(UTC).date()) - self.day).days


@dataclass
class UpdateResult:
    name: str
    status: str  # stored | unchanged | failed | skipped
    source: str
    day: date | None = None
    path: Path | None = None
    prefixes: int = 0
    error: str | None = None


def feeds_dir(lake_root: Path) -> Path:
    return Path(lake_root) / "feeds"


# -- reading --------------------------------------------------------------------------------


def sniff(doc: Any) -> str | None:
    """Which provider's format ``doc`` (parsed JSON) is in, by its content."""
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("values"), list) and "changeNumber" in doc:
        return "azure"
    if isinstance(doc.get("prefixes"), list):
        if "ipv6_prefixes" in doc or "createDate" in doc:
            return "aws"
        if "creationTime" in doc or any(
            isinstance(p, dict) and ("ipv4Prefix" in p or "ipv6Prefix" in p)
            for p in doc["prefixes"][:5]
        ):
            return "gcp"
    return None


def _net(text: Any) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    if not isinstance(text, str):
        return None
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


def _s(v: Any) -> str | None:
    return v.strip() if isinstance(v, str) and v.strip() else None


def parse(name: str, doc: Any) -> list[Prefix]:
    """Every prefix of a feed with its service and region. Malformed entries are
    left out; a document with none at all is a :class:`FeedError`."""
    out: list[Prefix] = []
    if name == "aws":
        for key, field in (("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")):
            for p in doc.get(key) or []:
                if isinstance(p, dict) and (n := _net(p.get(field))):
                    out.append(Prefix(n, _s(p.get("service")), _s(p.get("region"))))
    elif name == "gcp":
        for p in doc.get("prefixes") or []:
            if isinstance(p, dict) and (n := _net(p.get("ipv4Prefix") or p.get("ipv6Prefix"))):
                out.append(Prefix(n, _s(p.get("service")), _s(p.get("scope"))))
    elif name == "azure":
        for v in doc.get("values") or []:
            props = v.get("properties") if isinstance(v, dict) else None
            if not isinstance(props, dict):
                continue
            tag = _s(v.get("name")) or ""
            service = _s(props.get("systemService")) or tag.split(".", 1)[0] or None
            region = _s(props.get("region"))
            for text in props.get("addressPrefixes") or []:
                if n := _net(text):
                    out.append(Prefix(n, service, region))
    else:
        raise FeedError(f"unknown feed {name!r} (known: {', '.join(NAMES)})")
    if not out:
        raise FeedError(f"{name}: the document lists no address prefixes")
    return out


def published(name: str, doc: Any, filename: str = "") -> date | None:
    """The day the provider published ``doc``, where it says."""
    raw = None
    if name == "aws":
        raw = doc.get("createDate")  # 2024-01-12-23-13-06
    elif name == "gcp":
        raw = doc.get("creationTime")  # 2024-01-12T11:43:57.000000
    elif name == "azure" and (m := _AZURE_NAME.search(filename)):
        raw = f"{m.group(1)}-{m.group(2)}-{m.group(3)}"
    if isinstance(raw, str):
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            return None
    return None


def load(data: bytes, source: str) -> tuple[str, Any]:
    """``(provider, document)`` of a feed file's bytes; :class:`FeedError` if it is not one."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FeedError(f"{source}: not JSON ({exc})") from exc
    name = sniff(doc)
    if name is None:
        raise FeedError(
            f"{source}: not an AWS ip-ranges.json, Google cloud.json or Azure ServiceTags file"
        )
    return name, doc


# -- storing ---------------------------------------------------------------------------------


def store(lake_root: Path, data: bytes, source: str, expect: str | None = None) -> UpdateResult:
    """Parse ``data`` and keep it as ``<lake>/feeds/<name>/<YYYY-MM-DD>.json``."""
    name, doc = load(data, source)
    if expect and name != expect:
        raise FeedError(f"{source}: expected the {expect} feed, got {name}'s")
    prefixes = parse(name, doc)
    day = published(name, doc, source) or datetime.now(UTC).date()
    d = feeds_dir(lake_root) / name
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{day.isoformat()}.json"
    if path.is_file() and path.read_bytes() == data:
        return UpdateResult(name, "unchanged", source, day, path, len(prefixes))
    tmp = path.with_name(path.name + f".tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return UpdateResult(name, "stored", source, day, path, len(prefixes))


def fetch(url: str, timeout: float) -> bytes:
    """GET ``url`` (http/https only), at most :data:`MAX_BYTES`."""
    if not url.lower().startswith(("http://", "https://")):
        raise FeedError(f"{url}: only http(s) URLs are fetched")
    req = urllib.request.Request(url, headers={"User-Agent": _UA})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (scheme checked)
            data = resp.read(MAX_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise FeedError(f"{url}: {getattr(exc, 'reason', None) or exc}") from exc
    if len(data) > MAX_BYTES:
        raise FeedError(f"{url}: larger than {MAX_BYTES // 2**20} MB; not a feed")
    return data


def azure_url(page: str, timeout: float) -> str:
    """The current ServiceTags_Public_*.json link on Microsoft's download page."""
    from urllib.parse import urlsplit

    html = fetch(page, timeout).decode("utf-8", "replace")
    # only links to Microsoft's download host, or to the page's own host (a mirror)
    hosts = {_AZURE_HOST, urlsplit(page).netloc.lower()}
    for m in _AZURE_LINK.finditer(html):
        if urlsplit(m.group(0)).netloc.lower() in hosts:
            return m.group(0)
    raise FeedError(
        f"azure: no ServiceTags_Public_*.json link on {page}; download the file by "
        "hand and run `crownwatch feeds update --from DIR`"
    )


def update(
    lake_root: Path,
    *,
    from_dir: Path | None = None,
    urls: dict[str, str] | None = None,
    names: tuple[str, ...] = NAMES,
    timeout: float = 30.0,
) -> list[UpdateResult]:
    """Fetch each feed in ``names`` (``urls`` overrides the defaults; for ``azure`` a
    URL ending in ``.json`` is the file itself, any other the page that links it) —
    or, with ``from_dir``, store every feed file found there instead. One feed's
    failure is reported and the others go on."""
    results: list[UpdateResult] = []
    if from_dir is not None:
        files = sorted(p for p in Path(from_dir).rglob("*") if p.is_file())
        for p in files:
            try:
                results.append(store(lake_root, p.read_bytes(), str(p)))
            except FeedError as exc:
                results.append(UpdateResult("?", "skipped", str(p), error=str(exc)))
            except OSError as exc:
                results.append(UpdateResult("?", "failed", str(p), error=f"{p}: {exc}"))
        return results
    urls = {**URLS, **(urls or {})}
    for name in names:
        url = urls.get(name) or ""
        try:
            if name == "azure" and not url.lower().endswith(".json"):
                url = azure_url(url or AZURE_PAGE, timeout)
            results.append(store(lake_root, fetch(url, timeout), url, expect=name))
        except FeedError as exc:
            results.append(UpdateResult(name, "failed", url, error=str(exc)))
    return results


def stored(lake_root: Path) -> list[StoredFeed]:
    """Every stored feed file, newest first per provider."""
    out: list[StoredFeed] = []
    for name in NAMES:
        d = feeds_dir(lake_root) / name
        if not d.is_dir():
            continue
        for p in d.glob("*.json"):
            try:
                day = date.fromisoformat(p.stem)
            except ValueError:
                continue
            out.append(StoredFeed(name, day, p))
    return sorted(out, key=lambda f: (NAMES.index(f.name), -f.day.toordinal()))


def newest(lake_root: Path) -> dict[str, StoredFeed]:
    out: dict[str, StoredFeed] = {}
    for f in stored(lake_root):
        out.setdefault(f.name, f)
    return out


def spans(files: dict[str, Path]) -> Iterator[Span]:
    """The stored feeds' prefixes as disjoint spans (``network`` = provider)."""
    ranked = []
    for name, path in sorted(files.items()):
        prov, doc = load(path.read_bytes(), str(path))
        for p in parse(prov, doc):
            lo, hi = network_int_range(p.network)
            rank = (
                hi - lo,  # most specific first
                (p.service or "") in _GENERIC,  # a named service before the provider-wide tag
                p.region is None,  # a region before none
                p.service or "",
                p.region or "",
            )
            ranked.append((Span(lo, hi, network=name, service=p.service, region=p.region), rank))
    return flatten(ranked)
