"""Colour scales shared by every map backend, their legends and the number format of labels.

A :class:`ColorScale` maps values onto a matplotlib colormap, continuous or in bands; the same
scale colours both halves of a split map, its HTML legend and the static figures, so colours
compare. :func:`lden_scale` and :func:`no2_scale` are the scales of the noise and air maps,
built on the bands and limit values of :mod:`ldtkit.model.limits`; :func:`change_scale` is the
scale of a map of scenario − baseline (flow, Lden or NO2), with what each end means in words.

Examples
--------
>>> lden_scale().band_labels()[-2:]
['70–75', '≥ 75']
>>> format_number(1234.5), format_number(0.125)
('1,234', '0.125')
>>> change_scale("lden", [-1.0, 2.0]).ends
('quieter', 'louder')
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

import numpy as np
import numpy.typing as npt

from ldtkit.errors import EmptyStudyAreaError, InvalidValueError
from ldtkit.model.limits import MAP_LDEN_BANDS_DB, NO2_LIMIT_UGM3
from ldtkit.viz.maps.measures import CHANGE_THRESHOLD_VPH

if TYPE_CHECKING:  # matplotlib loads on first use of a scale's colours
    import matplotlib.colors


@dataclass(frozen=True)
class ColorScale:
    """A colour scale shared by both sides of a map, its legend and the static figures.

    Parameters
    ----------
    vmin, vmax
        Value range mapped onto the colormap (values outside are clipped).
    cmap
        A matplotlib colormap name.
    label
        Legend title, with the unit, e.g. ``"flow (veh/h)"``.
    bounds
        Optional band edges; when given the scale is discrete (one colour per band, plus an
        open band below the first and above the last edge).
    ends
        What the low and the high end mean, in words (e.g. ``("quieter", "louder")``), shown
        under the legend; ``None``: nothing.
    extends
        Whether values lie beyond ``vmin`` or ``vmax`` (they take the end colours): the legend's
        end values read ``≤ vmin`` and ``≥ vmax``.

    Examples
    --------
    >>> s = ColorScale(0.0, 100.0, cmap="viridis", label="x")
    >>> s.hex([0.0, 100.0, 1e9])
    ['#440154', '#fde725', '#fde725']
    >>> ColorScale.bands(MAP_LDEN_BANDS_DB, label="Lden (dB)").band_labels()[:2]
    ['< 45', '45–50']
    """

    vmin: float
    vmax: float
    cmap: str = "viridis"
    label: str = ""
    bounds: tuple[float, ...] | None = None
    ends: tuple[str, str] | None = None
    extends: bool = False

    def __post_init__(self) -> None:
        if not (np.isfinite(self.vmin) and np.isfinite(self.vmax)):
            raise InvalidValueError(f"ColorScale {self.label!r}: vmin/vmax must be finite, got {self.vmin}, {self.vmax}")
        if self.vmax <= self.vmin:
            object.__setattr__(self, "vmax", float(self.vmin) + 1.0)
        if self.bounds is not None:
            b = tuple(float(v) for v in self.bounds)
            if len(b) < 2 or any(np.diff(b) <= 0):
                raise InvalidValueError(f"ColorScale {self.label!r}: bounds must increase, got {self.bounds}")
            object.__setattr__(self, "bounds", b)

    # constructors ------------------------------------------------------------
    @classmethod
    def shared(
        cls,
        *values: Iterable[float],
        cmap: str = "viridis",
        label: str = "",
        quantiles: tuple[float, float] = (0.0, 0.98),
        vmin: float | None = None,
    ) -> ColorScale:
        """One scale covering every array given (e.g. baseline and scenario flows).

        ``quantiles`` trims outliers so a few motorway links do not wash out the city;
        ``vmin`` forces the lower end (e.g. 0 for flows).
        """
        v = _finite(np.concatenate([np.asarray(list(x) if not hasattr(x, "__array__") else x, dtype=float).ravel() for x in values]))
        if len(v) == 0:
            raise EmptyStudyAreaError(f"ColorScale.shared({label!r}): no finite values to scale")
        lo, hi = np.quantile(v, quantiles)
        return cls(float(lo if vmin is None else vmin), float(hi), cmap=cmap, label=label)

    @classmethod
    def diverging(
        cls,
        *values: Iterable[float],
        cmap: str = "RdBu_r",
        label: str = "",
        quantile: float = 1.0,
        above: float = 0.0,
        ends: tuple[str, str] | None = None,
    ) -> ColorScale:
        """A scale symmetric around zero (for scenario − baseline differences), ± the largest change.

        ``quantile`` < 1 caps the scale at that quantile of ``|value|``, counting only the values
        whose ``|value|`` exceeds ``above`` (when any does): larger changes take the end colours
        and the scale :attr:`extends`. The default covers every change.

        Examples
        --------
        >>> s = ColorScale.diverging(np.r_[np.full(99, 5.0), -720.0])
        >>> (s.vmin, s.vmax, s.extends)
        (-720.0, 720.0, False)
        >>> s = ColorScale.diverging(np.r_[np.zeros(50), np.full(19, 200.0), -720.0], quantile=0.9, above=100.0)
        >>> (s.vmax, s.extends)
        (200.0, True)
        """
        v = np.abs(_finite(np.concatenate([np.asarray(x, dtype=float).ravel() for x in values])))
        counted = v[v > above] if np.any(v > above) else v
        m = float(np.quantile(counted, quantile)) if len(counted) else 1.0
        m = m if m > 0 else 1.0
        return cls(-m, m, cmap=cmap, label=label, ends=ends, extends=bool(len(v) and v.max() > m))

    @classmethod
    def bands(cls, bounds: Sequence[float], *, cmap: str = "RdYlGn_r", label: str = "") -> ColorScale:
        """A discrete scale with the given band edges (e.g. :data:`~ldtkit.model.limits.MAP_LDEN_BANDS_DB`)."""
        return cls(float(bounds[0]), float(bounds[-1]), cmap=cmap, label=label, bounds=tuple(bounds))

    # mapping -----------------------------------------------------------------
    @property
    def is_diverging(self) -> bool:
        """Whether the scale is continuous and symmetric around zero (a difference scale)."""
        return bool(self.bounds is None and np.isclose(self.vmin, -self.vmax))

    def norm(self) -> matplotlib.colors.Normalize:
        """The matplotlib normaliser (``BoundaryNorm`` for banded scales)."""
        from matplotlib.colors import BoundaryNorm, Normalize

        if self.bounds is not None:
            return BoundaryNorm(self.bounds, self.colormap().N, extend="both")
        return Normalize(self.vmin, self.vmax, clip=True)

    def colormap(self) -> matplotlib.colors.Colormap:
        """The matplotlib colormap named by :attr:`cmap`."""
        import matplotlib

        return matplotlib.colormaps[self.cmap]

    def rgba(self, values: Iterable[float] | npt.ArrayLike) -> npt.NDArray[np.float64]:
        """``(n, 4)`` float RGBA in 0–1; NaN values get transparent black."""
        v = np.asarray(values, dtype=float)
        out = np.asarray(self.colormap()(self.norm()(np.ma.masked_invalid(v))), dtype=float).reshape(-1, 4)
        out[~np.isfinite(v.ravel())] = 0.0
        return out

    def hex(self, values: Iterable[float] | npt.ArrayLike) -> list[str]:
        """``#rrggbb`` colour per value."""
        rgb = np.round(self.rgba(values)[:, :3] * 255).astype(np.int64)
        packed = (rgb[:, 0] << 16) | (rgb[:, 1] << 8) | rgb[:, 2]
        return [f"#{int(p):06x}" for p in packed]

    def band_labels(self) -> list[str]:
        """Labels of a banded scale: ``'< b0'``, ``'b0–b1'``, …, ``'≥ bn'``."""
        if self.bounds is None:
            return []
        b = [format_number(x) for x in self.bounds]
        return [f"< {b[0]}"] + [f"{lo}–{hi}" for lo, hi in zip(b[:-1], b[1:])] + [f"≥ {b[-1]}"]

    def band_values(self) -> npt.NDArray[np.float64]:
        """One representative value per band (for swatches)."""
        b = np.asarray(self.bounds, dtype=float)
        mids = (b[:-1] + b[1:]) / 2
        return np.concatenate([[b[0] - 1.0], mids, [b[-1] + 1.0]])

    def end_labels(self) -> tuple[str, str]:
        """The values printed at the ends of a continuous legend: ``≤ vmin`` and ``≥ vmax`` when the scale
        :attr:`extends`, a diverging scale's high end signed.

        Examples
        --------
        >>> ColorScale(-750.0, 750.0, extends=True).end_labels(), ColorScale(0.0, 1658.0).end_labels()
        (('≤ -750', '≥ +750'), ('0', '1,658'))
        """
        lo, hi = format_number(self.vmin), format_number(self.vmax)
        if self.is_diverging:
            hi = "+" + hi
        return (f"≤ {lo}", f"≥ {hi}") if self.extends else (lo, hi)

    def to_html(self, *, title: str | None = None, width_px: int = 220) -> str:
        """A small self-contained HTML legend (gradient bar or band swatches)."""
        title = self.label if title is None else title
        head = f"<div style='font:12px sans-serif;font-weight:600;margin-bottom:3px'>{html.escape(title, quote=False)}</div>"
        if self.bounds is not None:
            rows = "".join(
                f"<div style='display:flex;align-items:center;gap:6px;font:11px sans-serif'>"
                f"<span style='width:18px;height:10px;background:{c};display:inline-block'></span>{html.escape(t, quote=False)}</div>"
                for c, t in zip(self.hex(self.band_values()), self.band_labels())
            )
            body = rows
        else:
            stops = np.linspace(self.vmin, self.vmax, 9)
            grad = ", ".join(self.hex(stops))
            mid = "0" if self.is_diverging else format_number((self.vmin + self.vmax) / 2)
            lo, hi = self.end_labels()
            row = f"<div style='display:flex;justify-content:space-between;width:{width_px}px;font:11px sans-serif'>"
            body = (
                f"<div style='width:{width_px}px;height:12px;background:linear-gradient(to right, {grad})'></div>"
                f"{row}<span>{lo}</span><span>{mid}</span><span>{hi}</span></div>"
            )
            if self.ends:
                body += row + "".join(f"<span class='ldtkit-legend-end'>{html.escape(t, quote=False)}</span>" for t in self.ends) + "</div>"
        return f"<div class='ldtkit-legend' style='background:white;padding:6px 8px;border-radius:4px'>{head}{body}</div>"


