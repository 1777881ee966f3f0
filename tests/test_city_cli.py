"""City configs and the CLI entry points that do not need the models."""

from __future__ import annotations

import json

import pytest

from ldtkit.cli import main
from ldtkit.errors import ConfigError, InputFileNotFoundError, MissingFieldError, UnreadableFormatError
from ldtkit.study.city import load_city


def test_unknown_city_lists_the_shipped_ones():
    with pytest.raises(InputFileNotFoundError) as exc:
        load_city("atlantis")
    assert str(exc.value) == "no city folder 'atlantis' and no shipped city of that name (shipped: athens, ghent, porto)"
    with pytest.raises(InputFileNotFoundError, match=r"no city folder 'gnt' .*\(shipped: athens, ghent, porto\); did you mean 'ghent'\?$"):
        load_city("gnt")


def test_a_folder_without_city_toml_is_named(tmp_path):
    with pytest.raises(InputFileNotFoundError, match=rf"folder '{tmp_path}' has no city.toml and no shipped city of that name"):
        load_city(tmp_path)


def test_bad_city_toml_names_the_file_and_field(tmp_path):
    (tmp_path / "city.toml").write_text('name = "x"\n')
    with pytest.raises(MissingFieldError, match=r"city.toml: missing required field 'crs'"):
        load_city(tmp_path)
    (tmp_path / "city.toml").write_text('name = "x"\ncrs = \n')
    with pytest.raises(UnreadableFormatError, match=r"city.toml: cannot read as TOML"):
        load_city(tmp_path)
    (tmp_path / "city.toml").write_text('name = "x"\ncrs = "EPSG:31370"\n[network]\nsource = "shapefile"\n')
    with pytest.raises(ConfigError, match=r"city.toml: \[network\] source = 'shapefile'; expected one of .*did you mean 'shapefiles'"):
        load_city(tmp_path)
    (tmp_path / "city.toml").write_text('name = "x"\ncrs = "EPSG:31370"\n[network]\nsource = "osm"\npath = "nowhere.osm.pbf"\n')
    with pytest.raises(InputFileNotFoundError, match=r"nowhere.osm.pbf"):
        load_city(tmp_path).load_network()


def test_fingerprint_changes_with_a_named_file(tmp_path):
    (tmp_path / "roads.geojson").write_text("{}")
    (tmp_path / "city.toml").write_text(
        'name = "x"\ncrs = "EPSG:31370"\n[network]\nsource = "segments"\npath = "roads.geojson"\nmapping = { name = "straat" }\n'
    )
    a = load_city(tmp_path).fingerprint()
    (tmp_path / "roads.geojson").write_text('{"type": "FeatureCollection", "features": []}')
    assert load_city(tmp_path).fingerprint() != a


def test_cli_network_summary_ghent(capsys):
    assert main(["network", "summary", "ghent", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["strong_components"] == 1
    assert {"Rooigemlaan", "Palinghuizen"} <= set(out["bridges"])
    assert out["cleanup"]["car_links_dropped"] > 0  # what cleanup dropped is reported


def test_cli_reports_errors_without_traceback(capsys):
    assert main(["network", "summary", "atlantis"]) == 1
    assert "ldtkit: error: no city folder 'atlantis'" in capsys.readouterr().err


def test_every_public_name_resolves():
    import ldtkit

    missing = [n for n in ldtkit.__all__ if getattr(ldtkit, n, None) is None]
    assert not missing


def test_every_public_name_has_an_example():
    import inspect

    import ldtkit

    missing = [n for n in ldtkit.__all__ if "\nExamples\n--------\n" not in (inspect.getdoc(getattr(ldtkit, n)) or "")]
    assert not missing, f"public names without an Examples section: {missing}"


def test_cli_run_athens_reports_dropped_trips(tmp_path, monkeypatch, capsys):
    """The Great Walk cuts some zones off for heavy vehicles: reported by default, an error with --strict."""
    monkeypatch.chdir(tmp_path)
    assert main(["run", "athens", "--models", "traffic", "--out", "out", "--strict"]) == 1
    err = capsys.readouterr().err
    assert "have no path; the largest: " in err and "rerun without --strict" in err and "Traceback" not in err
    assert main(["run", "athens", "--models", "traffic", "--out", "out"]) == 0
    captured = capsys.readouterr()
    assert "trips/h dropped" in captured.out
    warned = [line for line in captured.err.splitlines() if line.startswith("ldtkit: warning:") and "have no path" in line]
    assert warned and all("the largest: " in w and "--strict" in w for w in warned), "the dropped pairs are said, not silent"
    assert (tmp_path / "out" / "athens" / "indicators.csv").exists()
