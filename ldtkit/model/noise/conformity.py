"""Conformity of the propagation to ISO/TR 17534-4 (CNOSSOS-EU test cases TC01–TC28).

Each case holds, per propagation path (direct, lateral left/right, reflection), the cut profile
of the path and the expected path levels L_H and L_F per octave band with the tolerance the
reference test applies. :func:`run_conformity` evaluates every profile with
:func:`~ldtkit.model.noise.diffraction.profile_attenuation` and reports, per case and path, the
largest deviation in L_H, L_F and LA (the A-weighted p-mixed level) against its tolerance.

The cases ship with the package (``ldtkit/model/data/iso17534_4_cases.json``): the values are
the ISO tables as transcribed in NoiseModelling's tests (commit 35d2da1b), with the cut profiles
its path finder produces. :func:`build_cases` rebuilds that file from the two reference
extractions it came from.

Examples
--------
>>> report = run_conformity()
>>> report.n_cases, report.n_passed >= 25
(28, True)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ldtkit._validate import closest
from ldtkit.errors import InvalidValueError
from ldtkit.model.noise.diffraction import profile_attenuation

FloatArray = npt.NDArray[np.float64]

#: The cases file shipped with the package.
DEFAULT_CASES = Path(__file__).resolve().parent.parent / "data" / "iso17534_4_cases.json"
PATH_NAMES = ("direct", "lateral_left", "lateral_right", "reflection")
_PROFILE_KEYS = ("type", "x", "y", "z", "zGround", "G", "wall", "wall_alpha", "intersection")
_LEVELS = ("L_H", "L_F")


@dataclass(frozen=True)
class PathResult:
    """One path of a case: the computed levels and their largest deviation from the reference.

    ``deviation_db`` maps ``"L_H"``, ``"L_F"`` and ``"LA"`` to the largest absolute difference over
    the asserted bands (NaN when the reference asserts nothing for it), ``tolerance_db`` to the
    reference tolerance. ``passed`` is True when every asserted L_H and L_F is within tolerance.
    """

    path: str
    levels: Mapping[str, FloatArray]
    deviation_db: Mapping[str, float]
    tolerance_db: Mapping[str, float]
    passed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: deviations and tolerances rounded to 1e-4 dB, NaN as null."""
        return {
            "pass": self.passed,
            "max_deviation_db": {k: _num(v) for k, v in self.deviation_db.items()},
            "tolerance_db": {k: _num(v) for k, v in self.tolerance_db.items()},
            "levels_db": {k: [round(float(x), 4) for x in v] for k, v in self.levels.items()},
        }


@dataclass(frozen=True)
class CaseResult:
    """All paths of one case; ``passed`` when each of them passes."""

    case: str
    summary: str
    paths: tuple[PathResult, ...]

    @property
    def passed(self) -> bool:
        """Whether every asserted L_H and L_F band of every path is within its tolerance."""
        return all(p.passed for p in self.paths)

    def to_dict(self) -> dict[str, Any]:
        """``{"case", "pass", "summary", "paths": {path: ...}}``."""
        return {"case": self.case, "pass": self.passed, "summary": self.summary, "paths": {p.path: p.to_dict() for p in self.paths}}


@dataclass(frozen=True)
class ConformityReport:
    """The result of :func:`run_conformity`: one :class:`CaseResult` per case, in file order."""

    source: str
    cases: tuple[CaseResult, ...]

    @property
    def n_cases(self) -> int:
        """Number of cases run."""
        return len(self.cases)

    @property
    def n_passed(self) -> int:
        """Number of cases whose every path passes."""
        return sum(c.passed for c in self.cases)

    def to_dict(self) -> dict[str, Any]:
        """``{"source", "passed", "total", "cases": [...]}``, the JSON written by ``ldtkit noise conformity --json``."""
        return {"source": self.source, "passed": self.n_passed, "total": self.n_cases, "cases": [c.to_dict() for c in self.cases]}

    def table(self) -> list[tuple[str, str, str, str, str, str]]:
        """Rows (case, path, L_H, L_F, LA, result) with deviations printed as ``dev / tol``."""
        rows = []
        for c in self.cases:
            for p in c.paths:
                cells = [_cell(p.deviation_db[k], p.tolerance_db[k]) for k in ("L_H", "L_F", "LA")]
                rows.append((c.case, p.path, cells[0], cells[1], cells[2], "pass" if p.passed else "FAIL"))
        return rows

    def markdown(self) -> str:
        """The report as a Markdown table (``docs/noise-conformity.md``)."""
        lines = [
            "| case | path | max dev. L_H / tol (dB) | max dev. L_F / tol (dB) | max dev. LA / tol (dB) | result |",
            "|---|---|---|---|---|---|",
        ]
        lines += ["| " + " | ".join(r) + " |" for r in self.table()]
        return "\n".join(lines) + "\n"


