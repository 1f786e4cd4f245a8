"""The three cutouts of one Rubin alert, as <img> of the LSST API's PNG renderer (browser-fetched)."""
from __future__ import annotations

from urllib.parse import urlencode

from dash import html

from .cutouts import KINDS

RUBIN_API = "/lsst/api/v1"


def cutout_url(object_id: int | str, source_id: int | str, kind: str, stretch: str = "sigmoid",
               colormap: str = "Greys_r") -> str:
    return f"{RUBIN_API}/cutouts?" + urlencode({"diaObjectId": object_id, "diaSourceId": source_id, "kind": kind,
                                                "output-format": "png", "stretch": stretch, "colormap": colormap})


def cutouts(object_id: int | str, source_id: int | str | None, stretch: str = "sigmoid",
            colormap: str = "Greys_r") -> list:
    """The Science, Template and Difference stamps of alert ``source_id`` (None: a note that the
    object has no stored cutout)."""
    if not source_id:
        return [html.P("No cutout of this object is stored (only alerts carry cutouts).", className="muted small",
                       id="rubin-no-cutout")]
    return [html.Figure(className="cutout", children=[
        html.Img(src=cutout_url(object_id, source_id, kind, stretch, colormap),
                 alt=f"{kind} cutout of diaSource {source_id}", id={"type": "rubin-cutout-img", "kind": kind},
                 **{"data-source": str(source_id)}),
        html.Figcaption(kind),
    ]) for kind in KINDS]
