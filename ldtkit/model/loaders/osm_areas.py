"""Areas (and chosen ways) of an OpenStreetMap extract: one reader for buildings, water and parks.

:func:`read_osm_areas` assembles the closed ways and multipolygon relations carrying any of the
given keys into multipolygons with `pyosmium <https://osmcode.org/pyosmium/>`_, and can also keep
open ways of chosen tags as lines (rivers, canals). What it returns is plain: feature ids, tags,
WKB geometry, and the ids of areas whose outline does not close (each caller decides whether a
broken outline is an error or is skipped). Buildings for noise and for zones, and the offline map
context, all read through it.

Examples
--------
>>> areas = read_osm_areas("data/porto/porto.osm.pbf", keys=("building",))  # doctest: +SKIP
>>> areas.ids[:2], areas.tags[0]["building"]  # doctest: +SKIP
(['w24430231', 'w24430235'], 'yes')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ldtkit.errors import UnreadableFormatError, require_file


@dataclass(frozen=True, slots=True)
class OsmAreas:
    """Features of an OSM extract, in file order.

    Attributes
    ----------
    ids
        ``w<way id>`` or ``r<relation id>`` per feature.
    tags
        The feature's tags.
    wkb
        Its geometry as WKB (EPSG:4326): a multipolygon for an area, a line string for a way.
    is_area
        ``True`` for an area, ``False`` for a way kept as a line.
    broken_ids
        Areas whose outline does not close into a polygon (not in the lists above).
    """

    ids: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)
    wkb: list[bytes] = field(default_factory=list)
    is_area: list[bool] = field(default_factory=list)
    broken_ids: list[str] = field(default_factory=list)


def _wkb_bytes(w: str | bytes) -> bytes:
    return bytes.fromhex(w) if isinstance(w, str) else w


def read_osm_areas(
    path: str | Path,
    *,
    keys: Sequence[str],
    line_tags: Mapping[str, Sequence[str]] | None = None,
    what: str = "an OSM extract (.osm.pbf)",
) -> OsmAreas:
    """The areas of ``path`` tagged with any of ``keys``, and the ways matching ``line_tags`` as lines.

    Parameters
    ----------
    path
        An OSM extract (``.osm.pbf``, ``.osm``, ``.osm.gz``).
    keys
        Tag keys of the areas to read (e.g. ``("building",)``).
    line_tags
        ``{key: values}``: open or closed ways with one of these tags are also returned, as lines
        (e.g. ``{"waterway": ("river", "canal")}``); their keys must be among ``keys``.
    what
        What the file should be, for the error message.

    Raises
    ------
    InputFileNotFoundError
        When ``path`` does not exist.
    UnreadableFormatError
        When ``path`` is not a readable OSM file.
    """
    import osmium

    file = require_file(path, what="OSM extract")
    fab = osmium.geom.WKBFactory()
    out = OsmAreas()
    lines = {k: tuple(v) for k, v in (line_tags or {}).items()}
    try:
        fp = osmium.FileProcessor(str(file)).with_areas(osmium.filter.KeyFilter(*keys)).with_filter(osmium.filter.KeyFilter(*keys))
        for obj in fp:
            if isinstance(obj, osmium.osm.Area):
                feature = f"{'w' if obj.from_way() else 'r'}{obj.orig_id()}"
                try:
                    geom = fab.create_multipolygon(obj)
                except RuntimeError:  # a broken ring in the source data
                    out.broken_ids.append(feature)
                    continue
                area = True
            elif isinstance(obj, osmium.osm.Way) and any(obj.tags.get(k) in v for k, v in lines.items()):
                feature = f"w{obj.id}"
                try:
                    geom = fab.create_linestring(obj)
                except RuntimeError:  # a way without node locations
                    continue
                area = False
            else:  # the ways and relations an area is built from
                continue
            out.ids.append(feature)
            out.tags.append(dict(obj.tags))
            out.wkb.append(_wkb_bytes(geom))
            out.is_area.append(area)
    except RuntimeError as exc:
        raise UnreadableFormatError(file, expected=what, detail=str(exc)) from exc
    return out
