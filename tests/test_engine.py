"""Engine: a table the lake does not hold is an empty table of the right schema, so a
detection that reads another family's table (crown-jewel access after an identity
finding) runs on any lake."""

from __future__ import annotations

from crownwatch.engine import Engine
from crownwatch.lake import Lake
from crownwatch.tables import SCHEMAS


def test_missing_table_is_empty_with_its_schema(tmp_path):
    eng = Engine(Lake(tmp_path / "lake"))
    t = eng.table("authentication")
    assert list(t.columns) == [f.name for f in SCHEMAS["authentication"]]
    assert eng.execute(t.filter(t.status == "failure")) == []
