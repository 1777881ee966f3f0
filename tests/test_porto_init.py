"""Replicability: a city from nothing but an OSM extract (Porto), then a bridge closure."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np

from ldtkit.cli import main

ROOT = Path(__file__).resolve().parents[1]
PORTO_PBF = ROOT / "data" / "porto" / "porto.osm.pbf"

SCENARIO = """name = "luis-i-closed"
description = "Lower deck of Ponte Dom Luis I closed to motor traffic"

[[measures]]
action = "close"
street = "Ponte Dom Luís I (tabuleiro inferior)"
"""


def test_city_init_then_closing_ponte_luis_i_raises_flow_on_infante(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["city", "init", "porto_new", "--osm", str(PORTO_PBF)]) == 0
    assert (tmp_path / "porto_new" / "city.toml").exists()
    (tmp_path / "luis.toml").write_text(SCENARIO)
    assert main(["run", "porto_new", "--scenario", "luis.toml", "--models", "traffic", "--out", "out"]) == 0
    links = gpd.read_parquet(tmp_path / "out" / "porto_new" / "links.parquet")
    for suffix in ("", ".json"):
        assert (tmp_path / "out" / "porto_new" / f"links.gpkg{suffix}").exists()
    luis = links["name"].eq("Ponte Dom Luís I (tabuleiro inferior)").to_numpy()
    infante = links["name"].eq("Ponte Infante Dom Henrique").to_numpy()
    assert luis.any() and infante.any()
    assert links.loc[luis, "flow_vph_baseline"].min() > 0
    assert np.all(links.loc[luis, "flow_vph_luis-i-closed"] == 0)
    assert links.loc[infante, "flow_vph_luis-i-closed"].sum() > links.loc[infante, "flow_vph_baseline"].sum()
    # a second init refuses to overwrite the config
    assert main(["city", "init", "porto_new", "--osm", str(PORTO_PBF)]) == 1
    assert "exists already" in capsys.readouterr().err
