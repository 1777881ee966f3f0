"""The Ghent indicator table is pinned: restructuring the code must not change a number.

Results that change on purpose re-baseline ``fixtures/ghent_indicators_pin.csv`` in their own
commit, which says why.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ldtkit.study.city import load_city
from ldtkit.study.compare import indicators_table
from ldtkit.study.runner import run
from ldtkit.study.scenario import load_scenarios

PIN = Path(__file__).parent / "fixtures" / "ghent_indicators_pin.csv"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_ghent_indicator_table_equals_the_pinned_one():
    city = load_city("ghent")
    results = run(city, load_scenarios(city.root / "scenarios"), gap=1e-4, progress=False)
    got = indicators_table(results, watch=city.config.compare.watch).reset_index(names="indicator")
    want = pd.read_csv(PIN)
    assert list(got["indicator"]) == list(want["indicator"])
    assert list(got.columns) == list(want.columns)
    for col in want.columns[1:]:
        a, b = got[col].to_numpy(np.float64), want[col].to_numpy(np.float64)
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9 * np.abs(b).max(), err_msg=col)
