"""The object page's header badges, alert-field table, external links and downloads."""
from __future__ import annotations

import math
from urllib.parse import quote, urlencode

import pandas as pd
from dash import html

from apps.search import curl_snippet, python_snippet
from science.bands import ZTF_FID

from .shell import code_block


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def badges(alerts: pd.DataFrame) -> html.Div:
    """Class, first/last detection, number of detections, ra/dec, cross-match labels."""
    last = alerts.iloc[-1]
    items = [("class", _text(last.get("d:classification")) or "—", "badge-class"),
             ("first detection", _text(last.get("v:firstdate")) or _text(alerts["v:lastdate"].iloc[0]), ""),
             ("last detection", _text(last.get("v:lastdate")), ""),
             ("detections", _text(last.get("i:ndethist")) or str(len(alerts)), ""),
             ("alerts here", str(len(alerts)), ""),
             ("ra, dec", f"{last['i:ra']:.6f}, {last['i:dec']:+.6f}", "")]
    for col, label in (("d:cdsxmatch", "SIMBAD"), ("d:tnsclass", "TNS"), ("d:gcvs", "GCVS"), ("d:vsx", "VSX")):
        value = _text(last.get(col))
        if value and value not in ("Unknown", "Fail", "nan"):
            items.append((label, value, "badge-xmatch"))
    if _text(last.get("i:ssnamenr")) not in ("", "null"):
        items.append(("solar system", _text(last.get("i:ssnamenr")), "badge-xmatch"))
    return html.Div(className="badges", id="object-badges", children=[
        html.Span(className=f"badge {cls}", children=[html.Span(label, className="badge-label"), value])
        for label, value, cls in items])


def alert_table(alert: pd.Series) -> html.Div:
    """Every non-empty field of one alert (i: candidate, d: added values)."""
    rows = [html.Tr([html.Th(name), html.Td(_text(value))]) for name, value in alert.items()
            if name[:2] in ("i:", "d:", "v:") and _text(value) not in ("", "[]", "{}")]
    title = f"Alert {int(alert['i:candid'])} · {_text(alert.get('v:lastdate'))} · " \
            f"{ZTF_FID.get(int(alert['i:fid']), '?')} band"
    return html.Div(className="alert-fields", children=[html.H3(title, id="alert-title"),
                                                        html.Div(html.Table(html.Tbody(rows)), className="scroll")])


def catalogue_links(ra: float, dec: float) -> dict[str, str]:
    """Name → URL of a 5″ search around (ra, dec) in TNS, SIMBAD and NED (either survey)."""
    coords = f"{ra:.6f} {dec:+.6f}"
    return {
        "TNS (5″)": "https://www.wis-tns.org/search?" + urlencode({"ra": ra, "decl": dec, "radius": 5,
                                                                   "coords_unit": "arcsec"}),
        "SIMBAD (5″)": "https://simbad.cds.unistra.fr/simbad/sim-coo?" + urlencode(
            {"Coord": coords, "Radius": 5, "Radius.unit": "arcsec"}),
        "NED (5″)": "https://ned.ipac.caltech.edu/conesearch?" + urlencode(
            {"coordinates": coords, "radius": 0.0833, "in_csys": "Equatorial", "in_equinox": "J2000"}),
    }


def external_links(object_id: str, ra: float, dec: float) -> html.Ul:
    coords = f"{ra:.6f} {dec:+.6f}"
    links = {
        **catalogue_links(ra, dec),
        "ZTF (IRSA)": "https://irsa.ipac.caltech.edu/cgi-bin/Gator/nph-scan?" + urlencode(
            {"catalog": "ztf_objects_dr22", "spatial": "cone", "objstr": coords, "radius": 5}),
        "Fink": f"https://fink-portal.org/{quote(object_id)}",
        "ALeRCE": f"https://alerce.online/object/{quote(object_id)}",
        "Lasair": f"https://lasair-ztf.lsst.ac.uk/objects/{quote(object_id)}/",
    }
    return html.Ul(className="links", children=[
        html.Li(html.A(name, href=url, target="_blank", rel="noopener noreferrer")) for name, url in links.items()])


def downloads(object_id: str, base_url: str, forced: bool = False) -> html.Div:
    """Links to the object's alerts (with upper limits) in every format and, ``forced``, to
    its forced photometry (/api/v1/fp) in CSV and Parquet."""
    params = {"objectId": object_id, "withupperlim": "true"}
    rows = [html.Div(className="downloads", children=[html.Span("Download: ", className="muted")] + [
        html.A(label, className="btn btn-small", id=f"object-dl-{fmt}", download=f"{object_id}.{ext}",
               href="/api/v1/objects?" + urlencode({**params, "output-format": fmt}))
        for label, fmt, ext in (("JSON", "json", "json"), ("CSV", "csv", "csv"),
                                ("VOTable", "votable", "vot"), ("Parquet", "parquet", "parquet"))])]
    if forced:
        rows.append(html.Div(className="downloads", children=[html.Span("Forced photometry: ", className="muted")] + [
            html.A(label, className="btn btn-small", id=f"object-fp-{fmt}", download=f"{object_id}_fp.{fmt}",
                   href="/api/v1/fp?" + urlencode({"objectId": object_id, "output-format": fmt}))
            for label, fmt in (("CSV", "csv"), ("Parquet", "parquet"))]))
    return html.Div(className="object-downloads", children=[
        *rows,
        html.Details(className="api-calls", children=[
            html.Summary("Copy as Python / curl"),
            code_block(python_snippet(base_url, "objects", params), "object-python"),
            code_block(curl_snippet(base_url, "objects", params), "object-curl"),
        ]),
    ])
