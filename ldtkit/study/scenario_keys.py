"""The keys of a scenario file, what each does, and their reference for people (``docs/scenarios.md``).

One home for every key a scenario file may hold: :mod:`ldtkit.study.scenario` reads and applies
scenarios with these names, and :func:`reference_markdown` renders them, with a shipped scenario
file as the example, as ``docs/scenarios.md``, regenerated with::

    python -m ldtkit.study.scenario_keys > docs/scenarios.md

Examples
--------
>>> ACTIONS
('close', 'pedestrianise', 'bar_heavy', 'set')
>>> PICKING_KEYS
('ids', 'street', 'bridge', 'bridge_name', 'within', 'road_class')
>>> print(reference_markdown().splitlines()[0])
# Scenario files
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from ldtkit.resources import shipped_cities_dir


@dataclass(frozen=True)
class ScenarioKey:
    """A key of a scenario file and its meaning, for people.

    Attributes
    ----------
    name
        The key as written in the file.
    value
        What it holds (``"string or list of strings"``).
    meaning
        What it does (Markdown).
    unit
        Unit of a number, empty when it has none.
    qualifies
        The selector this key only qualifies (``buffer_m`` and ``within_crs`` go with
        ``within``); empty for a key that picks links on its own.
    """

    name: str
    value: str
    meaning: str
    unit: str = ""
    qualifies: str = ""


#: The top-level keys of a scenario file.
SCENARIO_FILE_KEYS: tuple[ScenarioKey, ...] = (
    ScenarioKey(
        "name",
        "string",
        "**Required.** The scenario's name: it labels results, columns and maps, and is unique among the scenarios of a run.",
    ),
    ScenarioKey("description", "string", "One sentence for people, shown in reports and dashboards."),
    ScenarioKey(
        "measures", "list of tables (`[[measures]]`)", "The measures, applied in file order (without any, the scenario is the baseline)."
    ),
)

#: Each action and what it changes on the links its selector picks.
ACTION_EFFECTS: dict[str, str] = {
    "close": (
        "Cars and heavy vehicles are barred (`car_allowed` and `hgv_allowed` false). The links stay in the network "
        "with their ids and carry no traffic: the baseline's trips (the demand is not changed) reroute around them. "
        "A zone connector left on a closed street moves to the nearest open road within "
        "`[demand.connectors] reattach_max_walk_m` of the zone; the trips of a zone with no open road in reach "
        "go unassigned and are reported."
    ),
    "pedestrianise": (
        "What `close` does, and the links are marked as walkable (`walk_allowed` true). The traffic, noise and air "
        'models treat it as `close`; maps and reports name the measure "pedestrianised".'
    ),
    "bar_heavy": "Heavy vehicles are barred (`hgv_allowed` false); cars keep using the links. The heavy traffic reroutes.",
    "set": (
        "Edits the links' capacity, lanes or free-flow speed with the value keys below (at least one); the "
        "traffic reroutes to the new travel times."
    ),
}
ACTIONS = tuple(ACTION_EFFECTS)

#: The selector keys of a measure: which links it touches (combined with AND; zone connectors never match).
SELECTORS: tuple[ScenarioKey, ...] = (
    ScenarioKey(
        "ids", "list of integers",
        "The links with these ids (the `link_id` column of the `links.gpkg` that `ldtkit run` writes). "
        "An unknown id is an error naming the nearest existing ones.",
    ),
    ScenarioKey(
        "street", "string or list of strings",
        "The links carrying one of these street names (whole name, any case). A name the network does not "
        "have is an error listing the closest names it has.",
    ),
    ScenarioKey("bridge", "boolean", "`true`: only links on a bridge; `false`: only links not on a bridge."),
    ScenarioKey(
        "bridge_name", "string",
        "The bridge links carrying this name (any case); an unknown name is an error listing the network's bridges.",
    ),
    ScenarioKey(
        "within", "string (WKT) or table (GeoJSON geometry)",
        "The links that touch this geometry: a point, line or polygon as WKT text "
        '(`"LINESTRING (23.7352 37.9757, 23.7285 37.9835)"`) or a GeoJSON geometry table '
        '(`{ type = "Point", coordinates = [3.72, 51.05] }`), in `within_crs`. A geometry that touches no '
        "link is an error giving its distance from the network, and asking whether latitude and longitude "
        "were swapped when swapping them would put it inside.",
    ),
    ScenarioKey(
        "buffer_m", "number", "Widen `within` by this distance, measured in the city's CRS (default `0`: the geometry itself).",
        unit="m", qualifies="within",
    ),
    ScenarioKey(
        "within_crs", "string",
        'The coordinate reference system of `within` (default `"EPSG:4326"`: longitude, latitude in degrees); '
        "any CRS pyproj knows, e.g. the city's `crs`.",
        qualifies="within",
    ),
    ScenarioKey(
        "road_class", "string or list of strings",
        "The links of these road classes, as the network names them: the OpenStreetMap `highway` value "
        '(`"primary"`, `"residential"`) for an OSM network, the value of the mapped road-class column '
        '(`"unknown"` where it is empty) for a segment file, `"tntp"` for a TNTP network. Exact text.',
    ),
)  # fmt: skip
SELECTOR_KEYS = tuple(k.name for k in SELECTORS)
#: Selector keys that pick links on their own (a measure needs one of them).
PICKING_KEYS = tuple(k.name for k in SELECTORS if not k.qualifies)

#: The compass direction words and their bearings (degrees clockwise from grid north).
COMPASS = {"northbound": 0.0, "eastbound": 90.0, "southbound": 180.0, "westbound": 270.0}
#: A link runs in a compass direction when its bearing is within this many degrees of it.
COMPASS_TOLERANCE_DEG = 60.0
#: The words ``direction`` accepts and the selected links each keeps.
DIRECTION_WORDS: dict[str, str] = {
    "both": "Every selected link, whichever way it runs (the default).",
    "forward": "The links that run along the source geometry's digitisation (the way the segment or OpenStreetMap way is drawn).",
    "backward": "The links that run against it.",
    **{
        word: f"The links whose bearing is within {COMPASS_TOLERANCE_DEG:g} degrees of {bearing:g}° (heading {word[:-5]})."
        for word, bearing in COMPASS.items()
    },
}
#: What ``direction`` keeps when it is a pair of places instead of a word.
DIRECTION_PLACES = (
    "`{ from = [lon, lat], to = [lon, lat] }` (WGS84 degrees): the links that run from the first place towards "
    "the second (their direction of travel makes an angle under 90° with the line between the places)."
)
#: The keys of a measure besides its selectors and values.
MEASURE_KEYS: tuple[ScenarioKey, ...] = (
    ScenarioKey("action", "string", "**Required.** What the measure does: " + ", ".join(f"`{a}`" for a in ACTION_EFFECTS) + "."),
    ScenarioKey("direction", "string or table", 'Which way of the selected links the measure touches (default `"both"`).'),
)

#: The value keys of a ``set`` measure.
SET_VALUES: tuple[ScenarioKey, ...] = (
    ScenarioKey(
        "capacity_vph", "number",
        "The links' capacity (one direction of travel, all lanes), replacing theirs. Must stay > 0.", unit="veh/h",
    ),
    ScenarioKey(
        "capacity_factor", "number",
        "Multiplies the capacity, after `lanes` and `capacity_vph` (`0.5` halves it). The capacity must stay > 0.",
    ),
    ScenarioKey(
        "lanes", "number",
        "Lanes per direction (> 0; use `close` to close a link). Without `capacity_vph` the capacity scales with "
        "the lanes: new lanes ÷ old lanes (an old count under 1 taken as 1).",
        unit="lanes",
    ),
    ScenarioKey(
        "free_speed_kmh", "number",
        "The free-flow speed (> 0); the free-flow time becomes length ÷ speed. The congested speeds of the "
        "assignment, which the noise and air emissions use, follow.",
        unit="km/h",
    ),
)  # fmt: skip
SET_KEYS = tuple(k.name for k in SET_VALUES)


# ---------------------------------------------------------------- the reference: docs/scenarios.md
REGENERATE = "python -m ldtkit.study.scenario_keys > docs/scenarios.md"

#: The shipped scenario files quoted as examples (city, file in its ``scenarios/`` folder) and what each shows.
EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("ghent", "02_bridge_closed_southbound.toml", "A bridge closed in one direction, picked by street name, `bridge` and a compass word:"),
    (
        "athens",
        "02_great_walk_wider.toml",
        "Four measures on a network without street names, picked by geometry (`within`, in longitude and latitude) "
        "with `buffer_m` and `road_class`:",
    ),
)

_INTRO = f"""\
# Scenario files

