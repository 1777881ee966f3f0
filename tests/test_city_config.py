"""The typed city configuration: one parse of ``city.toml``, every key checked, documented once."""

from __future__ import annotations

import dataclasses
import inspect
import shutil
from pathlib import Path

import pytest

from ldtkit.cli import main
from ldtkit.errors import ConfigError, InvalidValueError, MissingFieldError
from ldtkit.study.city import load_city
from ldtkit.study.config import (
    CityConfigError,
    ConnectorsConfig,
    ExternalConfig,
    NetworkConfig,
    NoiseConfig,
    parse_city_config,
    reference_markdown,
)
from ldtkit.study.config.sections import CELL_M_BY_ZONING, SNAP_TOLERANCE_M_BY_SOURCE, DemandConfig

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = 'name = "x"\ncrs = "EPSG:31370"\n'


def _city(tmp_path: Path, text: str) -> Path:
    (tmp_path / "city.toml").write_text(MINIMAL + text)
    return tmp_path


def _defaults(func) -> dict:
    return {n: p.default for n, p in inspect.signature(func).parameters.items() if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name", ["ghent", "athens", "porto"])
def test_shipped_cities_parse_without_problems(name):
    city = load_city(name)
    assert city.config.name == city.name == name
    assert city.config.network is not None and city.config.demand is not None
    assert city.config.demand.cell_m == {"ghent": 1000.0, "athens": 400.0, "porto": 500.0}[name]
    assert hash(city) == hash(load_city(name)) and city == load_city(name)  # frozen, hashable, compared by folder


def test_resolved_values_of_ghent():
    cfg = load_city("ghent").config
    assert cfg.network.snap_tolerance_m == 0.5 and cfg.network.mapping["bridge"] == {"column": "kenmerk", "value": "Brug"}
    assert cfg.demand.external.source == "gateways" and cfg.demand.external.boundary_buffer_m == {"0": 1500.0, "1": 500.0, "2": 300.0}
    assert cfg.demand.population_total == 265000.0 and isinstance(cfg.demand.population_total, float)
    assert cfg.focus.bbox == (3.685, 51.030, 3.755, 51.075)
    assert cfg.air.background_no2_ugm3 == 26.0
    assert set(cfg.compare.watch) == {"Rooigemlaan bridge (R40)", "Palinghuizen bridge (R40)"}
    assert load_city("athens").config.demand.external.source == "network_zones"


def test_unknown_key_names_file_section_and_closest_key(tmp_path):
    _city(tmp_path, "[noise]\ncutof_m = 2000\n")
    with pytest.raises(ConfigError, match=r"city.toml: \[noise\] unknown key 'cutof_m'; did you mean 'cutoff_m'\?"):
        load_city(tmp_path)
    _city(tmp_path, "nmae = 'y'\n")
    with pytest.raises(ConfigError, match=r"city.toml: unknown top-level key 'nmae'; did you mean 'name'\?"):
        load_city(tmp_path)
    _city(tmp_path, "[air]\nbackground_no2 = 20.0\n")
    with pytest.raises(ConfigError, match=r"\[air\] unknown key 'background_no2'; did you mean 'background_no2_ugm3'\?"):
        load_city(tmp_path)


def test_values_are_checked_for_type_and_range(tmp_path):
    _city(tmp_path, "[noise]\nground_g = 1.5\n")
    with pytest.raises(InvalidValueError, match=r"city.toml: \[noise\] ground_g = 1.5; expected a number in \[0, 1\]"):
        load_city(tmp_path)
    _city(tmp_path, '[noise]\ncutoff_m = "far"\n')
    with pytest.raises(InvalidValueError, match=r"\[noise\] cutoff_m = 'far'; expected a number > 0 \(m\)"):
        load_city(tmp_path)
    _city(tmp_path, '[noise]\nmethod = "exakt"\n')
    with pytest.raises(InvalidValueError, match=r"method = 'exakt'; expected one of 'table', 'exact'; did you mean 'exact'\?"):
        load_city(tmp_path)
    _city(tmp_path, "[focus]\nbbox = [3.7, 51.1, 3.6, 51.0]\n")
    with pytest.raises(InvalidValueError, match=r"\[focus\] bbox = \[3.7, 51.1, 3.6, 51.0\]; expected \[lon_min"):
        load_city(tmp_path)
    _city(tmp_path, "[air]\nwind_sector_freq = [1.0, 1.0, 1.0, 1.0]\n")
    with pytest.raises(InvalidValueError, match=r"city.toml: \[air\] wind_sector_freq"):
        load_city(tmp_path)


def test_missing_keys_and_keys_that_do_not_fit_the_source(tmp_path):
    _city(tmp_path, '[network]\nsource = "segments"\npath = "roads.geojson"\n')
    with pytest.raises(MissingFieldError, match=r"city.toml: missing required field 'network.mapping'"):
        load_city(tmp_path)
    _city(tmp_path, '[network]\nsource = "osm"\npath = "x.osm.pbf"\nsnap_tolerance_m = 1.0\n')
    with pytest.raises(ConfigError, match=r"\[network\] key 'snap_tolerance_m' does not apply to source 'osm'"):
        load_city(tmp_path)
    _city(tmp_path, "[compare.watch]\nbridge = { stret = 'Rooigemlaan' }\n")
    with pytest.raises(CityConfigError) as err:
        load_city(tmp_path)
    assert "unknown key 'stret'; did you mean 'street'?" in str(err.value) and "selects nothing" in str(err.value)


def test_several_problems_are_listed_together(tmp_path):
    _city(tmp_path, '[demand]\nzoning = "grid"\ntotal_vhp = 3\nheavy_share = 2\nmean_trip_km = 2.0\n[noise]\nground_g = -1\n')
    with pytest.raises(CityConfigError) as err:
        load_city(tmp_path)
    text = [str(p) for p in err.value.problems]
    assert any("unknown key 'total_vhp'; did you mean 'total_vph'?" in t for t in text)
    assert any("heavy_share = 2; expected a number in [0, 1)" in t for t in text)
    assert any("ground_g = -1" in t for t in text)
    assert any("'demand.total_vph'" in t for t in text)
    assert isinstance(err.value, ConfigError)


def test_one_bad_value_does_not_hide_the_rest():
    raw = {"name": "x", "crs": "EPSG:3857", "noise": {"ground_g": 5, "cutof_m": 1}, "focus": {"bbox": [1, 2]}}
    cfg, problems = parse_city_config(raw, source="x.toml")
    assert len(problems) == 3 and cfg is not None and cfg.noise.ground_g == NoiseConfig().ground_g


def test_defaults_are_the_model_functions_defaults():
    from ldtkit.model.demand import generate_demand
    from ldtkit.model.loaders.osm import network_from_osm
    from ldtkit.model.loaders.segments import network_from_segments
    from ldtkit.model.loaders.shapefiles import network_from_shapefiles
    from ldtkit.model.noise import compute_noise, noise_propagation
    from ldtkit.model.zones import (
        connect_zones,
        external_zones,
        zones_from_blocks,
        zones_from_corine,
        zones_from_network_grid,
        zones_from_osm_buildings,
    )

    noise = dataclasses.asdict(NoiseConfig())
    # where the buildings and the terrain come from is read by the runner (compute_noise takes them themselves)
    assert noise.pop("buildings") == "auto" and noise.pop("block_height_m") > 0 and noise.pop("terrain") is None
    for func in (compute_noise, noise_propagation):
        d = _defaults(func)
        assert {k: v for k, v in noise.items() if k in d} == {k: d[k] for k in noise if k in d}
    assert set(noise) <= set(_defaults(compute_noise))
    connectors = dataclasses.asdict(ConnectorsConfig())
    reattach = connectors.pop("reattach_max_walk_m", None)  # used by reattach_connectors, not connect_zones
    assert connectors.items() <= {**_defaults(connect_zones), "exclude_road_classes": ()}.items()
    if reattach is not None:
        from ldtkit.model.zones.connectors import reattach_connectors

        assert reattach == _defaults(reattach_connectors)["max_walk_m"]
    ext = {k: v for k, v in dataclasses.asdict(ExternalConfig()).items() if k in _defaults(external_zones)}
    assert ext == {k: _defaults(external_zones)[k] for k in ext}
    net = NetworkConfig(source="osm")
    for func in (network_from_osm, network_from_segments, network_from_shapefiles):
        d = _defaults(func)
        for key in ("include_service", "keep_non_car", "cleanup", "default_direction", "split_at_junctions", "capacity_is_per_lane"):
            if key in d:
                assert getattr(net, key) == d[key], (func.__name__, key)
    assert {
        "segments": _defaults(network_from_segments)["snap_tolerance_m"],
        "shapefiles": _defaults(network_from_shapefiles)["snap_tolerance_m"],
    } == SNAP_TOLERANCE_M_BY_SOURCE
    zoning = {
        "corine": zones_from_corine,
        "blocks": zones_from_blocks,
        "osm_buildings": zones_from_osm_buildings,
        "grid": zones_from_network_grid,
    }
    assert {k: _defaults(f)["cell_m"] for k, f in zoning.items()} == CELL_M_BY_ZONING
    assert {_defaults(f)["min_activity"] for f in zoning.values()} == {1.0}
    g = _defaults(generate_demand)
    fields = {f.name: f.default for f in dataclasses.fields(DemandConfig)}
    for key in ("external_share", "through_share", "heavy_external_factor", "hourly_profile"):
        assert fields[key] == g[key], key


def test_the_committed_reference_is_the_generated_one():
    doc = (ROOT / "docs" / "city-config.md").read_text(encoding="utf-8")
    assert doc == reference_markdown(), "docs/city-config.md is stale: python -m ldtkit.study.config > docs/city-config.md"
    assert "python -m ldtkit.study.config > docs/city-config.md" in doc


def test_every_key_of_the_shipped_cities_is_documented():
    doc = reference_markdown()
    for name in ("ghent", "athens", "porto"):
        for section, table in load_city(name).toml.items():
            keys = table if isinstance(table, dict) else {section: table}
            for key in keys:
                assert f"`{key}`" in doc, (name, section, key)


def test_cli_city_check_prints_every_value(capsys):
    assert main(["city", "check", "porto"]) == 0
    out = capsys.readouterr().out
    assert "no problems" in out
    for line in ('source = "osm"', "include_service = true", "ground_g = 0.5", "n_connectors = 2", "m2_per_resident = 40.0"):
        assert line in out, line  # defaults included
    assert "snap_tolerance_m" not in out  # keys of other network sources are not shown


def test_cli_city_check_lists_the_problems(tmp_path, capsys):
    _city(tmp_path, '[network]\nsource = "osm"\npath = "missing.osm.pbf"\n[noise]\ncutof_m = 1\nground_g = 9\n')
    assert main(["city", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "4 problems" in out
    assert "[noise] unknown key 'cutof_m'; did you mean 'cutoff_m'?" in out
    assert "ground_g = 9" in out
    assert "missing.osm.pbf" in out  # files are checked too
    assert "'demand'" in out  # ldtkit run needs a [demand] table


def test_cli_city_check_gives_a_missing_key_the_line_of_its_table(tmp_path, capsys):
    _city(tmp_path, '[network]\nsource = "osm"\npath = "x.osm.pbf"\n\n[demand]\nmean_trip_km = 4\ncell_m = -1\n')
    (tmp_path / "x.osm.pbf").write_bytes(b"")
    assert main(["city", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        "missing required field 'demand.zoning' (expected one of 'corine', 'blocks', 'osm_buildings', 'grid') (in [demand], line 7)" in out
    )
    assert "missing required field 'demand.total_vph'" in out and out.count("(in [demand], line 7)") == 3
    assert "[demand] cell_m = -1; expected a number > 0 (m) (line 9)" in out
    with pytest.raises(CityConfigError, match=r"missing required field 'demand.zoning' .*\(in \[demand\], line 7\)"):
        load_city(tmp_path)


def test_road_class_defaults_of_a_segment_file_need_speed_lanes_and_capacity(tmp_path, capsys):
    _city(
        tmp_path,
        '[network]\nsource = "segments"\npath = "roads.geojson"\nmapping = { road_class = "frc" }\n'
        '[network.road_class_defaults]\n"3" = { speed_kmh = 50, capacity_per_lane_vph = 900 }\n"4" = { speed_kmh = 30, lanes = 1 }\n',
    )
    (tmp_path / "roads.geojson").write_text("{}")
    assert main(["city", "check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert (
        "missing required field 'network.road_class_defaults.3.lanes' (expected a number > 0 (lanes per direction)) (in [network.road_class_defaults.3], line 8)"
        in out
    )
    assert "missing required field 'network.road_class_defaults.4.capacity_per_lane_vph'" in out and "line 9)" in out
    # an OpenStreetMap network only overrides some values of its classes
    _city(tmp_path, '[network]\nsource = "osm"\npath = "x.osm.pbf"\n[network.road_class_defaults]\nprimary = { lanes = 3 }\n')
    (tmp_path / "x.osm.pbf").write_bytes(b"")
    main(["city", "check", str(tmp_path)])
    assert "field 'network.road_class_defaults" not in capsys.readouterr().out


def test_cli_city_check_on_a_copied_city_with_a_typo(tmp_path, capsys):
    d = tmp_path / "athens"
    shutil.copytree(load_city("athens").root, d, ignore=shutil.ignore_patterns("*.shp", "*.dbf", "*.shx", "scenarios"))
    text = (d / "city.toml").read_text()
    (d / "city.toml").write_text(text.replace("cell_m = 400.0", "cel_m = 400.0"))
    assert main(["city", "check", str(d)]) == 1
    out = capsys.readouterr().out
    assert "[demand] unknown key 'cel_m'; did you mean 'cell_m'?" in out
