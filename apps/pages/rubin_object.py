"""The Rubin object page, /lsst/<diaObjectId>: badges, the light curve over ugrizy (detections
and forced photometry, flux or AB magnitude), the cutouts of a chosen alert, the newest
diaObject, Fink's classification and tags, links and downloads (the Summary tab); then the
science tabs Supernova · Variable star · Microlensing, the ZTF page's tabs run on the Rubin
fits through their survey seam (:mod:`apps.science_tabs.survey`), each drawn the first time
it is opened and kept.

The path sits under /lsst (as the LSST API under /lsst/api/v1), so a shared URL names its
survey and no diaObjectId can be read as a ZTF objectId. The layout reads the object once
(four reads: objects, sources, fp, the cutouts' keys) and renders everything; callbacks
redraw the light curve and the cutouts when the user changes a toggle or picks an alert.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html, no_update

from api import portal_gateway as G
from api.queries import rubin as qr
from apps.callbacks import callback
from apps.components import notebook_button
from apps.components import rubin_cutouts as RC
from apps.components import rubin_lightcurve as RL
from apps.components import rubin_object_info as RI
from apps.components.cutouts import COLORMAPS, STRETCHES
from apps.components.shell import loading
from apps.pages.not_found_404 import not_found
from apps.science_tabs import microlensing, supernova, varstar
from apps.science_tabs._common import open_once
from apps.science_tabs.survey import RUBIN
from science.rubin_tags import tags_of_alerts

PATH = "/lsst"
SOURCE_COLUMNS = ["r:diaSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:psfFluxErr", "r:scienceFlux",
                  "r:scienceFluxErr", "f:tags"] + [col for col, _ in RI.ALERT_SCORES]
FP_COLUMNS = ["r:diaForcedSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:psfFluxErr", "r:scienceFlux",
              "r:scienceFluxErr"]
SCIENCE_TABS = {"supernova": ("Supernova", supernova), "varstar": ("Variable star", varstar),
                "microlensing": ("Microlensing", microlensing)}


def object_path(object_id: int | str) -> str:
    """The page of a Rubin object (what links and the search bar lead to)."""
    return f"{PATH}/{object_id}"


def title(dia_object_id: str = "") -> str:
    return f"LSST {dia_object_id} · Nocturne"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def object_tags(sources) -> list[str]:
    """The Fink tags any of the object's alerts carries (science.rubin_tags.tags_of_alerts)."""
    return tags_of_alerts(sources.get("f:tags", []))


def read_light_curve(store, object_id: int):
    """The object's diaSources, forced sources, and the diaSourceIds of its alerts (with cutouts)."""
    sources = qr.history(store, "sources", [object_id], SOURCE_COLUMNS)
    fp = qr.history(store, "fp", [object_id], FP_COLUMNS)
    return sources, fp, [str(s) for s in qr.cutout_sources(store, object_id)]