<!-- Generated from ldtkit/study/scenario_keys.py; do not edit by hand. Regenerate with:
     {REGENERATE}
     (tests/test_scenario_keys.py checks that this file equals the generated text.) -->

A scenario is one TOML file: a name, a description and a list of measures. `ldtkit run` runs
the baseline and every `*.toml` in the city's `scenarios/` folder (or the files given with
`--scenario`); in Python, `ldtkit.load_scenarios(folder)` reads them.

Each measure is one `[[measures]]` table: an `action`, a selector that picks the links it
changes, optionally a `direction`, and for `set` the values to set. Measures change the road
network only: the demand (the trips between zones) stays the baseline's, and traffic, noise and
air are computed again on the changed network. Link ids stay those of the baseline.

A scenario file is checked when it is read: an unknown key (with the closest valid one), an
unknown action or direction word, a `within` that is not a geometry, a `buffer_m` or `set` value
that is not a number, a `bridge` that is not `true` or `false`, `ids` that are not integers, and
`set` values in a measure of another action. A selector that matches no link is an error when the scenario is applied,
naming the closest street names, link ids or bridges, so that a typo never yields a scenario
that changes nothing.
"""


def reference_markdown() -> str:
    """The whole ``docs/scenarios.md``: the examples, then one table per kind of key."""
    parts = [_INTRO, _examples_markdown()]
    parts.append(_keys_markdown("## The file", "The top level of a scenario file.", SCENARIO_FILE_KEYS))
    parts.append(_keys_markdown("## A measure", "The keys of each `[[measures]]` table besides its selector and values.", MEASURE_KEYS))
    rows = [f"| `{action}` | {_cell(effect)} |" for action, effect in ACTION_EFFECTS.items()]
    parts.append("## Actions\n\n| `action` | what it changes on the selected links |\n|---|---|\n" + "\n".join(rows) + "\n")
    parts.append(
        _keys_markdown(
            "## Selectors",
            "Which links a measure changes. Selectors combine with AND; a measure needs at least one of "
            + ", ".join(f"`{k}`" for k in PICKING_KEYS)
            + ". Zone connectors never match.",
            SELECTORS,
        )
    )
    parts.append(_directions_markdown())
    parts.append(
        _keys_markdown(
            "## Values of `set`", "A `set` measure gives at least one of these; with any other action they are an error.", SET_VALUES
        )
    )
    return "\n".join(parts)


def _examples_markdown() -> str:
    out = ["## Examples\n"]
    for city, name, what in EXAMPLES:
        text = (shipped_cities_dir() / city / "scenarios" / name).read_text(encoding="utf-8")
        out.append(f"{what} `data/{city}/scenarios/{name}`\n\n```toml\n{text.rstrip()}\n```\n")
    return "\n".join(out)


def _keys_markdown(heading: str, intro: str, keys: tuple[ScenarioKey, ...]) -> str:
    rows = ["| key | value | unit | meaning |", "|---|---|---|---|"]
    for k in keys:
        meaning = f"{k.meaning} *(with `{k.qualifies}`)*" if k.qualifies else k.meaning
        rows.append(f"| `{k.name}` | {_cell(k.value)} | {k.unit} | {_cell(meaning)} |")
    return f"{heading}\n\n{intro}\n\n" + "\n".join(rows) + "\n"


def _directions_markdown() -> str:
    rows = ["| `direction` | the selected links it keeps |", "|---|---|"]
    rows += [f'| `"{word}"` | {_cell(meaning)} |' for word, meaning in DIRECTION_WORDS.items()]
    rows.append(f"| a table | {_cell(DIRECTION_PLACES)} |")
    return (
        "## Directions\n\n"
        "`direction` keeps the selected links that run one way (a two-way street is two links, one per "
        "direction of travel). Bearings are measured in the city's CRS, its grid north taken as north. "
        "A compass word is an error, listing the directions the selected links run, when none of them is "
        "nearer to it than to another compass word; a direction that keeps none of the selected links is an error too.\n\n"
        + "\n".join(rows)
        + "\n"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


if __name__ == "__main__":
    sys.stdout.write(reference_markdown())
