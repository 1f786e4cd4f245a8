"""The sky view: Aladin Lite with our objects drawn as a catalogue over HiPS sky images.

Dash draws a ``div.sky-view`` whose ``data-sky`` attribute holds the view as JSON (centre,
field of view, image survey, the points); ``assets/sky.js`` finds such divs, loads Aladin
Lite from ``/assets/vendor/aladin-lite/`` (fetched at install time by ``scripts/aladin.sh``)
and draws them, or says why it cannot: Aladin Lite not installed, no WebGL2 in the browser,
or the sky images unreachable (offline: the points stay, on a plain background).
No callback is needed, so the component goes on any page.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from dash import html

from api import portal_gateway as G
from api import queries as q

ALADIN_JS = Path(__file__).resolve().parents[2] / "assets" / "vendor" / "aladin-lite" / "aladin.js"
#: at most this many points go to the browser (the nearest to the centre are kept)
MAX_POINTS = 2000
NEIGHBOURHOOD_ARCSEC = 300.0


def installed() -> bool:
    return ALADIN_JS.is_file()


def view_payload(points: pd.DataFrame, ra: float, dec: float, fov_deg: float, images: str,
                 highlight: str | None = None) -> dict:
    """What the browser draws: ``points`` has objectId, ra, dec and optionally label."""
    pts = points.dropna(subset=["ra", "dec"]).head(MAX_POINTS)
    labels = pts["label"].fillna("") if "label" in pts else pd.Series("", index=pts.index)
    return {"ra": float(ra), "dec": float(dec), "fov": float(fov_deg), "images": images,
            "highlight": highlight or "",
            "points": [{"id": str(o), "ra": round(float(r), 7), "dec": round(float(d), 7), "label": str(lab)}
                       for o, r, d, lab in zip(pts["objectId"], pts["ra"], pts["dec"], labels)]}


def field_of_view(ra: np.ndarray, dec: np.ndarray, ra0: float, dec0: float) -> float:
    """A field of view (degrees) that holds every point around (ra0, dec0), with a margin."""
    if not len(ra):
        return 0.1
    sep = q.angular_distance(ra0, dec0, np.asarray(ra, float), np.asarray(dec, float))
    return float(min(180.0, max(2.4 * float(np.nanmax(sep)), 1.0 / 60)))


def centre(ra: np.ndarray, dec: np.ndarray) -> tuple[float, float]:
    """The mean direction of the points (unit vectors averaged: right across ra = 0)."""
    r, d = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    x, y, z = (np.cos(d) * np.cos(r)).mean(), (np.cos(d) * np.sin(r)).mean(), np.sin(d).mean()
    return math.degrees(math.atan2(y, x)) % 360.0, math.degrees(math.atan2(z, math.hypot(x, y)))


def sky_view(view_id: str, payload: dict, caption: str) -> html.Div:
    """The sky view's box; ``assets/sky.js`` fills it in the browser."""
    if not installed():
        body = html.P("The sky view is off: Aladin Lite is not installed on this server "
                      "(./run.sh setup fetches it with npm).", className="sky-message", role="status")
    else:
        body = html.Div(className="sky-canvas", **{"data-sky": json.dumps(payload)})
    return html.Div(id=view_id, className="sky-view card", children=[
        body, html.P(caption, className="muted small sky-caption")])


def results_sky(rows: pd.DataFrame) -> html.Div:
    """The search results' objects in Aladin Lite (``rows``: the results table)."""
    ra0, dec0 = centre(rows["ra"], rows["dec"])
    payload = view_payload(rows.rename(columns={"class": "label"}), ra0, dec0,
                           field_of_view(rows["ra"].to_numpy(), rows["dec"].to_numpy(), ra0, dec0),
                           G.config().sky_images)
    return sky_view("results-aladin", payload, f"{len(payload['points'])} objects on the sky. "
                    + images_note(G.config().sky_images))


def neighbourhood(store, object_id: str, ra: float, dec: float,
                  radius_arcsec: float = NEIGHBOURHOOD_ARCSEC) -> html.Div:
    """The object and every object stored within ``radius_arcsec`` around it."""
    near = q.conesearch(store, ra, dec, radius_arcsec, n=MAX_POINTS)
    rows = pd.DataFrame({"objectId": near.get("i:objectId", pd.Series(dtype=str)),
                         "ra": near.get("i:ra", pd.Series(dtype=float)),
                         "dec": near.get("i:dec", pd.Series(dtype=float)),
                         "label": near.get("v:classification", pd.Series("", index=near.index))})
    if object_id not in set(rows["objectId"]):
        rows = pd.concat([pd.DataFrame({"objectId": [object_id], "ra": [ra], "dec": [dec], "label": [""]}), rows])
    payload = view_payload(rows, ra, dec, 2.4 * radius_arcsec / 3600, G.config().sky_images, highlight=object_id)
    others = len(payload["points"]) - 1
    return sky_view("object-aladin", payload,
                    f"{object_id} (circled) and {others} other object{'s' if others != 1 else ''} stored within "
                    f"{radius_arcsec:.0f}″. " + images_note(G.config().sky_images))


def images_note(images: str) -> str:
    if not images:
        return "No sky images are configured (setting sky_images): the objects are drawn on a plain background."
    return f"Sky images: {images} (fetched by your browser; without the internet only our objects are drawn)."