def layout(dia_object_id: str = "", **_):
    ids, _refused = qr.object_ids([dia_object_id or ""])
    if not ids or not (dia_object_id or "").isdigit():
        return not_found(object_path(dia_object_id), f"{dia_object_id!r} is not a diaObjectId (an integer).")
    object_id = ids[0]
    try:
        store = G.rubin_store()
    except G.Refused as exc:
        return not_found(object_path(object_id), f"No Rubin data here: {exc}")
    found = qr.objects(store, [object_id])
    if found.empty:
        return not_found(object_path(object_id), f"No Rubin object {object_id} is stored here.")
    obj = found.iloc[0]
    sources, fp, alerts = read_light_curve(store, object_id)
    newest = sources[sources["r:diaSourceId"] == obj["r:diaSourceId"]] if len(sources) else sources
    tags = object_tags(sources) if len(sources) else []
    phot = RL.photometry(sources, fp, alerts)
    selected = alerts[0] if alerts else ""
    main = html.Div(className="summary-main", children=[
        html.Div(className="card lc-card", children=[
            html.Div(className="lc-controls", children=[
                dcc.RadioItems(id="rubin-lc-unit", value="flux", inline=True, className="radio",
                               options=[{"label": label, "value": v} for v, label in RL.UNITS.items()]),
                dcc.RadioItems(id="rubin-lc-flux", value="psfFlux", inline=True, className="radio",
                               options=[{"label": label, "value": v} for v, label in RL.FLUXES.items()]),
                dcc.Checklist(id="rubin-lc-show", value=list(RL.KINDS), inline=True, className="radio",
                              options=[{"label": label, "value": v} for v, label in RL.KINDS.items()]),
            ]),
            loading(dcc.Graph(id="rubin-lc-graph", figure=RL.figure(phot, selected=selected),
                              config={"displaylogo": False, "responsive": True})),
            html.P(f"{_count(len(sources), 'diaSource')} ({_count(len(alerts), 'alert')} with cutouts, ringed) and "
                   f"{_count(len(fp), 'forced source')}. Click a ringed detection to show its cutouts.",
                   className="muted small", id="rubin-lc-counts"),
        ]),
        html.Div(className="card", children=[
            html.Div(className="cutout-controls", children=[
                dcc.Dropdown(id="rubin-cutout-stretch", options=list(STRETCHES), value="sigmoid", clearable=False),
                dcc.Dropdown(id="rubin-cutout-colormap", options=list(COLORMAPS), value="Greys_r", clearable=False),
            ]),
            html.P(f"diaSource {selected}" if selected else "", id="rubin-cutout-source", className="muted small"),
            html.Div(RC.cutouts(object_id, selected), id="rubin-cutouts", className="cutouts"),
        ]),
    ])
    side = html.Div(className="summary-side", children=[
        html.Div(RI.summary(obj), className="card"),
        html.Div(RI.classification(obj, newest.iloc[0] if len(newest) else None, tags), className="card"),
        html.Div(className="card", children=[html.H3("Elsewhere"),
                                             RI.external_links(object_id, obj["r:ra"], obj["r:dec"])]),
        html.Div(className="card", children=[html.H3("Data"), RI.downloads(object_id, G.config().api_url),
                                             notebook_button.object_button("rubin-object")]),
    ])
    return html.Div(className="object rubin-object", children=[
        dcc.Store(id="rubin-object-id", data=str(object_id)),  # strings: JS numbers cannot hold 64-bit ids
        dcc.Store(id="rubin-source", data=selected),
        html.Div(className="object-head", children=[
            html.H1(["LSST ", html.Span(str(object_id), id="rubin-object-title")]), RI.badges(obj, tags)]),
        dcc.Tabs(id="rubin-object-tabs", value="summary", className="tabs", children=[
            dcc.Tab(label="Summary", value="summary", className="tab", selected_className="tab-on",
                    children=html.Div(className="summary", children=[main, side])),
            *[dcc.Tab(label=label, value=key, className="tab", selected_className="tab-on",
                      children=loading(html.Div(id=f"rubin-tab-{key}"), target={f"rubin-tab-{key}": "children"}))
              for key, (label, _) in SCIENCE_TABS.items()]]),
        dcc.Store(id="rubin-tabs-drawn", data=[]),  # the science tabs already rendered (kept as they are)
    ])


dash.register_page(__name__, path_template=f"{PATH}/<dia_object_id>", name="Rubin object", title=title, order=90,
                   layout=layout)


@callback(Output("rubin-lc-graph", "figure"), Input("rubin-lc-unit", "value"), Input("rubin-lc-flux", "value"),
          Input("rubin-lc-show", "value"), Input("rubin-source", "data"), State("rubin-object-id", "data"),
          prevent_initial_call=True)
def redraw(unit, flux, show, source, object_id):
    """The light curve in other units or with other points: the photometry is read again (a few
    ms) rather than kept in the page, where it would double what the first visit downloads."""
    phot = RL.photometry(*read_light_curve(G.rubin_store(), int(object_id)))
    return RL.figure(phot, unit, flux, tuple(show or ()), source)


@callback(Output("rubin-source", "data"), Input("rubin-lc-graph", "clickData"), prevent_initial_call=True)
def pick_source(click):
    """An alert's diaSourceId when a detection with cutouts is clicked; other points change nothing."""
    custom = ((click or {}).get("points") or [{}])[0].get("customdata")
    return str(custom[0]) if custom and len(custom) == 3 and custom[1] == "det" and custom[2] else no_update


@callback(Output("rubin-cutouts", "children"), Output("rubin-cutout-source", "children"),
          Input("rubin-source", "data"), Input("rubin-cutout-stretch", "value"),
          Input("rubin-cutout-colormap", "value"), State("rubin-object-id", "data"), prevent_initial_call=True)
def show_cutouts(source, stretch, colormap, object_id):
    return RC.cutouts(object_id, source, stretch, colormap), (f"diaSource {source}" if source else "")


@callback([Output(f"rubin-tab-{key}", "children") for key in SCIENCE_TABS], Output("rubin-tabs-drawn", "data"),
          Input("rubin-object-tabs", "value"), State("rubin-object-id", "data"), State("rubin-tabs-drawn", "data"),
          prevent_initial_call=True)
def science_tab(tab, object_id, drawn):
    """The opened tab's layout (the ZTF page's tab, on the Rubin fits), the first time only."""
    if not qr.object_ids([str(object_id or "")])[0]:
        return open_once(SCIENCE_TABS, "", drawn, None)  # not a diaObjectId: nothing to draw
    return open_once(SCIENCE_TABS, tab, drawn, lambda module: module.layout(object_id, RUBIN))
