"""One-click notebooks: a page's query as a Jupyter notebook that reloads it through the
Python client (``nocturne_client``) from the same server and redraws the page's plots.

:func:`results_notebook` is a search's (the rows of the results table and the sky plot),
:func:`object_notebook` an object page's (its alerts, upper limits and bad-quality points; the
light curve per band), :func:`rubin_object_notebook` a Rubin object page's (its diaSources and
forced sources; the light curve per band ugrizy in flux). Each is an ``nbformat`` v4 notebook;
:func:`to_bytes` writes it.
No Dash here: the portal's download buttons (apps/components/notebook_button.py) call these.

Values go into the code with ``repr``: a cone's centre or a window's Julian dates are the
page's floats to the last bit, so the notebook asks the API for exactly the rows shown.
"""
from __future__ import annotations

from urllib.parse import quote

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from apps import search as S
from apps.components.rubin_lightcurve import BAND_COLOURS  # the page's colours (plotly, no Dash)
from science.bands import ZTF_FID

INSTALL = ("Needs the Python client and matplotlib: `pip install ./client matplotlib` from a checkout of "
           "Nocturne (the client's folder `client/`).")


def _setup(base_url: str) -> str:
    return ("import matplotlib.pyplot as plt\nimport pandas as pd\nfrom nocturne_client import Client\n\n"
            f"client = Client({base_url!r})")


