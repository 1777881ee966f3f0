"""Where ldtkit finds what it ships: the cities (``data/``) and the notebook templates.

In a checkout these are the top-level ``data/`` and ``templates/`` folders. In an installed
wheel they travel as package data and are found with :mod:`importlib.resources`.
``LDTKIT_DATA`` overrides the cities folder.

Examples
--------
>>> (shipped_cities_dir() / "ghent" / "city.toml").is_file()
True
>>> (templates_dir() / "voila.json").is_file()
True
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parent.parent


def _packaged(name: str) -> Path | None:
    """``ldtkit/_shipped/<name>`` inside an installed wheel, if it is there.

    ``pyproject.toml`` maps the top-level ``data/`` and ``templates/`` folders to these when it
    builds a wheel; a checkout or an editable install has no ``_shipped`` folder.
    """
    try:
        root = resources.files("ldtkit") / "_shipped" / name
    except ModuleNotFoundError:  # pragma: no cover - ldtkit itself always imports
        return None
    path = Path(str(root))
    return path if path.is_dir() else None


def shipped_cities_dir() -> Path:
    """The folder that holds the shipped city folders (``ghent/``, ``athens/``, ``porto/``)."""
    env = os.environ.get("LDTKIT_DATA")
    if env:
        return Path(env)
    return _packaged("data") or _CHECKOUT / "data"


def templates_dir() -> Path:
    """The folder with the Voila and nbconvert templates (``voila/``, ``nbconvert/``, ``voila.json``)."""
    return _packaged("templates") or _CHECKOUT / "templates"
