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
its own facade, reflects each point source whose specular point lies on the wall below its roof
and whose two legs are in sight over the roofs, at the open-field level of the unfolded path plus
10 lg(1 - alpha) of the facade (OSM buildings: a hard facade, alpha 0.005-0.14 by band).
Reflected paths that buildings screen, retro-diffraction and higher orders are left out
(`noise_propagation(reflection_order=0)` leaves reflections out altogether). On Porto's facade
receptors, reflections raise Lden by 0.9 dB at the median receptor (95th percentile 3.7 dB).

Screened and reflected paths from point sources beyond 100 m are left out where an upper bound of
their energy is negligible (single-roof diffraction from the first roofs met while tracing, or the
hull's, with each side's ground term at its largest gain), within a budget that lowers each
period's level by at most 0.1 dB (`prune_db`; 0 evaluates every path). On Porto's facade
receptors the levels drop by 0.01 dB at the median receptor and by at most 0.05 dB.

Facade exposure as the END asks it: receptors 2 m in front of the facades at 4 m (the facade's own
reflection not counted), the residents of the zones distributed to the residential buildings by
floor area, each building's residents counted in the band of its most exposed facade point; the
quietest point of the building gives its quiet-facade level (`ldtkit.model.noise.facade_exposure`,
`building_population`).

Studies count people this way in every city with buildings: `ldtkit run`, the reports and the
dashboards take the people per Lden and Lnight band (and above the END thresholds) from the
facades of the focus area's buildings, for the baseline and every scenario, and say so beside the
indicators ("people counted at the most exposed facade of their building"); the maps stay on the
grid. The facade receptors (every `ModelOptions.facade_spacing_m`, 5 m by default) and the
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
to a run; Porto (25,126 points) 23 CPU-s a map, and 28 CPU-s for the first with the propagation
geometry. At 10 m spacing the maps take 7.6 and 14 CPU-s; the people at Lden 55 dB or more change
by -0.7 % (Athens) and -4.5 % (Porto), those at 75 dB or more by -3.8 % and 0 %. Against the grid,
the facades count more people in the upper bands: Porto's baseline has 3,513 residents at Lden 75 dB
or more at their most exposed facade, 1,890 on the grid; Athens, where a whole block counts at its
loudest point, 24,157 against 6,877.

Porto, focus area (7,173 buildings, 60,401 residents in them, 30,638 facade receptors every 5 m;
default settings, 3 km cutoff; the benchmark's fixed flow per road class), residents per band of
their most exposed facade, `python benchmarks/noise.py --only exposure`:

| band | with buildings | open field |
|---|---:|---:|
| Lden 55-59 | 2,571 | 2,099 |
| Lden 60-64 | 8,134 | 8,769 |
| Lden 65-69 | 17,748 | 26,954 |
| Lden 70-74 | 13,816 | 15,701 |
| Lden >=75 | 4,620 | 3,061 |
| Lnight 50-54 | 4,895 | 6,619 |
| Lnight 55-59 | 20,134 | 27,831 |
| Lnight 60-64 | 12,357 | 14,566 |
| Lnight 65-69 | 7,401 | 5,972 |
| Lnight >=70 | 0 | 0 |

With the buildings, 30,025 residents have a facade at least 10 dB quieter than their most exposed
one (open field: 2,943), and 46,889 live at Lden 55 dB or more (open field: 56,584). The facade
reflections make the most exposed facades louder than in open field (4,620
residents at Lden 75 dB or more, against 3,061); before them the map gave 2,498 there and 45,660
at 55 dB or more. The map with buildings took 282 s at load 8-10.

Speed, `python benchmarks/noise.py --only porto` on 2 cores (load 1.5-1.8 at the start): with
buildings, diffraction and first-order reflections, 0.80-0.82 us wall and 1.52-1.56 CPU-us per
source-receiver pair (2.0 M pairs for 2,000 facade receivers: every point source within 500 m,
counted before any pruning, as the open-field figure counts them), 0.03 us wall in open field.
The focus-area facade map with buildings and reflections takes 17.7-17.9 s (33 CPU-s), open field
0.3 s. The kernels on the hot path run without numba's reference counting (they allocate nothing),
and take e^x and 10^x of the ground, air and A_min terms from a table and a degree-5 polynomial
(within 1e-10 relative; the levels of the focus-area facade map move by at most 3e-10 dB): in the
same runs, alternated, the kernels without either took 1.54-1.64 us wall and 2.93-3.13 CPU-us per
pair, and 28-29 s (52-55 CPU-s) for the map. At load 3.4-5.8 the pairs took 1.6-1.7 CPU-us.
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