def lden_scale(label: str = "Lden (dB)") -> ColorScale:
    """The Lden map scale: 5 dB bands from :data:`~ldtkit.model.limits.MAP_LDEN_BANDS_DB` (45–75 dB).

    Examples
    --------
    >>> lden_scale().bounds
    (45.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0)
    """
    return ColorScale.bands(MAP_LDEN_BANDS_DB, cmap="RdYlGn_r", label=label)


def no2_scale(*values: Iterable[float], label: str = "NO2 (µg/m³)") -> ColorScale:
    """A continuous NO2 scale up to at least the limit value :data:`~ldtkit.model.limits.NO2_LIMIT_UGM3` (40 µg/m³).

    It starts just below the lowest values (the 1st percentile, rounded down to 5 µg/m³;
    at most 10 below the limit) rather than at 0: a city's NO2 sits on a regional background
    of 15–30 µg/m³, and a scale from 0 spends most of its colours where no receptor is.

    Examples
    --------
    >>> s = no2_scale(np.array([26.0, 31.0, 48.0]))
    >>> s.vmin, s.vmax >= 40.0
    (25.0, True)
    """
    vmin, vmax = 0.0, NO2_LIMIT_UGM3
    v = _finite(np.concatenate([np.asarray(x, dtype=float).ravel() for x in values])) if values else np.array([])
    if len(v):
        vmax = max(vmax, float(np.quantile(v, 0.99)))
        vmin = min(max(0.0, 5.0 * np.floor(float(np.quantile(v, 0.01)) / 5.0)), NO2_LIMIT_UGM3 - 10.0)
    return ColorScale(float(vmin), vmax, cmap="YlOrRd", label=label)


