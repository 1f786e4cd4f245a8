"""The three cutouts of one alert, as <img> of the API's PNG renderer (browser-fetched)."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import html

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
