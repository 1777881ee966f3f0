"""The model options of a study run: which domains, convergence, grids (part of every cache key).

Examples
--------
>>> ModelOptions(models=("traffic", "noise")).inputs_key()
'{"air_cell_m": 50.0, "demand_scale": 1.0, "facade_spacing_m": 5.0, "models": ["traffic", "noise"], "noise_cell_m": 10.0}'
>>> ModelOptions(models=("trafic",))
Traceback (most recent call last):
...
ldtkit.errors.InvalidValueError: ModelOptions: unknown models ['trafic']; expected some of ['traffic', 'noise', 'air']; did you mean 'traffic'?
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from ldtkit._validate import closest, finite, finite_nonnegative
from ldtkit.errors import InvalidValueError

__all__ = ["MODELS", "ModelOptions", "OnDisconnected"]

MODELS = ("traffic", "noise", "air")
#: What a scenario that leaves OD pairs without a path does: stop, or assign the rest.
OnDisconnected = Literal["raise", "drop"]


@dataclass(frozen=True)
class ModelOptions:
    """Model parameters that change results (they are part of the cache key).

    Attributes
    ----------
    models
        Which domains to compute: any of ``"traffic"``, ``"noise"``, ``"air"`` (traffic always runs).
    gap
        Relative-gap target of every assignment.
    max_iter
        Iteration cap per assignment.
    demand_scale
        Multiplier on the city's demand (sensitivity runs).
    noise_cell_m, air_cell_m
        Receptor grid spacing over the focus area for noise and air maps.
    facade_spacing_m
        Façade receptor spacing (m) of a city with buildings, whose people are counted at façades (:mod:`ldtkit.study.facades`).
    on_disconnected
        ``"drop"`` (default): assign the rest and report the dropped trips in
        ``assignment.unassigned``; ``"raise"``: a scenario that leaves OD pairs without a path
        is an error listing them.
    """

    models: tuple[str, ...] = MODELS
    gap: float = 1e-4
    max_iter: int = 500
    demand_scale: float = 1.0
    noise_cell_m: float = 10.0
    air_cell_m: float = 50.0
    facade_spacing_m: float = 5.0
    on_disconnected: OnDisconnected = "drop"

    def __post_init__(self) -> None:
        where = "ModelOptions"
        unknown = [m for m in self.models if m not in MODELS]
        if unknown:
            near = closest(unknown, MODELS)
            hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
            raise InvalidValueError(f"{where}: unknown models {unknown}; expected some of {list(MODELS)}{hint}")
        if self.on_disconnected not in ("raise", "drop"):
            raise InvalidValueError(f"{where}: on_disconnected = {self.on_disconnected!r}; expected 'raise' or 'drop'")
        for name in ("gap", "demand_scale"):
            finite_nonnegative([getattr(self, name)], name=name, where=where)
        for name in ("noise_cell_m", "air_cell_m", "facade_spacing_m"):
            if not finite([getattr(self, name)], name=name, where=where)[0] > 0:
                raise InvalidValueError(f"{where}: {name} must be > 0, got {getattr(self, name)}")

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def inputs_key(self) -> str:
        """The options that shape the shared city inputs (network, demand, receptors)."""
        shaping = ("models", "demand_scale", "noise_cell_m", "air_cell_m", "facade_spacing_m")
        return json.dumps({k: v for k, v in asdict(self).items() if k in shaping}, sort_keys=True)