#: What a map of scenario − baseline shows: the legend title, the ends in words, and how far the scale reaches
#: (``quantile`` of ``|change|`` over the changes above ``above``; see :meth:`ColorScale.diverging`).
ChangeOf = Literal["flow", "lden", "no2"]


@dataclass(frozen=True)
class _Change:
    label: str
    ends: tuple[str, str]
    quantile: float
    above: float


CHANGES: Final = MappingProxyType(
    {
        # roads: most roads do not change, and the closed road's own change is the largest; a scale to it left
        # every detour pale, so it reaches the 90th percentile of the roads that change by more than 100 veh/h
        "flow": _Change("Change in flow (veh/h)", ("less traffic", "more traffic"), 0.9, CHANGE_THRESHOLD_VPH),
        # receptor grids: the top 0.5 % of outliers are trimmed
        "lden": _Change("Change in Lden (dB)", ("quieter", "louder"), 0.995, 0.0),
        "no2": _Change("Change in NO₂ (µg/m³)", ("less NO₂", "more NO₂"), 0.995, 0.0),
    }
)


def change_scale(of: ChangeOf, *values: Iterable[float]) -> ColorScale:
    """The diverging scale of a map of scenario − baseline (:data:`CHANGES`), one across every scenario's ``values``.

    Blue is a decrease and red an increase; the legend says what each end means (``"less traffic"``,
    ``"quieter"``, ...) and its end values read ``≤``/``≥`` when larger changes take the end colours.

    Examples
    --------
    >>> s = change_scale("flow", np.r_[np.zeros(100), np.arange(101.0, 1001.0), -2986.0])
    >>> s.vmax < 1000.0, s.extends, s.ends
    (True, True, ('less traffic', 'more traffic'))
    """
    c = CHANGES[of]
    return ColorScale.diverging(*values, label=c.label, quantile=c.quantile, above=c.above, ends=c.ends)


def _finite(v: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return v[np.isfinite(v)]


def format_number(x: float) -> str:
    """A value as legends and class ranges print it: whole numbers with thousands separators, else 3 digits.

    Examples
    --------
    >>> format_number(45.0), format_number(-2.345), format_number(150.4)
    ('45', '-2.35', '150')
    """
    x = float(x)
    if abs(x) >= 100 or x == int(x):
        return f"{x:,.0f}"
    return f"{x:.3g}"


__all__ = ["CHANGES", "ChangeOf", "ColorScale", "change_scale", "format_number", "lden_scale", "no2_scale"]
