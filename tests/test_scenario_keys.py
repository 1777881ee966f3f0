"""docs/scenarios.md is the reference rendered from the keys the scenario parser accepts, and it names every one."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ldtkit.errors import ConfigError
from ldtkit.study.scenario import Measure, Scenario
from ldtkit.study.scenario_keys import (
    ACTIONS,
    COMPASS,
    DIRECTION_WORDS,
    EXAMPLES,
    MEASURE_KEYS,
    REGENERATE,
    SCENARIO_FILE_KEYS,
    SELECTOR_KEYS,
    SET_KEYS,
    reference_markdown,
)

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenarios.md"


def test_the_committed_reference_is_the_generated_one():
    doc = DOC.read_text(encoding="utf-8")
    assert doc == reference_markdown(), f"docs/scenarios.md is stale: {REGENERATE}"
    assert REGENERATE in doc


def test_every_key_the_parser_accepts_is_documented():
    doc = reference_markdown()
    for action in ACTIONS:
        assert f"| `{action}` |" in doc, action
    for key in (*SELECTOR_KEYS, *SET_KEYS, *(k.name for k in (*MEASURE_KEYS, *SCENARIO_FILE_KEYS))):
        assert f"| `{key}` |" in doc, key
    for word in DIRECTION_WORDS:
        assert f'| `"{word}"` |' in doc, word
    assert "{ from = [lon, lat], to = [lon, lat] }" in doc


def test_the_documented_keys_are_the_ones_the_parser_accepts():
    for action in ACTIONS:
        values = {"lanes": 2} if action == "set" else {}
        assert Measure.from_dict({"action": action, "ids": [1], **values}).action == action
    for word in DIRECTION_WORDS:
        assert Measure.from_dict({"action": "close", "ids": [1], "direction": word}).direction == word
    assert set(COMPASS) < set(DIRECTION_WORDS)
    selectors = {"ids": [1], "street": "A", "bridge": True, "bridge_name": "B", "within": "POINT (3.7 51.0)", "buffer_m": 5,
                 "within_crs": "EPSG:4326", "road_class": "primary"}  # fmt: skip
    assert set(selectors) == set(SELECTOR_KEYS)
    assert Measure.from_dict({"action": "close", **selectors}).select == selectors
    values = dict.fromkeys(SET_KEYS, 2.0)
    assert Measure.from_dict({"action": "set", "ids": [1], **values}).values == values
    with pytest.raises(ConfigError, match="unknown measure keys"):
        Measure.from_dict({"action": "close", "ids": [1], "lane": 2})


@pytest.mark.parametrize(("city", "name"), [(city, name) for city, name, _ in EXAMPLES])
def test_the_examples_are_shipped_scenarios_quoted_whole(city, name):
    path = ROOT / "data" / city / "scenarios" / name
    text = path.read_text(encoding="utf-8").rstrip()
    assert f"```toml\n{text}\n```" in DOC.read_text(encoding="utf-8")
    scenario = Scenario.from_dict(tomllib.loads(text), source=str(path))
    assert scenario.measures
