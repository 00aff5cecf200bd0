"""Compaction: few large files per day, every row kept once, whatever step a crash hits."""

from __future__ import annotations

import json
import shutil
import threading

import duckdb
import pyarrow.parquet as pq
import pytest

from crownwatch import lake_compact
from crownwatch.lake import Lake, duck_type
from crownwatch.lake_compact import CompactError, compact, recover
from crownwatch.tables import SCHEMAS

from .conftest import DAYS, FILES, make_logs

TABLES = ("api_activity", "authentication", "quarantine")


def census(lake: Lake) -> dict[str, tuple[int, int]]:
    """(rows, an order-free fingerprint of every value) per table."""
    con = duckdb.connect()
    out = {}
    for t in TABLES:
        rel = con.read_parquet(lake.table_glob(t), union_by_name=True, hive_partitioning=True)
        # every schema column by name, typed: files may lack a column they have no
        # value for (compaction writes them all), and the order of the columns read
        # by name depends on which file comes first
        cols = ", ".join(
            f'CAST("{f.name}" AS {duck_type(f.type)})'
            if f.name in rel.columns
            else f"CAST(NULL AS {duck_type(f.type)})"
            for f in SCHEMAS[t]
        )
        out[t] = rel.aggregate(f"count(*), sum(hash(row({cols}))::HUGEINT)").fetchall()[0]
    return out


def names(lake: Lake, table: str = "api_activity") -> dict[str, list[str]]:
    return {
        p.name: sorted(f.name for f in p.glob("*.parquet"))
        for p in sorted((lake.tables_dir / table).glob("day=*"))
    }


def test_each_day_becomes_one_file_holding_every_row_once(small_lake):
    before, manifest = census(small_lake), small_lake.manifest_path.read_bytes()
    assert all(len(files) == FILES for files in names(small_lake).values())

    report = compact(small_lake)

    assert census(small_lake) == before
    assert small_lake.manifest_path.read_bytes() == manifest  # it lists inputs, not files
    for table in TABLES:
        for files in names(small_lake, table).values():
            assert len(files) == 1 and files[0].startswith("compacted-")
    # api_activity: 2 days x 4 files; authentication: 1 day x 4; quarantine: 1 day x 4
    assert report.totals()["files_before"] == 16 and report.totals()["files_after"] == 4
    assert report.totals()["rows"] == sum(rows for rows, _ in before.values())
    assert not (small_lake.root / ".compact").exists()
    # rows come out in time order: each row group's min/max spans a stretch of the day
    (day1,) = (small_lake.tables_dir / "api_activity" / f"day={DAYS[0]}").glob("*.parquet")
    times = [r[0] for r in duckdb.sql(f"SELECT time FROM '{day1}'").fetchall()]
    assert times == sorted(times)
    assert compact(small_lake).partitions == []  # nothing left to do


def test_files_of_an_input_the_manifest_lacks_are_left_for_the_repair(small_lake):
    """A crashed ingest's partial files stay under their key: the next ingest of that
    input deletes them by name, so they must never be merged away."""
    day = small_lake.tables_dir / "api_activity" / f"day={DAYS[0]}"
    some = sorted(day.glob("*.parquet"))[0]
    partial = day / ("f" * 24 + "_0_0.parquet")
    shutil.copy(some, partial)
    foreign = day / "someone-elses.parquet"
    shutil.copy(some, foreign)
    copied = pq.ParquetFile(some).metadata.num_rows
    (day / "notes").mkdir()  # and whatever else someone put there
    (day / "notes" / "why.txt").write_text("kept")
    (day / "link.txt").symlink_to(day / "notes" / "why.txt")
    before = census(small_lake)

    compact(small_lake)

    assert partial.exists() and foreign.exists()
    assert (day / "notes" / "why.txt").read_text() == "kept" and (day / "link.txt").is_symlink()
    assert census(small_lake) == before
    small_lake._remove_key("f" * 24)
    foreign.unlink()
    assert census(small_lake)["api_activity"][0] == before["api_activity"][0] - 2 * copied


def test_the_same_logs_ingested_again_after_compaction_add_nothing(small_lake, pristine_lake):
    compact(small_lake)
    before = census(small_lake)
    again = small_lake.ingest([pristine_lake.parent / "logs"])
    assert {r.status for r in again} == {"duplicate"}
    assert census(small_lake) == before


def _crash_after_exchange(new, live, aside):
    assert lake_compact._exchange(new, live)
    raise SystemExit("killed after the swap")


