"""The demo's configuration is every simulator's part of one organisation's."""

from __future__ import annotations

from crownwatch.demo import merge_configs


def test_parts_merge_lists_join_and_tables_merge():
    storage = {
        "organisation": {"name": "Northwind AI", "own_accounts": ["1111"]},
        "assets": [{"name": "frontier-weights"}],
    }
    network = {
        "organisation": {"name": "Northwind AI", "known_services": ["metrics.example.com"]},
        "assets": [{"name": "training-cluster"}, {"name": "frontier-weights"}],
    }
    merged = merge_configs(storage, network)
    assert merged == {
        "organisation": {
            "name": "Northwind AI",
            "own_accounts": ["1111"],
            "known_services": ["metrics.example.com"],
        },
        "assets": [{"name": "frontier-weights"}, {"name": "training-cluster"}],
    }
    assert storage["organisation"] == {"name": "Northwind AI", "own_accounts": ["1111"]}
