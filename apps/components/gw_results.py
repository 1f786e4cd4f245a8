"""Gravitational-wave counterparts: the objects a sky map's credible region holds around the
event, for ZTF or Rubin (the queries of the API's ``skymap`` routes), as a summary, a sky
plot of the region and the objects, a table linking to their pages, and the API call that
answers the same rows."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

import dash_ag_grid as dag
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from astropy.time import Time
from cdshealpix import nested
from dash import dcc, html

from api.queries import rubin as qr
from api.queries import skymap as ztf_skymap
from apps import search as S
from science.skymap import Skymap, SkymapError, read_skymap, sky_fraction

from .results import error, linked_grid
from .shell import code_block

MAX_MAP_BYTES = 16 * 1024 * 1024  # a bayestar map is 0.2-10 MB; the API takes up to 64 MB
MAX_ROWS = 1000  # objects shown (table and plot), as the search results; the API gives them all
MAX_CELLS_DRAWN = 5_000  # drawn as SVG points: the portal's plotly.js is the cartesian bundle (no WebGL traces)
SKY_DEG2 = 4 * np.pi * (180 / np.pi) ** 2


class MapRefused(ValueError):
    """The upload is not a sky map the search can use; the message says why."""


@dataclass(frozen=True)
class Counterparts:
    survey: str          # ztf | rubin
    rows: pd.DataFrame   # one row per object, as the table shows them (the newest MAX_ROWS)
    total: int           # objects found
    event: str           # DATE-OBS, ISO UTC
    level: float
    area_deg2: float
    window: tuple[float, float]  # days before, after
    cells: tuple[np.ndarray, np.ndarray]  # the region's cell centres (ra, dec), at most MAX_CELLS_DRAWN


def read_upload(contents: str | None) -> Skymap:
    """The sky map of a ``dcc.Upload``'s contents (``data:...;base64,...``)."""
    if not contents:
        raise MapRefused("drop or choose a sky map first (bayestar.fits.gz: flat or multi-order HEALPix, "
                         "gzipped or not)")
    try:
        data = base64.b64decode(contents.partition(",")[2], validate=True)
    except (binascii.Error, ValueError):
        raise MapRefused("the upload could not be read (not base64 data)") from None
    if len(data) > MAX_MAP_BYTES:
        raise MapRefused(f"the map is larger than {MAX_MAP_BYTES // 2**20} MB")
    try:
        sky = read_skymap(data)
    except SkymapError as exc:
        raise MapRefused(f"not a sky map this portal reads: {exc}") from None
    if sky.event_jd is None:
        raise MapRefused("the map's header has no DATE-OBS nor MJD-OBS: the event's time is needed")
    return sky


def find(store, survey: str, sky: Skymap, level: float, before: float, after: float) -> Counterparts:
    """The counterparts of ``sky``'s ``level`` region in ``survey``'s ``store`` (under the
    caller's time budget)."""
    if survey == "rubin":
        found = qr.skymap_alerts(store, sky, level, qr.event_mjd_tai(sky.event_jd), before, after).to_frame()
        rows = _rubin_rows(found)
    else:
        found = ztf_skymap.skymap_alerts(store, sky, level, sky.event_jd, before, after)
        rows = _ztf_rows(found, sky.event_jd)
    depth, ipix = sky.region(level)
    return Counterparts(survey, rows.head(MAX_ROWS), len(rows), Time(sky.event_jd, format="jd", scale="utc").isot[:19], level,
                        sky_fraction(depth) * SKY_DEG2, (before, after),
                        _centres(depth, ipix))


def _ztf_rows(found: pd.DataFrame, event_jd: float) -> pd.DataFrame:
    if found.empty:
        return pd.DataFrame()
    rows = S.summarise(found)
    days = found.set_index("i:objectId")["i:jd"].groupby(level=0).max() - event_jd
    return rows.assign(**{"days after event": rows["objectId"].map(days).round(3)})


def _rubin_rows(found: pd.DataFrame) -> pd.DataFrame:
    if found.empty:
        return pd.DataFrame()
    found = found[found["r:diaObjectId"] != 0]  # solar-system alerts have no object page
    if found.empty:
        return pd.DataFrame()
    return pd.DataFrame({
        "diaObjectId": found["r:diaObjectId"].astype(str),
        "newest alert [MJD]": found["r:midpointMjdTai"].round(5),
        "days after event": (found["r:midpointMjdTai"] - found["v:startgwMjdTai"]).round(3),
        "first detection [MJD]": pd.to_numeric(found["f:firstDiaSourceMjdTaiFink"], errors="coerce").round(5),
        "band": found["r:band"], "psfFlux [nJy]": found["r:psfFlux"].round(1),
        "ra": found["r:ra"].round(6), "dec": found["r:dec"].round(6)}).reset_index(drop=True)


