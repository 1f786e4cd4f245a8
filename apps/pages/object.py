"""The object page, /<objectId>: badges, then tabs Summary · Supernova · Variable star · Microlensing.

The layout reads the object once (alerts and upper limits) and renders the Summary tab in
full, so the first render needs no further callback; callbacks redraw the light curve,
the cutouts and the alert table when the user changes units, options or the epoch. A
click on a point that is not an alert (upper limit, bad quality) gets a line saying so.

A science tab's layout is rendered the first time the tab is opened and kept: returning
to it shows its settings and last result as they were, without running the fit again;
its inputs also persist per object for the browser session. Only that first render shows
the loading indicator: a fit in progress shows the tab's own status line, with the
controls and the previous result in place.
"""
from __future__ import annotations

import dash
from dash import Input, Output, State, dcc, html, no_update

from api import portal_gateway as G
from api import queries as q
from apps.callbacks import callback
from apps.components import analyses as AN
from apps.components import annotations as N
from apps.components import classification as K
from apps.components import cutouts as C
from apps.components import lightcurve as LC
from apps.components import notebook_button
from apps.components import object_info as O
from apps.components.shell import loading
from apps.pages.not_found_404 import not_found
from apps.science_tabs import microlensing, sky, solar_system, supernova, varstar
from apps.science_tabs._common import open_once
from science.identifiers import OBJECT_ID

SCIENCE_TABS = {"supernova": ("Supernova", supernova), "varstar": ("Variable star", varstar),
                "microlensing": ("Microlensing", microlensing), "sky": ("Sky", sky),
                "sso": ("Solar System", solar_system)}


def title(object_id: str = "") -> str:
    return f"{object_id} · Nocturne"


def layout(object_id: str = "", **_):
    if not OBJECT_ID.match(object_id or ""):
        return not_found(f"/{object_id}")
    store = G.store()
    alerts = q.objects(store, [object_id])
    if alerts.empty:
        return not_found_object(object_id, store)
    last = alerts.iloc[-1]
    forced = q.forced_points(store, object_id, missing_ok=True)
    phot = LC.photometry(alerts, q.objects(store, [object_id], withupperlim=True), forced)
    summary = html.Div(className="summary", children=[
        html.Div(className="summary-main", children=[
            html.Div(className="card lc-card", children=[
                html.Div(className="lc-controls", children=[
                    dcc.RadioItems(id="lc-unit", value="diff", inline=True, className="radio",
                                   options=[{"label": label, "value": v} for v, label in LC.UNITS.items()]),
                    dcc.Checklist(id="lc-show", value=["upperlim", "badquality"], inline=True, className="radio",
                                  options=[{"label": "upper limits", "value": "upperlim"},
                                           {"label": "bad quality", "value": "badquality"},
                                           {"label": f"forced photometry ({len(forced)})", "value": LC.FORCED,
                                            "disabled": forced.empty},
                                           {"label": "g − r panel", "value": "color"}]),
                ]),
                dcc.Graph(id="lc-graph", figure=LC.figure(phot, selected=int(last["i:candid"])),
                          config={"displaylogo": False, "responsive": True}),
                html.P("Click a detection to show its cutouts and fields.", className="muted small"),
                html.P(id="lc-pick-note", className="lc-pick-note small", role="status", **{"aria-live": "polite"}),
            ]),
            html.Div(className="card", children=[
                C.controls(),
                html.Div(C.cutouts(object_id, int(last["i:candid"])), id="cutouts", className="cutouts"),
            ]),
            K.card(alerts),
        ]),
        html.Div(className="summary-side", children=[
            html.Div(O.alert_table(last), id="alert-fields", className="card"),
            html.Div(className="card", children=[html.H3("Elsewhere"), O.external_links(object_id, last["i:ra"], last["i:dec"])]),
            html.Div(className="card", children=[html.H3("Data"),
                                                 O.downloads(object_id, G.config().api_url, not forced.empty),
                                                 notebook_button.object_button()]),
            AN.card(object_id),
        ]),
    ])
    tabs = [dcc.Tab(label="Summary", value="summary", children=summary, className="tab", selected_className="tab-on")]
    tabs += [dcc.Tab(label=label, value=key, className="tab", selected_className="tab-on",
                     disabled=key == "sso" and not solar_system.ssnamenr_of(alerts),  # asteroids only
                     children=loading(html.Div(id=f"tab-{key}"), target={f"tab-{key}": "children"}))
             for key, (label, _) in SCIENCE_TABS.items()]
    return html.Div(className="object", children=[
        dcc.Store(id="object-id", data=object_id),
        dcc.Store(id="object-phot", data=phot),
        dcc.Store(id="tabs-drawn", data=[]),  # the science tabs already rendered (kept as they are)
        dcc.Store(id="object-candid", data=str(int(last["i:candid"]))),  # a string: JS numbers cannot hold candids
        html.Div(className="object-head", children=[html.H1(object_id, id="object-title"), O.badges(alerts)]),
        dcc.Tabs(id="object-tabs", value="summary", children=tabs, className="tabs"),
        N.panel(object_id),
    ])


