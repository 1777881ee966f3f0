"""``ldtkit noise conformity [--cases FILE] [--case TC] [--json OUT] [--markdown OUT]``.

Runs the ISO/TR 17534-4 propagation test cases (TC01–TC28, shipped with the package) and prints,
per case and path, the largest deviation in L_H, L_F and LA against the reference tolerance.
The output lines are documented in ``docs/cli.md``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from ldtkit.cli.args import Subparsers, show_help, writable_file

if TYPE_CHECKING:
    from ldtkit.model.noise.conformity import ConformityReport


def add_parser(subparsers: Subparsers) -> argparse.ArgumentParser:
    """Register ``ldtkit noise`` and its action ``conformity``."""
    p = subparsers.add_parser("noise", help="noise propagation tools")
    s = p.add_subparsers(dest="noise_command", metavar="ACTION")
    conf = s.add_parser("conformity", help="run the ISO/TR 17534-4 test cases TC01-TC28 and print the deviations per case and path")
    conf.add_argument("--cases", metavar="FILE", help="a cases file (default: the reference cases shipped with ldtkit)")
    conf.add_argument("--case", action="append", metavar="TC", help="run only this case (repeatable), e.g. --case TC08")
    conf.add_argument("--json", metavar="OUT", help="also write the results as JSON to OUT")
    conf.add_argument("--markdown", metavar="OUT", help="also write the results as a Markdown page to OUT")
    conf.set_defaults(func=conformity)
    p.set_defaults(func=show_help(p))
    return p


#: The page's section on maps with buildings: what they do and the figures measured with
#: ``benchmarks/noise.py`` (static text: the figures depend on the machine and its load).
MAPS_WITH_BUILDINGS = """
## Maps with buildings

Noise maps use a city's buildings by default (`[noise] buildings` in `city.toml`, see
`docs/city-config.md`): Porto and any city built from an OpenStreetMap extract screen the paths
with the extract's `building=*` footprints (height from `height`, else `building:levels` x 3 m,
else the building type's default), Athens with its statistical blocks at an assumed 15 m. Each
source-receiver path is traced through the footprints crossed; where roofs rise above the ray,
the diffraction over their convex hull (the terms checked above, CNOSSOS-EU 2.5.21) replaces the
ground term. Receptors inside buildings get no level; on a grid, their residents count at the
nearest receptor outside.

Maps with buildings add the first-order specular reflections on the facades (image method,
`ldtkit.model.noise.reflections`): every wall within 50 m of a receptor that it sees in plan, not
its own facade, reflects each point source whose specular point lies on the wall below its roof,
at the level of the unfolded path plus 10 lg(1 - alpha) of the facade (OSM buildings: a hard
facade, alpha 0.005-0.14 by band): in open field when both legs are in sight over the roofs, else
diffracted over the convex hull of the roofs that screen either leg, as the direct path is. The
reflection of ISO/TR 17534-4 TC25, screened by its barrier, comes within 0.01 dB of the reference
L_H and L_F in every band. `noise_propagation(reflection_order=2)` adds the second-order
reflections on pairs of those walls (both specular points on their walls below the roofs);
`reflection_order=0` leaves reflections out; retro-diffraction at a wall's top is left out.
On Porto's facade receptors, first-order reflections raise Lden by 1.6 dB at the median receptor
(95th percentile 4.1 dB); the screened reflected paths account for 0.05 dB of that at the median
receptor, 2.8 dB at the 95th percentile and up to 7.9 dB (reflections in sight only gave 0.85 and
3.5 dB). The second order adds 0.28 dB at the median receptor (95th percentile 1.7 dB, at most
8.1 dB) for 1.5 times the CPU of the first-order map.

Screened and reflected paths from point sources beyond 100 m are left out where an upper bound of
their energy is negligible (single-roof diffraction from the first roofs met while tracing, or the
hull's, with each side's ground term at its largest gain), within a budget that lowers each
period's level by at most 0.1 dB (`prune_db`; 0 evaluates every path). On Porto's facade
receptors the levels drop by 0.01 dB at the median receptor and by at most 0.05 dB.

Terrain: a city whose `city.toml` names a DEM (`[noise] terrain = "dem.tif"`, a GeoTIFF in the
city's CRS; see `docs/city-config.md`), or a `Terrain` built from breaklines
(`ldtkit.model.noise.terrain_from_breaklines`), is mapped over the ground it describes: every
source-receiver pair is evaluated over the mean plane of the terrain profile sampled under it
(CNOSSOS-EU 2.5.19-2.5.20), with diffraction where the terrain or the roofs standing on it rise
above the ray. The same cut profiles, taken from the geometry of the 13 ISO/TR 17534-4 cases
with terrain (TC06, TC09, TC13, TC16-TC24, TC27), give their direct paths' L_H and L_F within the
reference tolerance (`tests/test_noise_paths.py`); a map over a flat DEM equals the flat map
within 2e-10 dB. Over terrain each pair is computed exactly (no distance table, no grouping of
far sources, no reflections yet): about 9 us per pair, ten times the flat map's.

Facade exposure as the END asks it: receptors 2 m in front of the facades at 4 m (the facade's own
reflection not counted), the residents of the zones distributed to the residential buildings by
floor area, each building's residents counted in the band of its most exposed facade point; the
quietest point of the building gives its quiet-facade level (`ldtkit.model.noise.facade_exposure`,
`building_population`). That is CNOSSOS-EU's rule for a building of one dwelling (or one per
floor). For an apartment building, whose dwellings face different sides, `facade_exposure(...,
share_facades=...)` shares the residents among the building's facade points (evenly spaced, so by
facade length), each share counted at its own point's level, as CNOSSOS-EU's second rule does.

