"""Thresholds and bands that the models, indicators and maps share: one home each.

Noise bands are those of the Environmental Noise Directive's reporting (Directive 2002/49/EC,
Annex VI): people are counted per 5 dB band from Lden 55 dB and Lnight 50 dB. NO2 limit values
are annual means in µg/m³.

Examples
--------
>>> LDEN_BANDS_DB[0], LNIGHT_BANDS_DB[0]
(55, 50)
>>> NO2_LIMITS_UGM3["EU 2008"]
40.0
>>> MAP_LDEN_BANDS_DB[:3]
(45, 50, 55)
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

#: Lower edges of the END reporting bands for Lden (dB): 55-59, 60-64, 65-69, 70-74, >=75.
LDEN_BANDS_DB: Final[tuple[int, ...]] = (55, 60, 65, 70, 75)
#: Lower edges of the END reporting bands for Lnight (dB): 50-54, ..., >=70.
LNIGHT_BANDS_DB: Final[tuple[int, ...]] = (50, 55, 60, 65, 70)
#: END thresholds above which people count as exposed (the lowest reporting band).
END_LDEN_THRESHOLD_DB: Final[int] = LDEN_BANDS_DB[0]
END_LNIGHT_THRESHOLD_DB: Final[int] = LNIGHT_BANDS_DB[0]
#: Colour classes of Lden maps: the END bands, extended down to 45 dB so quieter streets show.
MAP_LDEN_BANDS_DB: Final[tuple[int, ...]] = (45, 50, *LDEN_BANDS_DB)

#: NO2 annual-mean limit and guideline values (µg/m³): the EU limit since 2010 (Directive
#: 2008/50/EC), the EU limit from 2030 (Directive (EU) 2024/2881) and the WHO 2021 guideline.
NO2_LIMITS_UGM3: Final = MappingProxyType({"EU 2008": 40.0, "EU 2030": 20.0, "WHO 2021": 10.0})
#: The limit in force today, used where one line is drawn (map scales, the default indicator).
NO2_LIMIT_UGM3: Final[float] = NO2_LIMITS_UGM3["EU 2008"]


def band_labels(quantity: str, lower_edges_db: tuple[int, ...]) -> list[str]:
    """Labels of 5 dB bands, the last open-ended, as exposure tables name them.

    Examples
    --------
    >>> band_labels("Lnight", LNIGHT_BANDS_DB)
    ['Lnight 50-54', 'Lnight 55-59', 'Lnight 60-64', 'Lnight 65-69', 'Lnight >=70']
    """
    return [f"{quantity} {lo}-{lo + 4}" for lo in lower_edges_db[:-1]] + [f"{quantity} >={lower_edges_db[-1]}"]