dash.register_page(__name__, path_template="/<object_id>", name="Object", title=title, order=99, layout=layout)


def not_found_object(object_id: str, store):
    near = q.object_ids_starting_with(store, object_id[:8], 5)
    hint = [html.P("Objects with a similar id:"), html.Ul([html.Li(dcc.Link(o, href=f"/{o}")) for o in near])] \
        if near else []
    return not_found(f"/{object_id}", f"No alert of {object_id} is stored here.", hint)


@callback(Output("lc-graph", "figure"), Input("lc-unit", "value"), Input("lc-show", "value"),
          State("object-candid", "data"), State("object-phot", "data"), prevent_initial_call=True)
def redraw(unit, show, candid, phot):
    return LC.figure(phot, unit, tuple(show or ()), "color" in (show or ()), int(candid))


@callback(Output("lc-graph", "figure", allow_duplicate=True), Input("object-candid", "data"),
          State("lc-unit", "value"), State("lc-show", "value"), State("object-phot", "data"), prevent_initial_call=True)
def mark_pick(candid, unit, show, phot):
    """Moves the ring to the picked alert and nothing else: a full redraw would undo the user's zoom."""
    return LC.pick_patch(phot, unit, tuple(show or ()), int(candid))


@callback(Output("object-candid", "data"), Output("lc-pick-note", "children"), Input("lc-graph", "clickData"),
          prevent_initial_call=True)
def pick_epoch(click):
    point = ((click or {}).get("points") or [{}])[0]
    note = LC.pick_note(point)
    if note is not None:
        return no_update, note
    custom = point.get("customdata")
    return (str(custom[0]), "") if custom else (no_update, no_update)


@callback(Output("cutouts", "children"), Input("object-candid", "data"), Input("cutout-stretch", "value"),
          Input("cutout-colormap", "value"), State("object-id", "data"), prevent_initial_call=True)
def show_cutouts(candid, stretch, colormap, object_id):
    return C.cutouts(object_id, int(candid), stretch, colormap)


@callback(Output("alert-fields", "children"), Input("object-candid", "data"), State("object-id", "data"),
          prevent_initial_call=True)
def show_alert(candid, object_id):
    alerts = q.objects(G.store(), [object_id])
    picked = alerts[alerts["i:candid"] == int(candid)]
    return O.alert_table(picked.iloc[0]) if len(picked) else no_update


@callback([Output(f"tab-{key}", "children") for key in SCIENCE_TABS], Output("tabs-drawn", "data"),
          Input("object-tabs", "value"), State("object-id", "data"), State("tabs-drawn", "data"),
          prevent_initial_call=True)
def science_tab(tab, object_id, drawn):
    """The opened tab's layout, the first time only: a tab already drawn keeps its state."""
    return open_once(SCIENCE_TABS, tab, drawn, lambda module: module.layout(object_id))