def _num(v: float) -> float | None:
    return None if not math.isfinite(v) else round(float(v), 4)


def _cell(dev: float, tol: float) -> str:
    return "–" if not math.isfinite(dev) else f"{dev:.3f} / {tol:g}"


def _need(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if not isinstance(obj, Mapping) or key not in obj:
        raise InvalidValueError(f"{where}: missing field {key!r}")
    return obj[key]


def load_cases(path: str | Path | None = None) -> dict[str, Any]:
    """Read and check a cases file (default: the one shipped with the package).

    Raises :class:`~ldtkit.errors.InvalidValueError` naming the file, the case, the path and the
    missing or malformed field.

    Examples
    --------
    >>> cases = load_cases()
    >>> [c["case"] for c in cases["cases"]][:3]
    ['TC01', 'TC02', 'TC03']
    """
    file = Path(DEFAULT_CASES if path is None else path)
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidValueError(f"{file}: cases file not found") from None
    except json.JSONDecodeError as exc:
        raise InvalidValueError(f"{file}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    cond = _need(data, "conditions", str(file))
    for key in ("temperature_c", "humidity_pct", "p_favourable", "a_weighting_db"):
        _need(cond, key, f"{file}: conditions")
    cases = _need(data, "cases", str(file))
    if not isinstance(cases, list) or not cases:
        raise InvalidValueError(f"{file}: 'cases' must be a non-empty list")
    for i, case in enumerate(cases):
        name = _need(case, "case", f"{file}: cases[{i}]")
        where = f"{file}: {name}"
        lw = np.asarray(_need(case, "lw_db", where), dtype=np.float64)
        if lw.size not in (1, 8):
            raise InvalidValueError(f"{where}: 'lw_db' must be one value or 8 octave-band values")
        paths = _need(case, "paths", where)
        if not isinstance(paths, list) or not paths:
            raise InvalidValueError(f"{where}: 'paths' must be a non-empty list")
        for j, p in enumerate(paths):
            pname = _need(p, "path", f"{where}: paths[{j}]")
            if pname not in PATH_NAMES:
                raise InvalidValueError(f"{where}: path {pname!r} is not one of {', '.join(PATH_NAMES)}")
            pw = f"{where} {pname}"
            profile = _need(p, "profile", pw)
            for k, pt in enumerate(profile):
                for key in ("type", "x", "y", "z", "zGround", "G"):
                    _need(pt, key, f"{pw}: profile point {k}")
            expected = _need(p, "expected", pw)
            if not any(k in expected for k in _LEVELS):
                raise InvalidValueError(f"{pw}: 'expected' holds neither L_H nor L_F")
            for key, q in expected.items():
                vals = _need(q, "values", f"{pw}: expected {key}")
                _need(q, "tol", f"{pw}: expected {key}")
                if len(vals) != 8:
                    raise InvalidValueError(f"{pw}: expected {key} must have 8 octave-band values, got {len(vals)}")
    return dict(data)


def _deviation(got: FloatArray, q: Mapping[str, Any] | None) -> tuple[float, float, bool]:
    """(largest |got − expected| over the asserted bands, tolerance, within tolerance)."""
    if q is None:
        return math.nan, math.nan, True
    want = np.array([np.nan if v is None else float(v) for v in q["values"]])
    ok = np.isfinite(want)
    if not ok.any():
        return math.nan, float(q["tol"]), True
    dev = float(np.max(np.abs(got[ok] - want[ok])))
    return dev, float(q["tol"]), dev <= float(q["tol"]) + 1e-9


def run_case(case: Mapping[str, Any], conditions: Mapping[str, Any]) -> CaseResult:
    """Evaluate one case of a cases file (see :func:`load_cases`)."""
    aw = np.asarray(conditions["a_weighting_db"], dtype=np.float64)
    p_fav = float(conditions["p_favourable"])
    lw = np.broadcast_to(np.asarray(case["lw_db"], dtype=np.float64), (8,))
    results = []
    for p in case["paths"]:
        t_c, rh = float(conditions["temperature_c"]), float(conditions["humidity_pct"])
        name = f"{case['case']} {p['path']}"
        lh = profile_attenuation(p["profile"], name=name, temperature_c=t_c, humidity_pct=rh).levels(lw, p_favourable=p_fav)["LH"]
        fav = p.get("profile_favourable", p["profile"])
        lf = profile_attenuation(fav, name=name, temperature_c=t_c, humidity_pct=rh).levels(lw, p_favourable=p_fav)["LF"]
        exp = p["expected"]
        # a path without favourable conditions (H only) carries (1 − p) of its homogeneous energy
        if "L_F" in exp or not p.get("homogeneous_only", False):
            l_mix = 10 * np.log10(p_fav * 10 ** (lf / 10) + (1 - p_fav) * 10 ** (lh / 10))
        else:
            l_mix = lh + 10 * math.log10(1 - p_fav)
        la = l_mix + aw
        devs, tols, oks = {}, {}, []
        for key, got in (("L_H", lh), ("L_F", lf), ("LA", la)):
            dev, tol, ok = _deviation(got, exp.get(key))
            devs[key], tols[key] = dev, tol
            if key in _LEVELS:
                oks.append(ok)
        results.append(PathResult(p["path"], {"L_H": lh, "L_F": lf, "LA": la}, devs, tols, all(oks)))
    return CaseResult(str(case["case"]), str(case.get("summary", "")), tuple(results))


def run_conformity(path: str | Path | None = None, *, cases: Sequence[str] | None = None) -> ConformityReport:
    """Run the test cases of a cases file (default: the shipped ISO/TR 17534-4 cases).

    ``cases`` restricts the run to these case names (an unknown name is an error).

    Examples
    --------
    >>> report = run_conformity(cases=["TC08"])
    >>> [(p.path, p.passed) for p in report.cases[0].paths]
    [('direct', True), ('lateral_left', True), ('lateral_right', True)]
    """
    data = load_cases(path)
    src = str(DEFAULT_CASES.name if path is None else path)
    chosen = data["cases"]
    if cases is not None:
        names = [c["case"] for c in chosen]
        unknown = [c for c in cases if c not in names]
        if unknown:
            near = closest(unknown, names)
            hint = f"; did you mean {', '.join(near)}?" if near else ""
            raise InvalidValueError(f"unknown case(s) {', '.join(unknown)} in {src}: it has {names[0]} to {names[-1]}{hint}")
        chosen = [c for c in chosen if c["case"] in cases]
    return ConformityReport(src, tuple(run_case(c, data["conditions"]) for c in chosen))


# ------------------------------------------------------------------ building the shipped file
def _points_from_geometry(points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{k: p[k] for k in _PROFILE_KEYS if k in p and p[k] is not None} for p in points]


def _points_from_cut(points: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": p["type"], "x": p["xyz"][0], "y": p["xyz"][1], "z": p["xyz"][2], "zGround": p["zGround"], "G": p["G"]} for p in points]


def build_cases(cnossos_reference: str | Path, iso_geometry: str | Path) -> dict[str, Any]:
    """The cases file, rebuilt from the two reference extractions it is made of.

    ``cnossos_reference`` is ``cnossos_reference_cases.json`` (TC01–TC05: ground and terrain) and
    ``iso_geometry`` is ``iso17534_tc06_tc28_geometry.json`` (TC06–TC28: cut profiles and expected
    per-path values), both transcribed from NoiseModelling (commit 35d2da1b).
    """
    ref = json.loads(Path(cnossos_reference).read_text(encoding="utf-8"))
    geo = json.loads(Path(iso_geometry).read_text(encoding="utf-8"))
    settings = ref["propagation_common_settings"]
    tol = ref["tolerance_constants_in_NoiseModelling_test"]
    out: list[dict[str, Any]] = []
    for name, c in ref["propagation_cases_iso_tr_17534_4"].items():
        if "direct_profile" not in c:  # TC06 onwards: from the geometry file, with every path
            continue
        exp = c["expected_first_path_arrays"]
        asserted = c["asserted_tolerances"]
        expected = {
            new: {"values": exp[old]["values"], "tol": tol[asserted.get(old, "ERROR_EPSILON_VERY_LOW")]}
            for old, new in (("LH", "L_H"), ("LF", "L_F"))
            if old in exp
        }
        if "L" in exp:
            la = np.round(np.asarray(exp["L"]["values"]) + np.asarray(settings["A_weighting"]), 2)
            expected["LA"] = {"values": la.tolist(), "tol": tol[asserted.get("LA", "ERROR_EPSILON_VERY_LOW")]}
        profile = _points_from_cut(c["direct_profile"]["cutPoints"])
        out.append({"case": name, "summary": c["description"], "lw_db": settings["source_power_LW_dB_all_bands"],
                    "paths": [{"path": "direct", "profile": profile, "expected": expected}]})  # fmt: skip
    suffix = {"Direct": "direct", "Left": "lateral_left", "Right": "lateral_right", "Reflection": "reflection"}
    for name, c in geo["cases"].items():
        if not c.get("in_scope", True):
            continue
        paths: dict[str, dict[str, Any]] = {}
        for pname, prof in c["cut_profiles"].items():
            base = pname.split("_", 1)[1]
            curved = base.endswith("_Curved")
            path = suffix[base.removesuffix("_Curved")]
            entry = paths.setdefault(path, {"path": path})
            entry["profile_favourable" if curved else "profile"] = _points_from_geometry(prof["points"])
        for path, entry in paths.items():
            e = c["expected"]["paths"].get(path, {})
            expected = {}
            for cond in ("H", "F"):
                q = e.get(cond, {}).get(f"L_{cond}")
                if q is not None:
                    expected[f"L_{cond}"] = {"values": q["values"], "tol": q["tol"]}
                elif "minus_A_total" in e.get(cond, {}):
                    # only the total attenuation is asserted: the level is Lw plus it
                    a = e[cond]["minus_A_total"]
                    lw_case = c["computation_conditions"]["sound_power_per_band_dB"]
                    vals = [None if v is None else round(lw_case + v, 2) for v in a["values"]]
                    expected[f"L_{cond}"] = {"values": vals, "tol": a["tol"]}
            la = e.get("combined_H_F", {}).get("LA")
            if la is not None:
                expected["LA"] = {"values": la["values"], "tol": la["tol"]}
            entry["expected"] = expected
            if path.startswith("lateral") and "profile_favourable" not in entry:
                entry["homogeneous_only"] = True
            if path == "reflection" and "L_F" not in expected:
                entry["homogeneous_only"] = True
        kept = [paths[p] for p in paths if paths[p]["expected"] and any(k in paths[p]["expected"] for k in _LEVELS)]
        lw = c["computation_conditions"]["sound_power_per_band_dB"]
        out.append({"case": name, "summary": c.get("summary", ""), "lw_db": lw, "paths": kept})
    return {
        "about": (
            "ISO/TR 17534-4 test cases TC01-TC28 for CNOSSOS-EU propagation: per path, the cut profile and the expected "
            "L_H and L_F per octave band (63-8000 Hz) with the tolerance of the reference test, as transcribed in "
            "NoiseModelling (github.com/Universite-Gustave-Eiffel/NoiseModelling, commit 35d2da1b): "
            "AttenuationComputeOutputCnossosTest.java and the path finder's test_cases/TCxx_*.json profiles."
        ),
        "conditions": {
            "temperature_c": settings["T_air_C"],
            "humidity_pct": settings["RH_percent"],
            "p_favourable": settings["favourable_occurrence_p"],
            "a_weighting_db": settings["A_weighting"],
        },
        "cases": out,
    }
