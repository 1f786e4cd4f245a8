"""The Rubin object page's side cards: the latest diaObject's key fields, Fink's classifications
and tags, links elsewhere, and the API calls and downloads of the object's data."""
from __future__ import annotations

import math
from urllib.parse import quote, urlencode

import pandas as pd
from dash import html

from apps.search import curl_snippet, python_snippet

from .object_info import catalogue_links
from .rubin_cutouts import RUBIN_API
from .rubin_lightcurve import BANDS
from .shell import code_block

#: Fink's CATS broad classes (f:clf_cats_class, f:main_label_classifier)
CATS_CLASSES = {11: "SN-like", 12: "Fast transient", 13: "Long transient", 21: "Periodic", 22: "Non-periodic",
                -1: "not run"}
SUMMARY = (("r:ra", "ra [deg]"), ("r:dec", "dec [deg]"), ("r:nDiaSources", "diaSources"),
           ("r:firstDiaSourceMjdTai", "first diaSource [MJD TAI]"),
           ("r:lastDiaSourceMjdTai", "last diaSource [MJD TAI]"),
           ("r:validityStartMjdTai", "valid from [MJD TAI]"), ("r:diaSourceId", "newest alert (diaSourceId)"),
           ("r:midpointMjdTai", "newest alert [MJD TAI]"), ("r:observation_reason", "observation reason"),
           ("r:target_name", "target"))
FLAGS = (("f:is_sso", "solar system"), ("f:is_first", "first detection"), ("f:is_cataloged", "cataloged"))
OBJECT_VALUES = (("f:main_label_crossmatch", "main cross-match label"), ("f:xm_simbad_otype", "SIMBAD type"),
                 ("f:xm_tns_fullname", "TNS name"), ("f:xm_tns_type", "TNS type"),
                 ("f:firstDiaSourceMjdTaiFink", "first detection (Fink) [MJD TAI]"))
ALERT_SCORES = (("f:clf_snnSnVsOthers_score", "SuperNNova SN vs others"), ("f:clf_earlySNIa_score", "early SN Ia"),
                ("f:clf_elephant_kstest_science", "ELEPHANT hostless (science)"),
                ("f:clf_elephant_kstest_template", "ELEPHANT hostless (template)"),
                ("f:xm_gaiadr3_DR3Name", "Gaia DR3"), ("f:xm_vsx_Type", "VSX type"), ("f:xm_gcvs_type", "GCVS type"),
                ("f:xm_legacydr8_zphot", "Legacy DR8 photo-z"), ("f:xm_mangrove_HyperLEDA_name", "Mangrove host"))


def text(value) -> str:
    """A cell as text: '' for a missing value, floats to 10 significant digits."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def _rows(pairs) -> html.Table:
    return html.Table(html.Tbody([html.Tr([html.Th(label), html.Td(value)]) for label, value in pairs if value != ""]))


def summary(obj: pd.Series) -> html.Div:
    """The key fields of the object's newest diaObject and its per-band mean fluxes."""
    bands = []
    for b in BANDS:
        mean, err, n = (obj.get(f"r:{b}_psfFluxMean"), obj.get(f"r:{b}_psfFluxMeanErr"), obj.get(f"r:{b}_psfFluxNdata"))
        if text(mean) or text(n) not in ("", "0"):
            bands.append(html.Tr([html.Td(b), html.Td(text(n)),
                                  html.Td(f"{text(mean)} ± {text(err)}" if text(mean) else ""),
                                  html.Td(text(obj.get(f"r:{b}_fpFluxMean"))),
                                  html.Td(text(obj.get(f"r:{b}_scienceFluxMean")))]))
    return html.Div(className="rubin-summary", id="rubin-summary", children=[
        html.H3("diaObject (newest)"),
        _rows((label, text(obj.get(col))) for col, label in SUMMARY),
        html.H4("Per band [nJy]") if bands else None,
        html.Div(className="scroll", children=html.Table(className="band-table", children=[
            html.Thead(html.Tr([html.Th(h) for h in ("band", "N", "psfFlux mean", "forced mean", "science mean")])),
            html.Tbody(bands)])) if bands else None,
    ])