def _crash_between_renames(new, live, aside):
    live.rename(aside)
    raise SystemExit("killed between the two renames")


def _crash_before_swap(new, live, aside):
    raise SystemExit("killed before the swap")


@pytest.mark.parametrize(
    "crash", [_crash_before_swap, _crash_after_exchange, _crash_between_renames]
)
def test_a_crash_at_any_step_is_repaired_without_losing_or_doubling_rows(
    small_lake, monkeypatch, crash
):
    """SystemExit stands for the process dying: the staging folder is left as a kill
    leaves it, and the next ingest (or compaction) puts the lake right."""
    before = census(small_lake)
    monkeypatch.setattr(lake_compact, "_swap", crash)
    monkeypatch.setattr(lake_compact, "recover", lambda lake: None)  # a kill runs no finally
    with pytest.raises(SystemExit):
        compact(small_lake, tables=["api_activity"])
    assert (small_lake.root / ".compact").exists()
    monkeypatch.undo()

    small_lake.ingest([])  # an ingest of nothing still repairs first
    assert not (small_lake.root / ".compact").exists()
    assert census(small_lake) == before
    compact(small_lake)
    assert census(small_lake) == before


def test_a_failure_while_building_leaves_every_file_as_it_was(small_lake, monkeypatch):
    before, files = census(small_lake), names(small_lake)

    def broken(_):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lake_compact, "_num_rows", broken)
    with pytest.raises(OSError):
        compact(small_lake)
    assert names(small_lake) == files and census(small_lake) == before
    assert not (small_lake.root / ".compact").exists()


def test_without_an_atomic_exchange_it_swaps_by_two_renames(small_lake, monkeypatch):
    before = census(small_lake)
    monkeypatch.setattr(lake_compact, "_exchange", lambda a, b: False)
    compact(small_lake)
    assert census(small_lake) == before
    assert all(len(f) == 1 for f in names(small_lake).values())


def test_the_exchange_swaps_two_folders_in_one_step(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "x").mkdir(parents=True)
    (b / "y").mkdir(parents=True)
    if not lake_compact._exchange(a, b):
        pytest.skip("this file system cannot exchange two paths")
    assert (a / "y").is_dir() and (b / "x").is_dir()


def test_a_reader_sees_the_old_files_or_the_new_never_both(small_lake, tmp_path):
    """DuckDB reading the lake while partitions are swapped back and forth: every count
    it returns is the whole table; a read that listed files just before a swap may fail
    to open one (an error, never a wrong answer)."""
    glob = small_lake.table_glob("api_activity")
    expected = census(small_lake)["api_activity"][0]
    counts, errors, stop = [], [], threading.Event()

    def read():
        con = duckdb.connect()
        while not stop.is_set():
            try:
                counts.append(con.execute(f"SELECT count(*) FROM '{glob}'").fetchall()[0][0])
            except duckdb.IOException as exc:
                errors.append(exc)

    small = {d: tmp_path / "small" / d for d in names(small_lake)}
    for d, copy in small.items():
        shutil.copytree(small_lake.tables_dir / "api_activity" / d, copy)
    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(3):
            compact(small_lake, tables=["api_activity"])
            for d, copy in small.items():  # and back to the small files, atomically too
                back = tmp_path / "back"
                back.mkdir()
                # under names of their own, as every file the lake writes has: a read
                # that listed the files two swaps ago must not open this round's
                for f in copy.iterdir():
                    shutil.copy(f, back / f"{f.stem}-round{n}{f.suffix}")
                lake_compact._swap(back, small_lake.tables_dir / "api_activity" / d, tmp_path / "x")
                shutil.rmtree(back, ignore_errors=True)
                shutil.rmtree(tmp_path / "x", ignore_errors=True)
    finally:
        stop.set()
        reader.join()
    assert counts and set(counts) == {expected}, (set(counts), errors[:3])


def test_ingest_compacts_a_day_once_it_holds_more_than_n_small_files(
    small_lake, monkeypatch, tmp_path
):
    """N = 4, one more file whose S3 reads are all on the first day: that day holds 5
    small files and is compacted, the second keeps its 4."""
    monkeypatch.setenv("CROWNWATCH_COMPACT_AFTER", str(FILES))
    small_lake.ingest([make_logs(tmp_path / "more", start=FILES, count=1, days=DAYS[:1])])
    first, second = names(small_lake).values()
    assert len(first) == 1 and first[0].startswith("compacted-")
    assert len(second) == FILES and not any(f.startswith("compacted-") for f in second)
    compacted = {(p.table, p.day) for p in small_lake.compaction.partitions}
    assert ("api_activity", DAYS[0]) in compacted and ("api_activity", DAYS[1]) not in compacted


