"""Traffic per link and period: the hand-over from assignment to the noise and air models.

Noise (Lday/Levening/Lnight → Lden) and air quality (period means) need hourly
flows per vehicle class and speeds on every link for each period of the day.
:class:`LinkTraffic` carries one period; a ``dict[str, LinkTraffic]`` keyed by
``"day"`` (07–19), ``"evening"`` (19–23) and ``"night"`` (23–07) carries a day.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ldtkit._validate import finite_nonnegative
from ldtkit.errors import InvalidValueError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: The END periods and their hours: Lden weights them 12/4/8.
PERIODS: dict[str, int] = {"day": 12, "evening": 4, "night": 8}

#: Vehicle classes modelled, and the link column that says whether a class may use a link.
CLASS_PERMISSION: dict[str, str] = {"light": "car_allowed", "heavy": "hgv_allowed"}


@dataclass(frozen=True)
class LinkTraffic:
    """Hourly-average traffic on every link for one period.

    All arrays are aligned with ``link_id`` (the network's links, in order).

    Examples
    --------
    >>> import numpy as np
    >>> t = LinkTraffic(np.array([1, 2]), np.array([100., 0.]), np.array([10., 0.]), np.array([50., 30.]))
    >>> t.total_vph.tolist()
    [110.0, 0.0]
    """

    link_id: npt.NDArray[np.int64]
    light_vph: npt.NDArray[np.float64]
    heavy_vph: npt.NDArray[np.float64]
    speed_kmh: npt.NDArray[np.float64]  # mean congested speed on the link

    def __post_init__(self) -> None:
        n = len(self.link_id)
        for name in ("light_vph", "heavy_vph", "speed_kmh"):
            arr = np.asarray(getattr(self, name), dtype=np.float64)
            if arr.shape != (n,):
                raise InvalidValueError(f"LinkTraffic.{name}: expected shape ({n},), got {arr.shape}")
            object.__setattr__(self, name, finite_nonnegative(arr, name=name, where="LinkTraffic", ids=np.asarray(self.link_id)))

    @property
    def total_vph(self) -> npt.NDArray[np.float64]:
        """Light plus heavy vehicles per hour."""
        return self.light_vph + self.heavy_vph

    def to_dataframe(self) -> pd.DataFrame:
        """One row per link: ``link_id``, ``light_vph``, ``heavy_vph``, ``speed_kmh``.

        Examples
        --------
        >>> LinkTraffic(np.array([4]), np.array([1.0]), np.array([0.0]), np.array([30.0])).to_dataframe().columns.tolist()
        ['link_id', 'light_vph', 'heavy_vph', 'speed_kmh']
        """
        import pandas as pd

        return pd.DataFrame(
            {"link_id": self.link_id, "light_vph": self.light_vph, "heavy_vph": self.heavy_vph, "speed_kmh": self.speed_kmh}
        )