def badges(obj: pd.Series, tags: list[str]) -> html.Div:
    """The header's badges: Fink's class, position, counts, tags."""
    cats = obj.get("f:main_label_classifier")
    items = [("Fink class", CATS_CLASSES.get(int(cats), str(cats)) if text(cats) else "—", "badge-class"),
             ("ra, dec", f"{obj['r:ra']:.6f}, {obj['r:dec']:+.6f}", ""),
             ("diaSources", text(obj.get("r:nDiaSources")) or "?", "")]
    crossmatch = text(obj.get("f:main_label_crossmatch"))
    if crossmatch and crossmatch not in ("Unknown", "Fail", "nan"):
        items.append(("cross-match", crossmatch, "badge-xmatch"))
    items += [("tag", tag, "badge-xmatch") for tag in tags]
    return html.Div(className="badges", id="rubin-badges", children=[
        html.Span(className=f"badge {cls}", children=[html.Span(label, className="badge-label"), value])
        for label, value, cls in items])


def classification(obj: pd.Series, alert: pd.Series | None, tags: list[str]) -> html.Div:
    """Fink's values: the object's (objects table, f:) and its newest alert's scores, and the tags
    its alerts carry (each linking to the API's list of that tag's alerts)."""
    cats = obj.get("f:main_label_classifier")
    cats_text = f"{CATS_CLASSES.get(int(cats), str(cats))} ({int(cats)})" if text(cats) else ""
    score = text(obj.get("f:clf_cats_score"))
    pairs = [("CATS class", cats_text + (f" · score {float(score):.3f}" if score else ""))]
    pairs += [(label, text(obj.get(col))) for col, label in OBJECT_VALUES]
    pairs += [(label, text(obj.get(col))) for col, label in FLAGS]
    if alert is not None:
        pairs += [(label, text(alert.get(col))) for col, label in ALERT_SCORES]
    return html.Div(id="rubin-classification", children=[
        html.H3("Fink classification"),
        _rows(pairs),
        html.H4("Tags"),
        html.Div([html.A(tag, href=f"{RUBIN_API}/tags?" + urlencode({"tag": tag}), className="chip rubin-tag",
                         style={"marginRight": ".3rem"}) for tag in tags]
                 or html.Span("No Fink tag on this object's alerts.", className="muted small")),
        html.P(f"Versions: fink-broker {text(obj.get('f:fink_broker_version'))}, fink-science "
               f"{text(obj.get('f:fink_science_version'))}, alert schema {text(obj.get('f:lsst_schema_version'))}",
               className="muted small"),
    ])


def external_links(object_id: int, ra: float, dec: float) -> html.Ul:
    links = {"Fink (LSST)": f"https://lsst.fink-portal.org/{quote(str(object_id))}", **catalogue_links(ra, dec)}
    return html.Ul(className="links", children=[
        html.Li(html.A(name, href=url, target="_blank", rel="noopener noreferrer")) for name, url in links.items()])


def downloads(object_id: int, base_url: str) -> html.Div:
    """Links to the LSST API's answers for the object (what a script would call), and the code."""
    params = {"diaObjectId": str(object_id)}
    rows = []
    for route, label in (("sources", "diaSources"), ("fp", "forced photometry"), ("objects", "diaObject")):
        rows.append(html.Div(className="downloads", children=[html.Span(f"{label}: ", className="muted")] + [
            html.A(fmt.upper() if fmt != "parquet" else "Parquet", className="btn btn-small",
                   id=f"rubin-dl-{route}-{fmt}", download=f"{object_id}_{route}.{fmt}",
                   href=f"{RUBIN_API}/{route}?" + urlencode({**params, "output-format": fmt}))
            for fmt in ("json", "csv", "parquet")]))
    return html.Div(className="object-downloads", id="rubin-downloads", children=[
        *rows,
        html.Details(className="api-calls", children=[
            html.Summary("Copy as Python / curl"),
            code_block(python_snippet(base_url.rstrip("/") + "/lsst", "sources", params), "rubin-python"),
            code_block(curl_snippet(base_url.rstrip("/") + "/lsst", "sources", params), "rubin-curl"),
        ]),
    ])
