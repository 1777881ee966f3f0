"""Modelled against measured concentrations as a figure: the scatter plot of an air-quality validation.

The statistics come from the model layer (:func:`ldtkit.model.air.validate_no2`); this module
only draws them.

Examples
--------
>>> ax = plot_validation([20.0, 30.0, 40.0], [22.0, 29.0, 41.0])
>>> ax.get_xlabel(), ax.get_ylabel()
('measured (ug/m3)', 'modelled (ug/m3)')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ldtkit.model.air import validate_no2

if TYPE_CHECKING:  # matplotlib loads when a figure is drawn
    import matplotlib.axes


def plot_validation(
    modelled: Sequence[float] | npt.NDArray[np.float64],
    measured: Sequence[float] | npt.NDArray[np.float64],
    *,
    ax: matplotlib.axes.Axes | None = None,
    title: str = "NO2: modelled vs measured",
    unit: str = "ug/m3",
) -> matplotlib.axes.Axes:
    """Scatter plot of modelled against measured with the 1:1 line and the statistics.

    Parameters
    ----------
    modelled, measured
        Paired values (pairs with a NaN are left out of the statistics).
    ax
        Axes to draw on; a new 5 x 5 inch figure when ``None``.
    title, unit
        Title of the axes and unit of both axis labels.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with n, Pearson r, mean bias and RMSE written in the top left corner.

    Examples
    --------
    >>> ax = plot_validation([20.0, 30.0, 40.0], [22.0, 29.0, 41.0], title="three points")
    >>> ax.get_title()
    'three points'
    """
    import matplotlib.pyplot as plt

    stats = validate_no2(modelled, measured)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    m = np.asarray(modelled, float)
    o = np.asarray(measured, float)
    ax.scatter(o, m, s=10, alpha=0.6)
    lo = float(np.nanmin([o.min(), m.min()]))
    hi = float(np.nanmax([o.max(), m.max()]))
    ax.plot([lo, hi], [lo, hi], "k--", lw=1, label="1:1")
    ax.set_xlabel(f"measured ({unit})")
    ax.set_ylabel(f"modelled ({unit})")
    ax.set_title(title)
    ax.text(
        0.03,
        0.97,
        f"n = {stats['n']}\nr = {stats['pearson_r']:.2f}\nbias = {stats['mean_bias_ugm3']:+.1f}\nRMSE = {stats['rmse_ugm3']:.1f}",
        transform=ax.transAxes,
        va="top",
        fontsize=9,
    )
    ax.legend(loc="lower right")
    return ax
