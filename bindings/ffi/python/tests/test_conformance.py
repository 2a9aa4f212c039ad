"""Every scenario in tests/conformance, through the Python API, on the memory and SQLite stores."""

import json

import pytest

import conformance

SCENARIOS = conformance.scenario_files()


def test_scenarios_are_found():
    assert len(SCENARIOS) > 0, "no scenario found in tests/conformance"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_memory(path):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    assert scenario["name"] == path.stem, "a scenario's name is its file name"
    conformance.run(scenario, conformance.open_memory)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_sqlite(path, tmp_path):
    scenario = json.loads(path.read_text(encoding="utf-8"))
    conformance.run(scenario, conformance.sqlite_opener(tmp_path))