def _centres(depth: np.ndarray, ipix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The centres of the region's cells (a regular sample of them past MAX_CELLS_DRAWN)."""
    if not len(depth):
        return np.array([]), np.array([])
    pick = np.linspace(0, len(depth) - 1, min(len(depth), MAX_CELLS_DRAWN)).astype(np.int64)
    ra, dec = [], []
    for d in np.unique(depth[pick]):
        cells = ipix[pick][depth[pick] == d]
        lon, lat = nested.healpix_to_lonlat(cells.astype(np.uint64), int(d))
        ra.append(lon.deg)
        dec.append(lat.deg)
    return np.concatenate(ra), np.concatenate(dec)


def results(found: Counterparts, base_url: str) -> html.Div:
    """The summary, the sky plot, the table and the API call of a search."""
    n = found.total
    what = "Rubin object" if found.survey == "rubin" else "ZTF object"
    shown = f"; the newest {len(found.rows):,} are shown, the API call below gives them all" if n > len(found.rows) else ""
    head = html.Div(className="results-head", children=[
        html.H2(f"{n:,} {what}{'s' if n != 1 else ''}", id="gw-count"),
        html.Span(f"in the {found.level:.0%} credible region ({found.area_deg2:,.1f} deg²), alerts from "
                  f"{found.window[0]:g} day(s) before to {found.window[1]:g} day(s) after the event "
                  f"({found.event} UTC); the newest alert of each object{shown}", className="muted", id="gw-summary"),
    ])
    children = [head, dcc.Graph(id="gw-sky", figure=_sky_figure(found), config={"displaylogo": False,
                                                                                  "responsive": True})]
    if n:
        children.append(html.Div(_table(found), className="results-table"))
    else:
        children.append(html.P("No object with an alert in this region and window among those held here.",
                               className="empty"))
    children.append(html.Details(className="api-calls", children=[
        html.Summary("The same search through the API"), code_block(_curl(found, base_url), "gw-curl")]))
    return html.Div(className="results", children=children)


def _sky_figure(found: Counterparts) -> go.Figure:
    fig = go.Figure()
    ra, dec = found.cells
    fig.add_trace(go.Scatter(x=ra, y=dec, mode="markers", name=f"{found.level:.0%} region (cell centres)",
                               marker={"size": 3, "color": "rgba(120,120,140,0.35)"}, hoverinfo="skip"))
    rows = found.rows
    if len(rows):
        ident = "diaObjectId" if found.survey == "rubin" else "objectId"
        fig.add_trace(go.Scatter(x=rows["ra"], y=rows["dec"], mode="markers", name="objects",
                                 text=rows[ident], marker={"size": 8, "color": rows["days after event"],
                                                           "colorscale": "Viridis", "showscale": True,
                                                           "colorbar": {"title": "days after"}},
                                 hovertemplate="%{text}<br>ra %{x:.5f}<br>dec %{y:.5f}<extra></extra>"))
    fig.update_layout(margin={"l": 50, "r": 10, "t": 10, "b": 40}, height=380, template="plotly_white",
                      legend={"orientation": "h", "y": -0.2}, xaxis={"title": "ra [deg]", "autorange": "reversed"},
                      yaxis={"title": "dec [deg]"}, hovermode="closest")
    return fig


def _table(found: Counterparts) -> dag.AgGrid:
    ident, path = ("diaObjectId", "/lsst/") if found.survey == "rubin" else ("objectId", "/")
    return linked_grid("gw-grid", found.rows, ident, path, 170)


def _curl(found: Counterparts, base_url: str) -> str:
    prefix = "/lsst/api/v1" if found.survey == "rubin" else "/api/v1"
    return (f"curl -F file=@bayestar.fits.gz -F credible_level={found.level:g} -F n_day_before={found.window[0]:g} "
            f"-F n_day_after={found.window[1]:g} -F output-format=csv {base_url.rstrip('/')}{prefix}/skymap")