Studies count people this way in every city with buildings: `ldtkit run`, the reports and the
dashboards take the people per Lden and Lnight band (and above the END thresholds) from the
facades of the focus area's buildings, for the baseline and every scenario, and say so beside the
indicators ("people counted at the façades of their building"): the residents of a house
(OpenStreetMap `house`, `detached`, `semidetached_house`, `terrace`, `bungalow`) at its most
exposed facade, those of any other residential building (apartments, untyped footprints, Athens's
city blocks) shared among its facade points (`ldtkit.model.noise.shares_facades`); the maps stay on
the grid. The facade receptors (every `ModelOptions.facade_spacing_m`, 5 m by default) and the
residents per building are prepared once per city with its inputs (`ldtkit.study.facades`); a
facade point nearer to another building than to its own is dropped, and a building left without
a point (a terraced house whose points fell at its party walls) counts at the nearest facade point
of a neighbour, so every placed resident is in a band or below the lowest. Each scenario's facade
map has the grid map's settings (buildings, reflections, the baseline's traffic placing the
far-field sources) and is computed in full. Ghent has no building data: its people are counted at
the grid receptors ("open-field propagation: no building data; people counted at grid receptors"),
as in a city whose mapped buildings hold less than 90 % of its residents.

Its cost, on 2 cores at load 3-7: Athens (city blocks; 58,294 points on the focus area's lived-in
blocks) 14 CPU-s a facade map, so its two Great Walk scenarios with the baseline add about 42 CPU-s
to a run; Porto (25,126 points: a study places them only on the focus area's buildings with
residents, and drops those nearer to another building) 23 CPU-s a map, and 28 CPU-s for the first
with the propagation geometry. At 10 m spacing the maps take 7.6 and 14 CPU-s; the people at Lden 55 dB or more change
by -0.7 % (Athens) and -4.5 % (Porto), those at 75 dB or more by -3.8 % and 0 %. Against the grid,
the facades count more people in the upper bands: Porto's baseline has 3,513 residents at Lden 75 dB
or more at their most exposed facade, 1,890 on the grid; Athens, had a whole block counted at its
loudest point, 24,157 against 6,877 (a study shares a block's residents among its facade points).

Porto, focus area (7,173 buildings, 60,401 residents in them, 58,632 of them in buildings other than
houses; 30,638 facade receptors every 5 m on all these buildings, with or without residents, none
dropped, so more than a study's 25,126; default settings, 3 km cutoff; the benchmark's fixed flow
per road class), residents per band, `python benchmarks/noise.py --only exposure` (28 s for the map
with buildings and reflections, load 1.1): every building's residents at its most exposed facade,
and, as studies count them, a house's there and any other building's shared among its facade points:

| band | most exposed facade, with buildings | open field | houses most exposed, others shared, with buildings | open field |
|---|---:|---:|---:|---:|
| Lden 55-59 | 2,619 | 2,099 | 4,632 | 3,423 |
| Lden 60-64 | 8,116 | 8,769 | 8,154 | 15,891 |
| Lden 65-69 | 17,816 | 26,954 | 12,333 | 26,112 |
| Lden 70-74 | 13,825 | 15,701 | 8,571 | 10,314 |
| Lden >=75 | 4,620 | 3,061 | 1,356 | 729 |
| Lnight 50-54 | 4,900 | 6,619 | 6,054 | 12,988 |
| Lnight 55-59 | 20,185 | 27,831 | 14,478 | 28,229 |
| Lnight 60-64 | 12,341 | 14,566 | 8,176 | 10,844 |
| Lnight 65-69 | 7,417 | 5,972 | 2,578 | 1,816 |
| Lnight >=70 | 0 | 0 | 0 | 0 |

With the buildings, 29,457 residents have a facade at least 10 dB quieter than their most exposed
one (open field: 2,943), and 46,996 have a most exposed facade at Lden 55 dB or more (open field:
56,584). The facade reflections make the most exposed facades louder than in open field (4,620
residents at Lden 75 dB or more, against 3,061); before any reflection the map gave 2,498 there and
45,660 at 55 dB or more. Counted as studies count them, 35,046 residents are at Lden 55 dB or more
with the buildings, against 56,469 in open field: the screened back facades of apartment buildings
take their share.

Speed, `python benchmarks/noise.py --only porto` on 2 cores: with buildings, diffraction and
first-order reflections (screened ones diffracted), 1.3-1.6 us wall and 2.4-2.7 CPU-us per
source-receiver pair, depending on the day's host speed (2.0 M pairs for 2,000 facade receivers:
every point source within 500 m, counted before any pruning, as the open-field figure counts them),
0.04 us wall in open field. The focus-area facade map with buildings and reflections takes 27-33 s
(48.5 CPU-s on the fastest day), open field 0.3 s. Two measures make it this fast. The walls that touching buildings share leave
the obstacles that paths are traced through (a third of the edges of Porto's OpenStreetMap footprints; a path meets
both copies at the same distance and only the higher roof can be on the profile's upper hull, so no
level changes by more than 0.005 dB, the pruning's own noise). Each cell's list of building
parts carries the parts' cell ranges and bounding circles in one row, read as one stream. Without
these two measures the pairs took 1.61 us wall (3.02 CPU-us) and the map 35.4 s on the day the
code with them measured 1.28-1.31 us and 27.0 s. Without
reflections the pairs take 0.72 us wall (1.37 CPU-us). The kernels on
the hot path run without numba's reference counting (they allocate nothing), and take e^x and
10^x of the ground, air and A_min terms from a table and a degree-5 polynomial (within 1e-10
relative); kernels without either take 1.9 times the CPU (measured alternately on one machine).
"""


def markdown_page(report: ConformityReport) -> str:
    """The page ``docs/noise-conformity.md``: how it is made, the summary and the table."""
    failed = [c.case for c in report.cases if not c.passed]
    lines = [
        "# Noise propagation: conformity to ISO/TR 17534-4",
        "",
        "Generated by `ldtkit noise conformity --markdown docs/noise-conformity.md`; do not edit by hand.",
        "",
        "ISO/TR 17534-4 gives test cases for the CNOSSOS-EU propagation method (Directive (EU) 2015/996,",
        "Annex II, as amended by 2021/1226): the geometry of a source, a receiver, the ground, the terrain,",
        "barriers and buildings, and per propagation path (direct over the top, lateral left and right",
        "around vertical edges, reflection) the expected levels in homogeneous (L_H) and favourable (L_F)",
        "conditions per octave band, 63 Hz to 8 kHz, for a source of 93 dB per band (TC28: 150 dB).",
        "The cases ship with ldtkit (`ldtkit/model/data/iso17534_4_cases.json`) as transcribed in",
        "NoiseModelling's tests (commit 35d2da1b), with the cut profile of each path that its path finder",
        "produces; ldtkit evaluates each profile with `ldtkit.model.noise.profile_attenuation`.",
        "",
        "A case passes when every asserted band of L_H and L_F of every path is within the tolerance the",
        "reference test uses (0.02, 0.1 or 0.5 dB). The LA column (the p-weighted level, p = 0.5, plus",
        "A-weighting) is reported where the reference gives it; it does not decide the result.",
        "",
        f"**{report.n_passed} of {report.n_cases} cases pass.**" + (f" Not passing: {', '.join(failed)}." if failed else ""),
        "",
        "Where the reference is disputed, ldtkit follows the values computed from the geometry: TC07's ground",
        "terms of the direct path are NoiseModelling's own numbers (ISO gives none), and only L_H and L_F are",
        "checked; the mean planes come from the cut profile, which gives the heights the reference test",
        "corrected where the ISO document is wrong (TC14: z_s = 1.08 instead of 0; TC28's planes as the test",
        "asserts them); TC21's lateral paths are checked in homogeneous conditions only, as ISO gives them",
        "(NoiseModelling adds favourable contributions ISO does not have); TC26 has no favourable reflection;",
        "TC28's right lateral path is checked through its asserted total attenuation (L = 150 dB + value).",
        "",
        report.markdown(),
        MAPS_WITH_BUILDINGS,
    ]
    return "\n".join(lines)


def conformity(args: argparse.Namespace) -> int:
    """Run the cases, print one line per case and path and a summary; exit code 0 (1 on a bad file)."""
    import json

    from ldtkit.io import write_text_atomic
    from ldtkit.model.noise.conformity import run_conformity

    json_out = writable_file(args.json, option="--json") if args.json else None
    md_out = writable_file(args.markdown, option="--markdown") if args.markdown else None
    report = run_conformity(args.cases, cases=args.case)
    print(f"{'case':<6} {'path':<14} {'L_H dev/tol':>14} {'L_F dev/tol':>14} {'LA dev/tol':>14}  result")
    for case, path, lh, lf, la, result in report.table():
        print(f"{case:<6} {path:<14} {lh:>14} {lf:>14} {la:>14}  {result}")
    print(f"{report.n_passed} of {report.n_cases} cases pass")
    if json_out is not None:
        write_text_atomic(json_out, json.dumps(report.to_dict(), indent=1) + "\n")
        print(f"wrote {json_out}")
    if md_out is not None:
        write_text_atomic(md_out, markdown_page(report))
        print(f"wrote {md_out}")
    return 0
