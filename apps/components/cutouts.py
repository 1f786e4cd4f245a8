"""The three cutouts of one alert, as <img> of the API's PNG renderer (browser-fetched)."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import dcc, html

KINDS = ("Science", "Template", "Difference")
STRETCHES = ("sigmoid", "linear", "sqrt", "log")
COLORMAPS = ("Greys_r", "viridis", "magma", "cividis", "coolwarm")


def cutout_url(object_id: str, candid: int, kind: str, stretch: str = "sigmoid", colormap: str = "Greys_r") -> str:
    return "/api/v1/cutouts?" + urlencode({"objectId": object_id, "candid": candid, "kind": kind,
                                           "stretch": stretch, "colormap": colormap})


def cutouts(object_id: str, candid: int, stretch: str = "sigmoid", colormap: str = "Greys_r") -> list:
    return [html.Figure(className="cutout", children=[
        html.Img(src=cutout_url(object_id, candid, kind, stretch, colormap), alt=f"{kind} cutout of alert {candid}",
                 id={"type": "cutout-img", "kind": kind}, **{"data-candid": str(candid)}),
        html.Figcaption(kind),
    ]) for kind in KINDS]


def controls() -> html.Div:
    """The stretch and colour-map choices, each with a visible label that is also its accessible name.

    Dash's Dropdown names its button by ``aria-labelledby="<id>-value-count <id>-value"``
    and draws an element ``<id>-value-count`` only for multiple choices, so a label with
    that id names a single-choice dropdown: "Stretch sigmoid", read as label then value.
    """
    def choice(id_: str, label: str, options, value: str) -> html.Div:
        return html.Div(className="cutout-choice", children=[
            html.Label(label, id=f"{id_}-value-count", htmlFor=id_, className="cutout-label"),
            dcc.Dropdown(id=id_, options=list(options), value=value, clearable=False, searchable=False),
        ])
    return html.Div(className="cutout-controls", children=[
        choice("cutout-stretch", "Stretch", STRETCHES, "sigmoid"),
        choice("cutout-colormap", "Colour map", COLORMAPS, "Greys_r"),
    ])