def test_the_automatic_threshold_is_read_from_the_environment(monkeypatch):
    monkeypatch.delenv("CROWNWATCH_COMPACT_AFTER", raising=False)
    assert lake_compact.auto_after() == lake_compact.AUTO_AFTER
    monkeypatch.setenv("CROWNWATCH_COMPACT_AFTER", "0")
    assert lake_compact.auto_after() == 0
    monkeypatch.setenv("CROWNWATCH_COMPACT_AFTER", "-1")
    with pytest.raises(ValueError, match="whole number"):
        lake_compact.auto_after()


def _committed_name(lake: Lake) -> str:
    return next(iter(lake.manifest()))[:24] + "_9_0.parquet"


def test_an_older_file_without_a_newer_column_is_compacted_with_it_empty(small_lake):
    """A lake written before a column existed: its files are compacted with the others,
    the column NULL in their rows (the engine reads such files the same way)."""
    day = small_lake.tables_dir / "api_activity" / f"day={DAYS[0]}"
    some = sorted(day.glob("*.parquet"))[0]
    old = day / _committed_name(small_lake)
    duckdb.sql(
        f"COPY (SELECT * EXCLUDE (bucket) FROM read_parquet('{some}', "
        f"hive_partitioning = false)) TO '{old}'"
    )
    query = "SELECT count(*), count(bucket) FROM read_parquet(?, union_by_name = true)"
    before = duckdb.execute(query, [str(day / "*.parquet")]).fetchall()
    compact(small_lake)
    (out,) = day.glob("*.parquet")
    assert "bucket" in pq.ParquetFile(out).schema_arrow.names
    assert duckdb.execute(query, [str(out)]).fetchall() == before


def test_a_column_the_schema_lacks_stops_the_partition_unchanged(small_lake):
    day = small_lake.tables_dir / "api_activity" / f"day={DAYS[0]}"
    some = sorted(day.glob("*.parquet"))[0]
    duckdb.sql(
        f"COPY (SELECT *, 'x' AS from_the_future FROM read_parquet('{some}', "
        "hive_partitioning = false)) "
        f"TO '{day / _committed_name(small_lake)}'"
    )
    files = names(small_lake)
    with pytest.raises(CompactError, match="from_the_future"):
        compact(small_lake, tables=["api_activity"])
    assert names(small_lake) == files
    assert not (small_lake.root / ".compact").exists()


def test_recover_restores_a_day_set_aside_when_its_new_files_never_arrived(small_lake):
    live = small_lake.tables_dir / "api_activity" / f"day={DAYS[1]}"
    aside = small_lake.root / ".compact" / "api_activity" / live.name / "old"
    aside.parent.mkdir(parents=True)
    files = names(small_lake)
    live.rename(aside)
    recover(small_lake)
    assert names(small_lake) == files


def test_the_writer_lock_excludes_other_processes_and_is_re_entrant(tmp_path):
    import fcntl
    import os

    a, b = Lake(tmp_path / "a"), Lake(tmp_path / "b")
    with a.writing(), b.writing(), a.writing():  # per lake, and re-entrant
        fd = os.open(tmp_path / "a" / ".lock", os.O_RDWR)  # what another process opens
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(tmp_path / "a" / ".lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released
    finally:
        os.close(fd)


def test_the_cli_compacts_reports_and_refuses_what_is_not_there(small_lake, tmp_path):
    from typer.testing import CliRunner

    from crownwatch.cli import app

    def run(*args):
        r = CliRunner().invoke(app, ["lake", "compact", *map(str, args)])
        return r.exit_code, r.stdout, r.stderr

    before = census(small_lake)
    code, out, _ = run("--lake", small_lake.root)
    assert code == 0 and census(small_lake) == before
    line = next(ln.split() for ln in out.splitlines() if ln.startswith("api_activity"))
    assert line[1:5] == ["2", "8", "->", "2"]  # days, files before -> after
    code, out, err = run("--lake", small_lake.root, "--format", "json")
    assert code == 0 and json.loads(out)["partitions"] == []
    code, out, err = run("--lake", small_lake.root)
    assert code == 0 and "nothing to compact" in err
    code, _, err = run("--lake", tmp_path / "none")
    assert code == 2 and "no lake at" in err
    code, _, err = run("--lake", small_lake.root, "--table", "nope")
    assert code == 2 and "api_activity" in err
