"""The scenarios of the use-case notebooks, for any city folder: a bridge closure, a pedestrianisation.

``notebooks/bridge_closure.ipynb`` and ``notebooks/pedestrianisation.ipynb`` take a city (a
shipped name or a folder made by ``ldtkit city init``) and a measure named in the city's own
terms: a bridge by its name, streets by their names, or an area. These functions turn that into
scenarios, their labels and the report's heading, or stop with one line that lists what the
city has (its bridges, the closest street names).

Examples
--------
>>> setup = bridge_closure_scenarios("ghent", "Rooigemlaan")
>>> [s.name for s in setup.scenarios]
['bridge-closed-both', 'bridge-closed-southbound', 'bridge-closed-northbound']
>>> setup.title
'Rooigemlaan bridge closure'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ldtkit._validate import closest
from ldtkit.errors import ConfigError, SelectorError
from ldtkit.model.network import CONNECTOR_CLASS, RoadNetwork
from ldtkit.study.city import City, load_city
from ldtkit.study.scenario import Scenario, load_scenarios, parse_geometry, select_links

#: The one-way variants of a bridge closure, per axis, in the order the scenarios are listed.
AXES = (("southbound", "northbound"), ("westbound", "eastbound"))


@dataclass(frozen=True)
class UseCaseSetup:
    """The scenarios of a use case and how the dashboard and the report name them.

    Attributes
    ----------
    scenarios
        The scenarios to compare with the baseline.
    labels
        Scenario name -> title shown in the dashboard and the report.
    default
        The scenario shown first.
    title
        Heading of the dashboard.
    heading
        Markdown that opens the report: ``# City: what is done`` and the question asked.
    """

    scenarios: list[Scenario]
    labels: dict[str, str]
    default: str
    title: str
    heading: str


def city_display_name(city: City) -> str:
    """The city's name as a heading shows it: ``"ghent"`` -> ``"Ghent"``, ``"campo-grande"`` -> ``"Campo Grande"``.

    Examples
    --------
    >>> city_display_name(load_city("ghent"))
    'Ghent'
    """
    return " ".join(w[:1].upper() + w[1:] for w in city.name.replace("_", " ").replace("-", " ").split())


def city_bridges(network: RoadNetwork) -> list[str]:
    """The names of the network's bridges that carry cars, sorted (unnamed bridges are not listed).

    Examples
    --------
    >>> "Rooigemlaan" in city_bridges(load_city("ghent").load_network())
    True
    """
    links = network.links
    car = links["bridge"].to_numpy(bool) & links["car_allowed"].to_numpy(bool) & (links["road_class"] != CONNECTOR_CLASS).to_numpy()
    return sorted({str(n) for n in links.loc[car, "name"].dropna() if str(n).strip()})


def find_bridge(network: RoadNetwork, bridge: str, *, where: str = "bridge") -> str:
    """The name of the city's bridge ``bridge`` designates: the same name in any case, else the one bridge whose name contains it.

    Raises
    ------
    SelectorError
        No bridge (or several) has that name; the message lists the city's bridges.

    Examples
    --------
    >>> net = load_city("ghent").load_network()
    >>> find_bridge(net, "rooigemlaan")
    'Rooigemlaan'
    >>> find_bridge(net, "Atlantis")
    Traceback (most recent call last):
    ldtkit.errors.SelectorError: bridge: no bridge named 'Atlantis' in ghent; the city's 3 bridges: ['Kongostraat', 'Palinghuizen', 'Rooigemlaan']
    """
    names = city_bridges(network)
    wanted = str(bridge).strip().casefold()
    exact = [n for n in names if n.casefold() == wanted]
    if exact:
        return exact[0]
    part = [n for n in names if wanted and wanted in n.casefold()]
    if len(part) == 1:
        return part[0]
    if not names:
        raise SelectorError(f"{where}: no bridge named {bridge!r}: the {network.name} network has no named bridge that carries cars")
    near = part or closest([bridge], names)
    hint = f"did you mean {', '.join(map(repr, near))}? " if near else ""
    raise SelectorError(f"{where}: no bridge named {bridge!r} in {network.name}; {hint}the city's {len(names)} bridges: {names}")


def bridge_variants(network: RoadNetwork, bridge: str) -> list[str]:
    """``"both"``, then each direction the bridge carries along its main axis (south/north or west/east).

    A bridge that runs one way only gets ``["both"]``: closing its one direction is the same measure.

    Examples
    --------
    >>> bridge_variants(load_city("ghent").load_network(), "Rooigemlaan")
    ['both', 'southbound', 'northbound']
    """
    select = {"street": bridge, "bridge": True}
    counts = []
    for axis in AXES:
        found = []
        for word in axis:
            try:
                found.append(len(select_links(network, select, direction=word)))
            except SelectorError:  # the bridge does not run this way
                found.append(0)
        counts.append(found)
    best = int(np.argmax([sum(c) for c in counts]))
    words = [w for w, c in zip(AXES[best], counts[best]) if c]
    return ["both", *words] if len(words) == 2 else ["both"]


def bridge_closure_scenarios(city: City | str | Path, bridge: str, *, variants: Sequence[str] | None = None) -> UseCaseSetup:
    """A bridge of ``city`` closed to motor traffic, one scenario per variant (``"both"`` or a direction).

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City`, a shipped city name or a city folder.
    bridge
        The bridge's name (any case; a unique part of it is enough).
    variants
        Which directions are closed, one scenario each: ``"both"``, a compass word
        (``"northbound"``, ...), ``"forward"`` or ``"backward"``. Default: :func:`bridge_variants`.

    Raises
    ------
    SelectorError
        ``bridge`` is not one of the city's bridges (they are listed), or a variant matches none of its links.

    Examples
    --------
    >>> setup = bridge_closure_scenarios("ghent", "rooigemlaan", variants=["both"])
    >>> setup.labels
    {'bridge-closed-both': 'Rooigemlaan closed both ways'}
    """
    city_cfg = city if isinstance(city, City) else load_city(city)
    network = city_cfg.load_network()
    name = find_bridge(network, bridge, where=f"{city_cfg.root}: bridge")
    chosen = bridge_variants(network, name) if variants is None else [str(v) for v in variants]
    if not chosen:
        raise ConfigError(f"{city_cfg.root}: variants is empty; expected 'both' and/or directions such as 'southbound'")
    scenarios = [
        Scenario.from_dict(
            {
                "name": f"bridge-closed-{v}",
                "description": f"{name} bridge closed to motor traffic ({v})",
                "measures": [{"action": "close", "street": name, "bridge": True, "direction": v}],
            }
        )
        for v in chosen
    ]
    for s in scenarios:  # a direction the bridge does not carry stops here, naming the directions it does
        select_links(network, {"street": name, "bridge": True}, direction=s.measures[0].direction, context=f"{city_cfg.root}: variant")
    labels = {s.name: f"{name} closed " + ("both ways" if v == "both" else v) for s, v in zip(scenarios, chosen)}
    town = city_display_name(city_cfg)
    heading = (
        f"# {town}: closing the {name} bridge\n\n"
        f"What happens to traffic, noise and air quality in {town} when the {name} bridge is closed to cars and lorries"
        + (" — in both directions, or in one direction only?" if len(chosen) > 1 else "?")
    )
    return UseCaseSetup(scenarios, labels, scenarios[0].name, f"{name} bridge closure", heading)


def pedestrianisation_scenarios(
    city: City | str | Path,
    *,
    streets: Sequence[str] | str | None = None,
    polygon: Any = None,
    scenario_files: Sequence[str] | None = None,
    title: str | None = None,
) -> UseCaseSetup:
    """Streets or an area of ``city`` pedestrianised, or the scenarios in the city's ``scenarios/`` folder.

    Parameters
    ----------
    city
        A :class:`~ldtkit.study.city.City`, a shipped city name or a city folder.
    streets
        Street names (any case) pedestrianised together in one scenario.
    polygon
        An area whose streets are pedestrianised: WKT or a GeoJSON geometry, in lon/lat (WGS84).
    scenario_files
        Files in ``<city>/scenarios/``, used when neither ``streets`` nor ``polygon`` is given
        (default: every file there).
    title
        Heading of the dashboard (default: from the measure, or the words the scenarios'
        descriptions start with).

    Raises
    ------
    SelectorError
        A street is not in the city (the closest names are suggested), or the polygon holds no street.
    ConfigError
        Both ``scenario_files`` and ``streets``/``polygon`` are given, or the city has no scenario file.

    Examples
    --------
    >>> setup = pedestrianisation_scenarios("athens")
    >>> [s.name for s in setup.scenarios], setup.title
    (['great-walk', 'great-walk-wider'], 'Great Walk pedestrianisation')
    """
    city_cfg = city if isinstance(city, City) else load_city(city)
    town = city_display_name(city_cfg)
    street_list = [streets] if isinstance(streets, str) else list(streets or [])
    if street_list or polygon is not None:
        if scenario_files:
            raise ConfigError(
                f"{city_cfg.root}: give streets/polygon or scenario_files, not both (scenario_files = {list(scenario_files)})"
            )
        measures: list[dict[str, Any]] = []
        if street_list:
            measures.append({"action": "pedestrianise", "street": street_list})
        if polygon is not None:
            parse_geometry(polygon, context=f"{city_cfg.root}: polygon")  # a bad geometry stops before the network loads
            measures.append({"action": "pedestrianise", "within": polygon})
        what = " and ".join(filter(None, [", ".join(street_list), "the area given" if polygon is not None else ""]))
        scenario = Scenario.from_dict({"name": "pedestrianised", "description": f"{what} pedestrianised", "measures": measures})
        network = city_cfg.load_network()
        for i, m in enumerate(scenario.measures):  # an unknown street or an empty area stops here, in one line
            select_links(
                network, m.select, direction=m.direction, context=f"{city_cfg.root}: {['streets', 'polygon'][i if street_list else 1]}"
            )
        scenarios = [scenario]
        label = f"{what[:1].upper()}{what[1:]} pedestrianised"
        labels = {scenario.name: label}
        title = title or label
        head = f"pedestrianising {what}"
    else:
        folder = city_cfg.root / "scenarios"
        paths = [folder / f for f in scenario_files] if scenario_files else sorted(folder.glob("*.toml"))
        if not paths:
            raise ConfigError(f"{folder}: no scenario file; give streets or a polygon to pedestrianise")
        scenarios = load_scenarios(list(paths))
        labels = {s.name: s.name.replace("-", " ").capitalize() for s in scenarios}
        shared = _shared_start([s.description for s in scenarios])
        if title is None and not shared and len(scenarios) == 1:
            title = scenarios[0].description or labels[scenarios[0].name]
            head = title[:1].lower() + title[1:]
        else:
            title = title or f"{shared or town} pedestrianisation"
            head = f"the {title}"
    lines = [f"# {town}: {head}", ""]
    lines += [f"- **{labels[s.name]}**: {s.description}" for s in scenarios if s.description]
    lines += ["", f"Where does the traffic go, and what changes for noise and NO2 in {town}?"]
    return UseCaseSetup(scenarios, labels, scenarios[0].name, title, "\n".join(lines))


def models_note(city: City | str | Path) -> str:
    """The closing note of a use-case report: the models and where the city's road network comes from.

    Examples
    --------
    >>> models_note("porto")  # doctest: +ELLIPSIS
    "*Models*: static user-equilibrium traffic assignment on Porto's road network (OpenStreetMap extract porto.osm.pbf, ..."
    """
    city_cfg = city if isinstance(city, City) else load_city(city)
    net = city_cfg.network_config()
    source = {
        "osm": f"OpenStreetMap extract {net.path}, © OpenStreetMap contributors, ODbL 1.0",
        "segments": f"road segments from {net.path}",
        "shapefiles": f"links from {net.links}",
        "tntp": f"TNTP network {net.path}",
    }[net.source]
    return (
        f"*Models*: static user-equilibrium traffic assignment on {city_display_name(city_cfg)}'s road network ({source}), "
        "CNOSSOS-EU road noise (Lden at 4 m) and traffic NO2 (EMEP/EEA emission factors, line-source dispersion, "
        "background added). Figures are model estimates for comparing scenarios, not measurements."
    )


def _shared_start(texts: Sequence[str]) -> str:
    """The words every text starts with (at least two texts), e.g. ``"Great Walk"``."""
    if len(texts) < 2:
        return ""
    words = [t.split() for t in texts]
    shared = []
    for group in zip(*words):
        if len({w.casefold() for w in group}) > 1 or not group[0][:1].isalnum():
            break
        shared.append(group[0])
    return " ".join(shared).rstrip(":,;(")


__all__ = [
    "UseCaseSetup",
    "bridge_closure_scenarios",
    "bridge_variants",
    "city_bridges",
    "city_display_name",
    "find_bridge",
    "models_note",
    "pedestrianisation_scenarios",
]
