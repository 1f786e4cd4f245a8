"""Home and search: one search bar, example queries, results with a shareable URL (/?q=...)."""
from __future__ import annotations

from urllib.parse import quote

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from api import portal_gateway as G
from api import queries as q
from apps import search as S
from apps.callbacks import callback
from apps.components import results as R
from apps.components import rubin_results as RR
from apps.components.shell import loading
from science.identifiers import is_object_id

RUBIN_PLACEHOLDER = "diaObjectId · a cone: 'ra dec radius'"


def layout(q: str = "", survey: str = "", **_):  # noqa: A002 - the URL's own parameter names
    survey = "rubin" if survey == "rubin" else "ztf"  # the top bar's survey switch (apps/components/survey_switch.py)
    examples = S.rubin_examples(G.rubin_store_or_none()) if survey == "rubin" else S.examples(G.store_or_none())
    return html.Div(className="home", children=[
        html.Section(className="hero", children=[
            html.H1("Search the alert stream"),
            html.P("An objectId, a cone (ra dec radius — degrees or sexagesimal; radius in arcsec, or 30s, 1.5m, "
                   f"0.1d; {S.DEFAULT_RADIUS_ARCSEC:g}″ when omitted), a class, a night, a solar-system object, "
                   "or a name (an internal or TNS name, an asteroid, a star).", className="muted"),
            html.Div(className="searchbar", children=[
                dcc.Input(id="search-input", type="text", value=q, debounce=False, autoComplete="off",
                          placeholder=(" · ".join(examples.values()) or RUBIN_PLACEHOLDER) if survey == "rubin" else
                          (" · ".join(examples.values()) or "objectId · ra dec radius · class: <label>"),
                          list="search-suggestions", className="search-input", n_submit=0),
                html.Datalist(id="search-suggestions"),
                html.Button("Search", id="search-go", className="btn btn-primary", n_clicks=0),
            ]),
            html.Div(className="pickers", children=[
                dcc.Dropdown(id="class-picker", placeholder="…or pick a class", className="class-picker",
                             clearable=True, searchable=True),
                html.Div(className="examples", id="search-examples", children=[
                    html.Span("Examples: ", className="muted"),
                    *[dcc.Link(label, href=f"/?q={quote(text)}" + ("&survey=rubin" if survey == "rubin" else ""),
                               className="chip", title=text)
                      for label, text in examples.items()],
                ]),
            ]),
        ]),
        # the query goes to the survey's results (?survey=rubin: the Rubin tables, rubin_results below)
        dcc.Store(id="search-query", data="" if survey == "rubin" else q),
        dcc.Store(id="rubin-search-query", data=q if survey == "rubin" else ""),
        dcc.Store(id="search-survey", data=survey),
        dcc.Location(id="search-location", refresh="callback-nav"),
        loading(html.Div(id="search-results")),
        loading(html.Div(id="rubin-search-results")),
    ])


dash.register_page(__name__, path="/", name="Search", title="Nocturne — search alerts", order=0, layout=layout)


@callback(Output("search-location", "href"), Input("search-go", "n_clicks"), Input("search-input", "n_submit"),
          Input("class-picker", "value"), State("search-input", "value"), State("search-survey", "data"),
          prevent_initial_call=True)
def submit(_clicks, _submits, picked, text, survey=None):
    if ctx.triggered_id == "class-picker":
        if not picked:
            return no_update
        text = f"class: {picked}"
    return f"/?q={quote((text or '').strip())}" + ("&survey=rubin" if survey == "rubin" else "")


@callback(Output("search-suggestions", "children"), Input("search-input", "value"), prevent_initial_call=True)
def suggest(text):
    text = (text or "").strip()
    if len(text) < 5 or not text.upper().startswith("ZTF") or is_object_id(text):
        return []
    prefix = "ZTF" + text[3:]
    return [html.Option(value=oid) for oid in q.object_ids_starting_with(G.store(), prefix, 10)]


@callback(Output("class-picker", "options"), Input("search-query", "data"))
def class_options(_):
    groups = q.known_classes(G.store())
    return [{"label": f"{label}  ·  {group}", "value": label} for group, labels in groups.items() for label in labels]


@callback(Output("search-results", "children"), Input("search-query", "data"))
def show_results(text):
    if not text:
        return None
    try:
        search = S.parse(text)
        if search.kind == "diaObjectId":  # a Rubin id typed in the ZTF search
            return RR.results(search, G.rubin_store())
        found = S.find(G.store(), search)
    except (S.SearchError, G.Refused) as exc:
        return R.error(str(exc))
    return R.results(found, G.base_url())


@callback(Output("search-location", "href", allow_duplicate=True), Input("results-sky", "clickData"),
          prevent_initial_call=True)
def open_clicked(click):
    return R.clicked_object(click) or no_update


@callback(Output("rubin-search-results", "children"), Input("rubin-search-query", "data"))
def rubin_results(text):
    """Results of the Rubin search (the survey switch on Rubin): a diaObjectId (any integer) or a cone."""
    if not text:
        return None
    try:
        return RR.results(S.rubin_search(text, "rubin") or S.parse(text), G.rubin_store())
    except (S.SearchError, G.Refused) as exc:
        return R.error(str(exc))


@callback(Output("results-download", "data"), Input({"type": "results-dl", "fmt": ALL}, "n_clicks"),
          State("search-query", "data"), prevent_initial_call=True)
def download(clicks, text):
    if not any(clicks):
        return no_update
    fmt = ctx.triggered_id["fmt"]
    try:
        found = S.find(G.store(), S.parse(text))
    except S.SearchError:
        return no_update
    content, extension = G.render(fmt, found.alerts)
    return dcc.send_bytes(content, f"nocturne-{found.search.kind}.{extension}")
