"""The asset registry: parsing, validation, and matching in the engine."""

from __future__ import annotations

import tomllib
from pathlib import Path

import ibis
import pyarrow as pa
import pytest

from crownwatch.assets import RegistryError, load_registry, parse_location, tag_assets
from crownwatch.tables import api_activity

ROOT = Path(__file__).resolve().parents[2]


def test_example_registry_parses():
    with open(ROOT / "crownwatch.example.toml", "rb") as fh:
        conf = tomllib.load(fh)
    reg = load_registry(conf)
    names = [a.name for a in reg.assets]
    assert names == [
        "frontier-weights",
        "pretrain-corpus",
        "npu-v2-tapeout",
        "hub-private-models",
        "frontier-train-code",
    ]
    assert "111122223333" in reg.organisation.own_accounts
    corpus = reg.get("pretrain-corpus")
    assert [loc.canonical for loc in corpus.parsed] == [
        "s3://nw-datasets/pretrain/",
        "azure://nwdatasets/corpus/pretrain/",
    ]
    assert reg.get("npu-v2-tapeout").parsed[1].is_glob


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("s3://bucket", "s3://bucket/"),
        ("arn:aws:s3:::bucket/x/", "s3://bucket/x/"),
        ("https://Acct.blob.core.windows.net/c/p", "azure://acct/c/p"),
        ("abfss://c@acct.dfs.core.windows.net/p", "azure://acct/c/p"),
        ("hf://org/repo", "hf://org/repo"),
        ("github://Northwind-AI/Frontier-Train/", "github://northwind-ai/frontier-train"),
        (
            "https://github.com/Northwind-AI/frontier-train.git",
            "github://northwind-ai/frontier-train",
        ),
        ("git@github.com:northwind-ai/npu-rtl.git", "github://northwind-ai/npu-rtl"),
        ("github://northwind-ai/*", "github://northwind-ai/*"),
        ("\\\\filer\\share\\x", "//filer/share/x"),
    ],
)
def test_locations_canonicalise(raw, canonical):
    assert parse_location(raw).canonical == canonical


def test_bad_registry_says_where():
    conf = {"assets": [{"name": "w", "kind": "weights", "locations": ["ftp://x/y"]}]}
    with pytest.raises(RegistryError) as exc:
        load_registry(conf)
    msg = str(exc.value)
    assert "#1 (w).kind" in msg and "locations" in msg
    with pytest.raises(RegistryError, match="unique"):
        load_registry({"assets": [{"name": "a", "kind": "dataset", "locations": ["s3://a"]}] * 2})


def test_matching_is_one_engine_expression_most_specific_first():
    reg = load_registry(
        {
            "assets": [
                {"name": "all-weights", "kind": "model_weights", "locations": ["s3://w/"]},
                {
                    "name": "frontier",
                    "kind": "model_weights",
                    "locations": ["s3://w/frontier/"],
                    "expected_readers": ["arn:aws:sts::*:assumed-role/Train/*"],
                },
                {"name": "chips", "kind": "chip_design", "locations": ["//filer/chips/**/*.gds"]},
            ]
        }
    )
    rows = [
        ("s3://w/frontier/a.safetensors", "arn:aws:sts::1:assumed-role/train/i-1"),
        ("s3://w/other/b.bin", "x"),
        ("s3://w2/frontier/a", "x"),
        ("//filer/chips/npu/top.gds", "x"),
        ("//filer/chips/npu/top.v", "x"),
    ]
    schema = api_activity.SCHEMA
    data = {f.name: [None] * len(rows) for f in schema}
    data["resource"] = [r for r, _ in rows]
    data["principal"] = [p for _, p in rows]
    t = ibis.memtable(pa.table({k: pa.array(v, schema.field(k).type) for k, v in data.items()}))
    out = (
        ibis.duckdb.connect()
        .to_pyarrow(tag_assets(t, reg).select("asset", "expected_reader"))
        .to_pylist()
    )
    assert [r["asset"] for r in out] == ["frontier", "all-weights", None, "chips", None]
    assert [r["expected_reader"] for r in out] == [True, False, False, False, False]
    # the SQL is one CASE, not a per-row Python loop
    sql = ibis.to_sql(tag_assets(t, reg), dialect="duckdb")
    assert "CASE" in sql and "STARTS_WITH" in sql.upper()


def test_repositories_match_one_repository_or_a_glob():
    import ibis
    import pyarrow as pa

    from crownwatch.assets import tag_repos

    reg = load_registry(
        {
            "assets": [
                {"name": "train", "kind": "source_code", "locations": ["github://Org/train"]},
                {"name": "rtl", "kind": "chip_design", "locations": ["github://org/npu-*"]},
                {"name": "w", "kind": "model_weights", "locations": ["s3://org/train"]},
            ]
        }
    )
    repos = ["org/train", "org/train-docs", "Org/NPU-rtl", "other/train"]
    t = ibis.memtable(pa.table({"repo": repos}))
    got = tag_repos(t, reg).to_pyarrow().to_pylist()
    assert [(r["asset"], r["asset_kind"]) for r in got] == [
        ("train", "source_code"),
        (None, None),
        ("rtl", "chip_design"),
        (None, None),
    ]
    assert tag_repos(t, load_registry({})).to_pyarrow()["asset"].null_count == 4
