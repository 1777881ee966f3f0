"""Loader for the TNTP research benchmark format (Transportation Networks for Research).

The networks in this format (SiouxFalls, Anaheim, Chicago-Sketch, ...) come from the
TransportationNetworks repository, https://github.com/bstabler/TransportationNetworks; they
are not shipped with ldtkit. ``ldtkit assign --tntp DIR`` takes one of its folders.

A TNTP folder holds ``*_net.tntp`` (links), ``*_trips.tntp`` (OD demand), optionally
``*_node.tntp`` (coordinates) and ``*_flow.tntp`` (best-known equilibrium flows and
costs), and a ``README.md`` that states units and generalized-cost weights.

The parsers here use numpy only (no pandas, no geopandas) so that ``ldtkit assign
--tntp`` starts fast; :func:`network_from_tntp`, :func:`demand_from_tntp` and
:func:`flows_from_tntp` build the toolkit's data classes on top of them.

Conventions
-----------
- Zones are nodes ``1..NUMBER OF ZONES`` (``is_zone``).
- The first-through-node rule: nodes below ``FIRST THRU NODE`` cannot be passed
  through. If ``FIRST THRU NODE`` is 1 (or less), through traffic is allowed
  everywhere and the network gets ``zone_through=True``; otherwise
  ``zone_through=False`` (the zones are exactly the nodes below the first through node).
- Lengths: the raw TNTP length is kept in ``length_raw`` and ``meta["length_unit"]``.
  ``length_m`` is converted when the unit is known from the header or README
  (feet × 0.3048, miles × 1609.344, km × 1000); otherwise it is the raw value unchanged
  (``meta["length_unit"] = "unknown"``).
- Generalized cost: ``cost_fixed_min = toll_weight × toll + distance_weight × length_raw``
  (minutes), with weights from the README's "Generalized Cost Weights" unless given.
  :func:`ldtkit.model.assignment.assign` adds it to the congested travel time (Chicago-Sketch's
  best-known flows use 0.02 min/cent and 0.04 min/mile).
- Coordinates from ``*_node.tntp`` are kept as given, without a CRS (they are in
  different nominal systems: state-plane feet, degrees, arbitrary units).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InputFileNotFoundError, InvalidValueError, UnreadableFormatError, require_file

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ldtkit.model.demand.matrices import Demand
    from ldtkit.model.road_network import RoadNetwork

#: The column order of a TNTP ``_net`` file: columns are read by position (files label them
#: differently, e.g. ``~ Init node Term node ...`` or ``~ Tail Head Capacity Length FFT ...``);
#: columns after the tenth are kept as ``column_11``, ``column_12``, ...
NET_COLUMNS = ("init_node", "term_node", "capacity", "length", "free_flow_time", "b", "power", "speed", "toll", "link_type")
#: A link row needs at least the columns up to the free-flow time.
MIN_NET_COLUMNS = 5

_UNIT_TO_M = {
    "ft": 0.3048,
    "feet": 0.3048,
    "foot": 0.3048,
    "mi": 1609.344,
    "mile": 1609.344,
    "miles": 1609.344,
    "km": 1000.0,
    "m": 1.0,
    "meters": 1.0,
    "metres": 1.0,
}


@dataclass
class TntpNet:
    """The raw content of a ``_net.tntp`` file as numpy arrays (one entry per link row)."""

    path: Path
    n_zones: int
    n_nodes: int
    first_thru_node: int
    columns: dict[str, np.ndarray]
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def n_links(self) -> int:
        return len(self.columns["init_node"])


# --------------------------------------------------------------------------- paths
def find_tntp_file(path: str | Path, kind: str) -> Path:
    """The ``*_<kind>.tntp`` file of a TNTP folder (or the file itself, or its sibling).

    Examples
    --------
    >>> find_tntp_file("TransportationNetworks/SiouxFalls", "net").name  # doctest: +SKIP
    'SiouxFalls_net.tntp'
    """
    p = Path(path)
    if p.is_file():
        if p.name.lower().endswith(f"_{kind}.tntp"):
            return p
        folder = p.parent
        stem = re.sub(r"_(net|trips|node|flow)\.tntp$", "", p.name, flags=re.I)
        cand = folder / f"{stem}_{kind}.tntp"
        if cand.exists():
            return cand
    elif p.is_dir():
        folder = p
    else:
        raise InputFileNotFoundError(p, what="TNTP folder or file")
    hits = sorted(f for f in folder.iterdir() if f.name.lower().endswith(f"_{kind}.tntp"))
    if not hits:
        raise InputFileNotFoundError(folder / f"*_{kind}.tntp", what=f"TNTP {kind} file")
    return hits[0]


def _split_metadata(text: str, path: Path, *, required: bool = False) -> tuple[dict[str, str], str]:
    """``(metadata, body)``: the ``<KEY> value`` lines up to ``<END OF METADATA>``, and the rest.

    Without ``<END OF METADATA>`` the text is all body, unless it holds metadata or ``required``.
    """
    meta: dict[str, str] = {}
    pos = 0
    for m in re.finditer(r"<([^>]+)>([^\n]*)", text):
        key = m.group(1).strip().upper()
        if key == "END OF METADATA":
            return meta, text[m.end() :]
        meta[key] = m.group(2).strip()
        pos = m.end()
    if meta or required:
        raise UnreadableFormatError(path, expected="TNTP", detail="no <END OF METADATA> line")
    return meta, text[pos:]


def _meta_int(meta: dict[str, str], key: str, path: Path, default: int | None = None) -> int:
    if key not in meta:
        if default is not None:
            return default
        raise UnreadableFormatError(path, expected="TNTP", detail=f"metadata <{key}> missing")
    try:
        return int(float(meta[key].split()[0]))
    except (ValueError, IndexError) as exc:
        raise UnreadableFormatError(path, expected="TNTP", detail=f"metadata <{key}> = {meta[key]!r} is not a number") from exc


# --------------------------------------------------------------------------- parsers
def read_net(path: str | Path) -> TntpNet:
    """Parse a ``_net.tntp`` file (or the one in a TNTP folder) into numpy arrays.

    Examples
    --------
    >>> net = read_net("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> net.n_links, net.first_thru_node  # doctest: +SKIP
    (76, 1)
    """
    f = find_tntp_file(path, "net")
    text = f.read_text(errors="replace")
    meta, body = _split_metadata(text, f)
    rows: list[str] = []
    for line in body.splitlines():
        s = line.strip()
        if not s or s.startswith("~"):  # a "~" line is a comment; its column labels vary between files
            continue
        rows.append(s.replace(";", " "))
    if not rows:
        raise UnreadableFormatError(f, expected="TNTP network", detail="no link rows")
    first = rows[0].split()
    ncol = len(first)
    try:
        vals = np.array(" ".join(rows).split(), dtype=np.float64)
    except ValueError as exc:
        raise UnreadableFormatError(f, expected="TNTP network", detail=f"non-numeric value in link rows ({exc})") from exc
    if vals.size % ncol:
        raise UnreadableFormatError(f, expected="TNTP network", detail=f"link rows do not all have {ncol} values (first row: {rows[0]!r})")
    vals = vals.reshape(-1, ncol)
    if ncol < MIN_NET_COLUMNS:
        raise UnreadableFormatError(
            f,
            expected="TNTP network",
            detail=f"link rows have {ncol} values; need at least {MIN_NET_COLUMNS} ({', '.join(NET_COLUMNS[:MIN_NET_COLUMNS])})",
        )
    # the format defines the columns by position, whatever the "~" header line calls them
    names = list(NET_COLUMNS[:ncol]) + [f"column_{i + 1}" for i in range(len(NET_COLUMNS), ncol)]
    cols = {name: vals[:, i].copy() for i, name in enumerate(names)}
    n = vals.shape[0]
    for opt, default in (("length", 0.0), ("b", 0.15), ("power", 4.0), ("speed", 0.0), ("toll", 0.0), ("link_type", 0.0)):
        cols.setdefault(opt, np.full(n, default))
    cols["init_node"] = cols["init_node"].astype(np.int64)
    cols["term_node"] = cols["term_node"].astype(np.int64)
    cols["link_type"] = cols["link_type"].astype(np.int64)
    n_links = _meta_int(meta, "NUMBER OF LINKS", f, default=n)
    if n_links != n:
        raise UnreadableFormatError(f, expected="TNTP network", detail=f"<NUMBER OF LINKS> says {n_links} but {n} link rows were read")
    for name in ("capacity", "length", "free_flow_time", "b", "power"):
        try:
            finite_nonnegative(cols[name], name=f"field {name!r}", where=str(f))
        except InvalidValueError:
            # name the links by their nodes: the labels cost more than the check, so they are built only now
            labels = np.char.add(np.char.add(cols["init_node"].astype(str), "->"), cols["term_node"].astype(str))
            finite_nonnegative(cols[name], name=f"field {name!r} (link init_node->term_node)", where=str(f), ids=labels)
            raise
    return TntpNet(
        path=f,
        n_zones=_meta_int(meta, "NUMBER OF ZONES", f),
        n_nodes=_meta_int(meta, "NUMBER OF NODES", f, default=int(max(cols["init_node"].max(), cols["term_node"].max()))),
        first_thru_node=_meta_int(meta, "FIRST THRU NODE", f, default=1),
        columns=cols,
        metadata=meta,
    )


@dataclass(frozen=True)
class TntpTrips:
    """The content of a ``_trips.tntp`` file: an OD matrix over the zones (trips per hour)."""

    path: Path
    zone_ids: npt.NDArray[np.int64]  # row/column i of the matrix is zone zone_ids[i]
    matrix: npt.NDArray[np.float64]
    metadata: dict[str, str] = field(default_factory=dict)


#: One ``destination : trips;`` cell of a trips file (the ``;`` is optional in some files).
_TRIPS_CELL = re.compile(r"(-?\d+)\s*:\s*([^;:\s]+)\s*;?")
_TRIPS_ORIGIN = re.compile(r"^\s*Origin\s+", flags=re.M | re.I)
#: TNTP comments run from ``~`` to the end of the line.
_COMMENT = re.compile(r"~[^\n]*")


def read_trips_file(path: str | Path, *, zone_ids: Sequence[int] | npt.NDArray[np.int64] | None = None) -> TntpTrips:
    """Parse exactly the TNTP trips file ``path`` (any name) into an OD matrix.

    This is the one TNTP trips parser: :func:`read_trips` (a TNTP folder or file) and
    :func:`ldtkit.model.demand.read_tntp_trips` (a :class:`~ldtkit.model.demand.Demand`) use it.

    Parameters
    ----------
    path
        A trips file: metadata (``<NUMBER OF ZONES>``, ``<END OF METADATA>``), then ``Origin o``
        blocks of ``destination : trips;`` cells.
    zone_ids
        The zone ids the file numbers its zones by, one per zone; default ``1..<NUMBER OF ZONES>``.

    Returns
    -------
    TntpTrips
        ``matrix[i, j]`` holds the trips from zone ``zone_ids[i]`` to zone ``zone_ids[j]``
        (cells given twice add up); ``metadata`` the header values as strings.

    Raises
    ------
    UnreadableFormatError
        Not TNTP trips syntax (the message names the file, and the origin where it can).
    InvalidValueError
        A zone outside the zones, or NaN or negative trips (the message names the OD pair).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "toy_trips.tntp"
    >>> _ = f.write_text("<NUMBER OF ZONES> 2\\n<END OF METADATA>\\nOrigin 1\\n  2 : 5.0;\\nOrigin 2\\n  1 : 3.0;\\n")
    >>> read_trips_file(f).matrix.tolist()
    [[0.0, 5.0], [3.0, 0.0]]
    >>> read_trips_file(f, zone_ids=[2, 1]).matrix.tolist()  # row 0 is zone 2
    [[0.0, 3.0], [5.0, 0.0]]
    >>> read_trips_file(f, zone_ids=[10, 20])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ldtkit.errors.InvalidValueError: ...toy_trips.tntp: origin 1 names a zone outside the 2 given zone ids
    """
    f = require_file(path, what="TNTP trips file")
    text = _COMMENT.sub("", f.read_text(errors="replace"))
    meta, body = _split_metadata(text, f, required=True)
    nz = _meta_int(meta, "NUMBER OF ZONES", f)
    ids = np.arange(1, nz + 1, dtype=np.int64) if zone_ids is None else np.asarray(zone_ids, dtype=np.int64)
    if len(ids) != nz:
        raise InvalidValueError(f"{f}: <NUMBER OF ZONES> is {nz} but {len(ids)} zone ids were given")
    zones_text = f"1..{nz}" if zone_ids is None else f"the {nz} given zone ids"
    blocks = _TRIPS_ORIGIN.split(body)
    if blocks[0].strip():
        raise UnreadableFormatError(
            f, expected="TNTP trips", detail=f"unexpected text before the first 'Origin': {blocks[0].strip()[:40]!r}"
        )
    origins = np.zeros(len(blocks) - 1, dtype=np.int64)
    n_cells = np.zeros(len(blocks) - 1, dtype=np.int64)
    for k, block in enumerate(blocks[1:]):
        origin, _, cells = block.partition("\n")
        head, tail = (origin.split(maxsplit=1) + ["", ""])[:2]
        try:
            origins[k] = int(head)
        except ValueError as exc:
            raise UnreadableFormatError(f, expected="TNTP trips", detail=f"bad origin line {origin.strip()[:40]!r}") from exc
        cells = tail + "\n" + cells
        leftover = _TRIPS_CELL.sub("", cells).strip()
        if leftover:
            raise UnreadableFormatError(f, expected="TNTP trips", detail=f"origin {origins[k]}: cannot parse {leftover[:40]!r}")
        n_cells[k] = cells.count(":")  # one ':' per cell, as the cell pattern allows no other
        blocks[k + 1] = cells
    try:
        values = np.array(" ".join(blocks[1:]).replace(":", " ").replace(";", " ").split(), dtype=np.float64).reshape(-1, 2)
    except ValueError as exc:
        raise UnreadableFormatError(f, expected="TNTP trips", detail=f"non-numeric trips ({exc})") from exc
    orig = np.repeat(origins, n_cells)
    dest = values[:, 0].astype(np.int64)
    trips = values[:, 1]
    sorter = np.argsort(ids, kind="stable")
    sorted_ids = ids[sorter]
    for what, ends in (("origin", origins), ("destination", dest)):
        at = np.minimum(np.searchsorted(sorted_ids, ends), nz - 1) if nz else np.zeros(len(ends), dtype=np.int64)
        unknown = np.flatnonzero(sorted_ids[at] != ends) if nz else np.arange(len(ends))
        if len(unknown):
            k = int(unknown[0])
            pair = f"origin {ends[k]}" if what == "origin" else f"OD pair {orig[k]} -> {dest[k]}"
            raise InvalidValueError(f"{f}: {pair} names a zone outside {zones_text}")
    try:
        finite_nonnegative(trips, name="trips", where=str(f))
    except InvalidValueError:
        # name the OD pairs: their labels cost more than the check, so they are built only now
        labels = np.char.add(np.char.add(orig.astype(str), " -> "), dest.astype(str))
        finite_nonnegative(trips, name="trips (origin -> destination zone)", where=str(f), ids=labels)
        raise
    m = np.zeros((nz, nz), dtype=np.float64)
    np.add.at(m, (sorter[np.searchsorted(sorted_ids, orig)], sorter[np.searchsorted(sorted_ids, dest)]), trips)
    return TntpTrips(path=f, zone_ids=ids, matrix=m, metadata=meta)


def read_trips(path: str | Path) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], dict[str, str]]:
    """Parse the ``_trips.tntp`` file of a TNTP folder (or the file itself, or its sibling).

    Returns ``(zone_ids, matrix, metadata)``: ``zone_ids`` is ``1..NUMBER OF ZONES`` and
    ``matrix[i, j]`` the trips from zone ``i+1`` to zone ``j+1`` (see :func:`read_trips_file`).

    Examples
    --------
    >>> zones, m, meta = read_trips("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> m.sum()  # doctest: +SKIP
    360600.0
    """
    t = read_trips_file(find_tntp_file(path, "trips"))
    return t.zone_ids, t.matrix, t.metadata


def _read_table(f: Path, what: str) -> tuple[list[str], np.ndarray]:
    lines = [ln.replace(";", " ").strip() for ln in f.read_text(errors="replace").splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("~") and not ln.startswith("<")]
    if not lines:
        raise UnreadableFormatError(f, expected=what, detail="empty")
    header = [h.lower() for h in lines[0].split()]
    try:
        vals = np.array(" ".join(lines[1:]).split(), dtype=np.float64)
        vals = vals.reshape(-1, len(header))
    except ValueError as exc:
        raise UnreadableFormatError(f, expected=what, detail=f"expected {len(header)} numbers per row ({exc})") from exc
    return header, vals


def read_flows(path: str | Path) -> dict[str, np.ndarray]:
    """Parse a ``_flow.tntp`` file: ``init_node``, ``term_node``, ``flow``, ``cost`` arrays (file order)."""
    f = find_tntp_file(path, "flow")
    header, vals = _read_table(f, "TNTP flow table (From To Volume Cost)")
    if vals.shape[1] < 4:
        raise UnreadableFormatError(f, expected="TNTP flow table", detail=f"need 4 columns From To Volume Cost, got {header}")
    return {
        "init_node": vals[:, 0].astype(np.int64),
        "term_node": vals[:, 1].astype(np.int64),
        "flow": vals[:, 2].copy(),
        "cost": vals[:, 3].copy(),
    }


def read_nodes(path: str | Path) -> dict[str, np.ndarray] | None:
    """Parse a ``_node.tntp`` file into ``node_id``, ``x``, ``y`` arrays, or ``None`` if there is none."""
    try:
        f = find_tntp_file(path, "node")
    except InputFileNotFoundError:
        return None
    _, vals = _read_table(f, "TNTP node table (Node X Y)")
    return {"node_id": vals[:, 0].astype(np.int64), "x": vals[:, 1].copy(), "y": vals[:, 2].copy()}


def readme_cost_weights(path: str | Path) -> dict[str, Any]:
    """Generalized-cost weights and units stated in a TNTP folder's ``README.md``.

    Returns ``{"toll_weight": float, "distance_weight": float, "length_unit": str}``
    (weights 0 and unit ``"unknown"`` where the README says nothing).

    Examples
    --------
    >>> readme_cost_weights("TransportationNetworks/Chicago-Sketch")  # doctest: +SKIP
    {'toll_weight': 0.02, 'distance_weight': 0.04, 'length_unit': 'miles'}
    """
    p = Path(path)
    folder = p if p.is_dir() else p.parent
    out: dict[str, Any] = {"toll_weight": 0.0, "distance_weight": 0.0, "length_unit": "unknown"}
    readme = folder / "README.md"
    if not readme.exists():
        return out
    text = readme.read_text(errors="replace")
    sec = re.search(r"#+\s*Generalized Cost Weights(.*?)(\n#|\Z)", text, flags=re.S | re.I)
    if sec:
        for key, name in (("toll", "toll_weight"), ("distance", "distance_weight")):
            m = re.search(rf"^\s*{key}\s*:\s*([0-9.eE+-]+)", sec.group(1), flags=re.M | re.I)
            if m:
                try:
                    out[name] = float(m.group(1))
                except ValueError:
                    pass
    units = re.search(r"#+\s*Units(.*?)(\n#|\Z)", text, flags=re.S | re.I)
    if units:
        m = re.search(r"^\s*Distance\s*:\s*([A-Za-z]+)", units.group(1), flags=re.M | re.I)
        if m and m.group(1).lower() in _UNIT_TO_M:
            out["length_unit"] = m.group(1).lower()
    return out


def _length_unit(net: TntpNet, readme_unit: str) -> str:
    hdr = net.metadata.get("ORIGINAL HEADER", "").lower()
    m = re.search(r"length\s*\(\s*([a-z]+)\s*\)", hdr)
    if m and m.group(1) in _UNIT_TO_M:
        return m.group(1)
    return readme_unit


# --------------------------------------------------------------------------- public builders
def network_from_tntp(
    path: str | Path,
    *,
    name: str | None = None,
    toll_weight: float | None = None,
    distance_weight: float | None = None,
) -> RoadNetwork:
    """Network from a TNTP folder or ``*_net.tntp`` file.

    Parameters
    ----------
    path
        A TNTP folder (e.g. ``TransportationNetworks/Chicago-Sketch``) or its ``*_net.tntp``.
    name
        Network name; defaults to the folder name.
    toll_weight, distance_weight
        Minutes per toll unit and per raw length unit for the generalized cost column
        ``cost_fixed_min``; ``None`` reads them from the folder's README (0 if absent).

    Returns
    -------
    RoadNetwork
        Links with the :data:`~ldtkit.model.network.LINK_COLUMNS` plus ``length_raw``, ``toll``,
        ``link_type``, ``speed_raw`` and ``cost_fixed_min``; nodes ``1..n`` with zones
        ``1..NUMBER OF ZONES``. ``zone_through`` follows the first-through-node rule and
        ``meta["first_thru_node"]`` keeps the file's value.

    Examples
    --------
    >>> net = network_from_tntp("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> net.n_links, net.n_nodes, len(net.zone_ids)  # doctest: +SKIP
    (76, 24, 24)
    """
    import geopandas as gpd
    import pandas as pd
    import shapely

    from ldtkit.model.road_network import RoadNetwork, check_links_reference_nodes, conform_links, conform_nodes

    net = read_net(path)
    folder = net.path.parent
    rd = readme_cost_weights(folder)
    unit = _length_unit(net, rd["length_unit"])
    tw = rd["toll_weight"] if toll_weight is None else float(toll_weight)
    dw = rd["distance_weight"] if distance_weight is None else float(distance_weight)
    c = net.columns
    n = net.n_links
    length_raw = c["length"]
    factor = _UNIT_TO_M.get(unit, 1.0)
    length_m = length_raw * factor
    fftt = c["free_flow_time"]
    with np.errstate(divide="ignore", invalid="ignore"):
        speed = np.where((fftt > 0) & (length_m > 0), length_m / 1000.0 / (fftt / 60.0), 0.0)
    links = pd.DataFrame(
        {
            "link_id": np.arange(1, n + 1, dtype=np.int64),
            "from_node": c["init_node"],
            "to_node": c["term_node"],
            "length_m": length_m,
            "capacity_vph": c["capacity"],
            "free_speed_kmh": speed,
            "free_flow_time_min": fftt,
            "b": c["b"],
            "power": c["power"],
            "road_class": "tntp",
            "source_id": [str(i) for i in range(1, n + 1)],
            "length_raw": length_raw,
            "toll": c["toll"],
            "link_type": c["link_type"],
            "speed_raw": c["speed"],
            "cost_fixed_min": tw * c["toll"] + dw * length_raw,
        }
    )
    coords = read_nodes(folder)
    node_ids = np.union1d(np.union1d(c["init_node"], c["term_node"]), np.arange(1, net.n_zones + 1))
    if node_ids.max() <= net.n_nodes:  # nodes 1..NUMBER OF NODES, isolated ones included
        node_ids = np.arange(1, net.n_nodes + 1, dtype=np.int64)
    if coords is not None:
        node_ids = np.union1d(node_ids, coords["node_id"])
    geom = None
    if coords is not None:
        xy = np.full((len(node_ids), 2), np.nan)
        pos = np.searchsorted(coords["node_id"], node_ids) if np.all(np.diff(coords["node_id"]) > 0) else None
        if pos is None:
            order = np.argsort(coords["node_id"])
            cid = coords["node_id"][order]
            pos_ = np.clip(np.searchsorted(cid, node_ids), 0, len(cid) - 1)
            hit = cid[pos_] == node_ids
            xy[hit, 0] = coords["x"][order][pos_[hit]]
            xy[hit, 1] = coords["y"][order][pos_[hit]]
        else:
            pos = np.clip(pos, 0, len(coords["node_id"]) - 1)
            hit = coords["node_id"][pos] == node_ids
            xy[hit, 0] = coords["x"][pos[hit]]
            xy[hit, 1] = coords["y"][pos[hit]]
        if np.isfinite(xy).all():
            geom = shapely.points(xy)
            fi = np.searchsorted(node_ids, c["init_node"])
            ti = np.searchsorted(node_ids, c["term_node"])
            links["geometry"] = shapely.linestrings(np.stack([xy[fi], xy[ti]], axis=1))
    nodes = pd.DataFrame({"node_id": node_ids, "is_zone": node_ids <= net.n_zones})
    nodes["geometry"] = geom if geom is not None else None
    nodes = conform_nodes(gpd.GeoDataFrame(nodes, geometry="geometry"), source=str(net.path))
    check_links_reference_nodes(links, nodes, source=str(net.path))
    gl = conform_links(links, source=str(net.path))
    return RoadNetwork(
        links=gl,
        nodes=nodes,
        name=name or folder.name,
        zone_through=net.first_thru_node <= 1,
        meta={
            "source": str(net.path),
            "format": "tntp",
            "first_thru_node": net.first_thru_node,
            "n_zones": net.n_zones,
            "length_unit": unit,
            "length_to_m": factor if unit in _UNIT_TO_M else None,
            "toll_weight_min": tw,
            "distance_weight_min": dw,
            "coordinates": "as in the _node file, no CRS" if coords is not None else None,
            "tntp_metadata": net.metadata,
        },
    )


def demand_from_tntp(path: str | Path) -> Demand:
    """Demand (single class ``"light"``, PCU 1) from a TNTP ``_trips`` file or folder.

    Examples
    --------
    >>> d = demand_from_tntp("TransportationNetworks/SiouxFalls")  # doctest: +SKIP
    >>> d.total()  # doctest: +SKIP
    360600.0
    """
    from ldtkit.model.demand.matrices import Demand

    zones, m, meta = read_trips(path)
    return Demand(
        zone_ids=zones,
        trips={"light": m},
        pcu={"light": 1.0},
        meta={"source": str(find_tntp_file(path, "trips")), "stated_total": meta.get("TOTAL OD FLOW")},
    )


def flows_from_tntp(path: str | Path) -> pd.DataFrame:
    """Best-known link flows and costs from a TNTP ``_flow`` file or folder.

    Returns a DataFrame with ``init_node``, ``term_node``, ``flow``, ``cost`` in file order.

    Examples
    --------
    >>> flows_from_tntp("TransportationNetworks/SiouxFalls").shape  # doctest: +SKIP
    (76, 4)
    """
    import pandas as pd

    return pd.DataFrame(read_flows(path))
