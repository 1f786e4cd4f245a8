"""Statistics over time: per-night counts, their running totals, the calendar heatmap and the
statistics page, on a store holding many nights (the simulated asteroid's season: 51 nights)."""
import json

import pandas as pd
import pytest

from api.queries.stats import nightly_counts
from apps.components import stats_charts as SC
from conftest import make_config
from ingest.simulator import sso_track
from store import open_store


@pytest.fixture(scope="module")
def nights_app(tmp_path_factory):
    from index import create_app
    from ingest.night import ingest

    out = tmp_path_factory.mktemp("nights")
    truth = sso_track.write(out / "sim", seed=5)
    cfg = make_config("embedded", out)
    ingest(out / "sim" / "alerts", cfg, show_progress=False)
    return create_app(cfg), cfg, truth


def test_nightly_counts_cover_every_night_with_running_totals(nights_app):
    _, cfg, truth = nights_app
    with open_store(cfg) as store:
        nights = nightly_counts(store)
    assert len(nights) == truth["n_alerts"] // 2  # a g and an r detection every third night
    assert nights["night"].is_monotonic_increasing and (nights["night"].diff().dropna() == pd.Timedelta(days=3)).all()
    assert (nights["alerts"] == 2).all() and (nights["objects"] == 2).all()
    assert nights["cumulative_alerts"].tolist() == list(range(2, 2 * len(nights) + 1, 2))
    assert nights["cumulative_received"].iloc[-1] == truth["n_alerts"]


def test_calendar_puts_each_night_on_its_weekday_and_week():
    nights = pd.DataFrame({"night": pd.to_datetime(["2023-10-18", "2023-10-19", "2023-11-01"]),
                           "alerts": [5, 7, 11]})
    grid = SC.calendar(nights)
    assert grid["x"] == ["2023-10-16", "2023-10-23", "2023-10-30"]  # Mondays
    assert grid["z"][2][0] == 5 and grid["z"][3][0] == 7 and grid["z"][2][2] == 11  # Wednesdays, Thursday
    assert grid["text"][2][2] == "2023-11-01"
    assert sum(v is not None for row in grid["z"] for v in row) == 3  # other days stay empty


def test_statistics_page_shows_the_heatmap_and_cumulative_counts(nights_app):
    app, _, truth = nights_app
    client = app.test_client()
    body = {"output": "stats-body.children", "outputs": {"id": "stats-body", "property": "children"},
            "inputs": [{"id": "stats-trigger", "property": "data", "value": 0}], "state": [],
            "changedPropIds": ["stats-trigger.data"]}
    r = client.post("/_dash-update-component", json=body)
    assert r.status_code == 200
    page = json.dumps(r.get_json())
    assert "stats-calendar" in page and "stats-cumulative" in page and "stats-last" in page
    n = truth["n_alerts"] // 2
    assert f"{n} nights from 2023-08-28" in page and f"{truth['n_alerts']} alerts stored" in page


def test_no_night_no_charts():
    assert SC.over_time(pd.DataFrame(columns=["night", "alerts"])).children is None