def _notebook(title: str, cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell(title), *cells])
    nb.metadata.update({"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                        "language_info": {"name": "python"}})
    return nb


def query_code(search: S.Search) -> str:
    """The client call that answers the rows of ``search`` (resolved, as :func:`apps.search.find`
    returns it), into ``alerts``: the request :func:`apps.search.api_call` names."""
    endpoint, params = S.api_call(search)
    if search.kind == "name":  # find() resolves every name; an unresolved one has no rows to reload
        raise ValueError(f"resolve the name {search.params['name']!r} first (apps.search.resolve)")
    if endpoint == "objects":
        ids = params["objectId"].split(",")
        return f"alerts = client.objects({(ids[0] if len(ids) == 1 else ids)!r})"
    if endpoint == "conesearch":
        return (f"alerts = client.conesearch({params['ra']!r}, {params['dec']!r}, {params['radius']!r}, "
                f"n={params['n']!r})  # radius in arcsec; the nearest first")
    if endpoint == "latests":
        return f"alerts = client.latests({params['class']!r}, n={params['n']!r})"
    args = ", ".join(f"{k.replace('-', '_')}={v!r}" for k, v in params.items())
    return f"alerts = client.table({endpoint!r}, {args})"


TABLE = """\
# one row per object: its latest alert (the portal's results table)
if alerts.empty:
    raise SystemExit("the server has no rows for this query")
latest = alerts.sort_values("i:jd").groupby("i:objectId", sort=False).tail(1)
table = pd.DataFrame({
    "objectId": latest["i:objectId"],
    "class": latest["d:classification"].fillna("") if "d:classification" in latest else "",
    "last detection": latest["v:lastdate"].str[:16],
    "detections": latest["i:ndethist"] if "i:ndethist" in latest else 1,
    "last mag": latest["i:magpsf"].round(2),
    "filter": latest["i:fid"].map(BANDS),
    "ra": latest["i:ra"],
    "dec": latest["i:dec"],
}).sort_values("last detection", ascending=False).reset_index(drop=True)
table"""

SKY = """\
# the objects on the sky, one colour per class (ra grows to the left, as on the sky)
fig, ax = plt.subplots(figsize=(8, 4.5))
for label, group in table.groupby("class", sort=True):
    ax.scatter(group["ra"], group["dec"], s=14, label=label or "no class")
ax.invert_xaxis()
ax.set_xlabel("ra [deg]")
ax.set_ylabel("dec [deg]")
ax.legend(fontsize="small", loc="best")
plt.show()"""


def results_notebook(search: S.Search, base_url: str) -> nbformat.NotebookNode:
    """The notebook of a results page: ``search`` (resolved) from the server at ``base_url``."""
    title = (f"# Nocturne: {search.describe()}\n\nThe rows of the portal's results page "
             f"([{base_url}]({base_url}/?q={_search_text(search)})), reloaded from the API through the "
             f"Python client, then the results table and the sky plot.\n\n{INSTALL}")
    return _notebook(title, [
        new_code_cell(_setup(base_url) + f"\nBANDS = {dict(ZTF_FID)!r}  # ZTF filter id → band"),
        new_code_cell(query_code(search) + "\nprint(len(alerts), 'alerts')"),
        new_code_cell(TABLE),
        new_code_cell(SKY),
    ])


def _search_text(search: S.Search) -> str:
    """The search bar's text of ``search`` (URL-quoted), for the link back to the page."""
    p = search.params
    text = {"objectId": lambda: p["objectId"], "cone": lambda: f"{p['ra']!r} {p['dec']!r} {p['radius']!r}",
            "class": lambda: f"class: {p['class']};{p['n']}", "sso": lambda: f"sso: {p['name']}",
            "tag": lambda: f"tag: {p['tag']}", "name": lambda: f"name: {p['name']}",
            "date": lambda: f"date: {p['start']!r} / {p['stop']!r}", "diaObjectId": lambda: str(p["diaObjectId"])}[search.kind]()
    return quote(text)


LIGHT_CURVE = """\
# the light curve per band: detections with their error, upper limits (▼, the 5σ limit of an
# image without a detection) and bad-quality detections (open circles), as on the object page
fig, ax = plt.subplots(figsize=(9, 4.5))
for fid, band in BANDS.items():
    colour = COLOURS.get(band)
    valid = detections[detections["i:fid"] == fid]
    if len(valid):
        ax.errorbar(valid["i:jd"] - 2400000.5, valid["i:magpsf"], yerr=valid["i:sigmapsf"], fmt="o",
                    color=colour, label=f"{band}: {len(valid)} detections")
    limits = upper[upper["i:fid"] == fid]
    if len(limits):
        ax.scatter(limits["i:jd"] - 2400000.5, limits["i:diffmaglim"], marker="v", color=colour, alpha=0.4,
                   label=f"{band}: upper limits")
    poor = bad[bad["i:fid"] == fid]
    if len(poor):
        ax.scatter(poor["i:jd"] - 2400000.5, poor["i:magpsf"], facecolors="none", edgecolors=colour,
                   label=f"{band}: bad quality")
ax.invert_yaxis()
ax.set_xlabel("MJD")
ax.set_ylabel("difference magnitude")
ax.set_title(OBJECT)
ax.legend(fontsize="small", loc="best")
plt.show()"""

ALERTS = """\
history = client.objects(OBJECT, withupperlim=True)  # detections, upper limits, bad-quality points
tag = history["d:tag"] if "d:tag" in history else pd.Series("valid", index=history.index)
detections = history[tag == "valid"]
upper = history[tag == "upperlim"]
bad = history[tag == "badquality"]
print(f"{len(detections)} detections, {len(upper)} upper limits, {len(bad)} bad-quality points")
detections[["i:candid", "i:jd", "i:fid", "i:magpsf", "i:sigmapsf"]]"""

COLOURS = {"g": "#15a34a", "r": "#dc2626", "i": "#7c3aed"}


def object_notebook(object_id: str, base_url: str) -> nbformat.NotebookNode:
    """The notebook of the object page ``/<object_id>`` on the server at ``base_url``."""
    title = (f"# Nocturne: {object_id}\n\nThe alerts of [{object_id}]({base_url}/{object_id}) reloaded from the "
             f"API through the Python client, then its light curve per band.\n\n{INSTALL}")
    return _notebook(title, [
        new_code_cell(_setup(base_url) + f"\nOBJECT = {object_id!r}\nBANDS = {dict(ZTF_FID)!r}  # ZTF filter id → "
                      f"band\nCOLOURS = {COLOURS!r}"),
        new_code_cell(ALERTS),
        new_code_cell(LIGHT_CURVE),
    ])


RUBIN_SOURCES = """\
sources = client.sources(OBJECT)  # the diaSources (detections), newest first
forced = client.fp(OBJECT)  # the forced photometry at the object's position
print(f"{len(sources)} diaSources, {len(forced)} forced sources")
sources[["r:diaSourceId", "r:midpointMjdTai", "r:band", "r:psfFlux", "r:psfFluxErr"]]"""

RUBIN_LIGHT_CURVE = """\
# the light curve per band in difference-image flux: diaSources as filled circles, forced
# photometry as open diamonds, as on the object page
fig, ax = plt.subplots(figsize=(9, 4.5))
for band, colour in COLOURS.items():
    for points, marker, kind in ((sources, "o", "diaSources"), (forced, "D", "forced")):
        rows = points[points["r:band"] == band] if "r:band" in points else points.iloc[:0]
        if len(rows):
            ax.errorbar(rows["r:midpointMjdTai"], rows["r:psfFlux"], yerr=rows["r:psfFluxErr"], fmt=marker,
                        color=colour, mfc=colour if marker == "o" else "none", label=f"{band}: {len(rows)} {kind}")
ax.axhline(0, color="grey", lw=0.5)
ax.set_xlabel("MJD (TAI)")
ax.set_ylabel("psfFlux [nJy]")
ax.set_title(str(OBJECT))
ax.legend(fontsize="small", loc="best")
plt.show()"""


def rubin_object_notebook(object_id: int, base_url: str) -> nbformat.NotebookNode:
    """The notebook of the Rubin object page ``/lsst/<object_id>`` on the server at ``base_url``."""
    page, api = f"{base_url}/lsst/{object_id}", f"{base_url}/lsst"
    title = (f"# Nocturne LSST: {object_id}\n\nThe diaSources and forced photometry of [{object_id}]({page}) "
             f"reloaded from the LSST API through the Python client, then its light curve per band.\n\n{INSTALL}")
    return _notebook(title, [
        new_code_cell(_setup(api) + f"\nOBJECT = {int(object_id)!r}\nCOLOURS = {BAND_COLOURS!r}  # band → colour"),
        new_code_cell(RUBIN_SOURCES),
        new_code_cell(RUBIN_LIGHT_CURVE),
    ])


def to_bytes(nb: nbformat.NotebookNode) -> bytes:
    """The ``.ipynb`` file of ``nb`` (validated against the nbformat schema)."""
    nbformat.validate(nb)
    return nbformat.writes(nb).encode()
