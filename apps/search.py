"""The search bar's language: one line of text → one query of :mod:`api.queries`.

:func:`parse` understands an objectId (``ZTF23abjexnw``), a cone (``ra dec radius``:
degrees or sexagesimal, radius in arcseconds), a class (``class: SN candidate``), a date
window (``date: 2023-10-18`` or ``date: 2023-10-18 2023-10-19``), a solar-system
object (``sso: 8467``, or a bare number), a tag of the annotations (``tag: kilonova``) and
an internal name (``name: SN 2023abc``); a Rubin diaObjectId (:func:`rubin_search`:
``diaObjectId: 313853517735395444``, ``lsst: ...``, or a bare integer of 15 digits or more).
:func:`run` calls the query in-process and :func:`summarise` makes one row per object for
the results table. :func:`api_call` gives the equivalent REST call, for "copy as Python / curl".
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pandas as pd

from api import portal_gateway as G
from api import queries as q
from science.bands import ZTF_FID
from science.identifiers import OBJECT_ID

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d*)?)?)?$")
MAX_ROWS = 1000
EXAMPLES = {
    "An object": "ZTF23abjexnw",
    "A cone (deg, arcsec)": "5.38 54.69 30",
    "A cone (sexagesimal)": "00:21:31.2 +54:41:24 30",
    "A class": "class: SN candidate",
    "A night": "date: 2023-10-18",
    "An asteroid": "sso: 4712",
}
# Also: "tag: kilonova" (objects annotated with a tag) and "name: SN 2023abc" (an internal name).


class SearchError(ValueError):
    """The text is not a search the portal understands; the message says what would be."""


@dataclass(frozen=True)
class Search:
    kind: str  # objectId | cone | class | date | sso | tag | name | diaObjectId (Rubin)
    params: dict = field(default_factory=dict)

    def describe(self) -> str:
        p = self.params
        return {"objectId": lambda: f"object {p['objectId']}",
                "cone": lambda: f"cone of {p['radius']:g}″ around ({p['ra']:.5f}, {p['dec']:+.5f})",
                "class": lambda: f"latest {p['n']} alerts of class {p['class']}",
                "date": lambda: f"alerts between JD {p['start']:.5f} and {p['stop']:.5f}",
                "sso": lambda: f"solar-system object {p['name']}",
                "tag": lambda: f"objects tagged {p['tag']}",
                "name": lambda: f"internal name {p['name']}",
                "diaObjectId": lambda: f"Rubin object {p['diaObjectId']}"}[self.kind]()


def parse(text: str) -> Search:
    """The :class:`Search` that ``text`` asks for; :class:`SearchError` says why not."""
    text = (text or "").strip()
    if not text:
        raise SearchError("type an objectId, a cone 'ra dec radius', 'class: <label>', 'date: <day>' or 'sso: <name>'")
    rubin = rubin_search(text)
    if rubin is not None:
        return rubin
    head, sep, rest = text.partition(":")
    key = head.strip().lower()
    if sep and key in _KEYED:
        return _KEYED[key](rest.strip())
    if OBJECT_ID.match(text):
        return Search("objectId", {"objectId": text})
    if text.upper().startswith("ZTF"):
        raise SearchError(f"{text!r} is not a complete ZTF objectId (ZTF, 2 digits, 7 letters: ZTF23abjexnw)")
    if ISO_DATE.match(text) or re.match(r"^\d{4}-\d{2}-\d{2}\s+\d{4}-\d{2}-\d{2}$", text):
        return _date(text)
    if text.isdigit():
        return _sso(text)
    return _cone(text)


def _cone(text: str) -> Search:
    tokens = text.replace(",", " ").split()
    if len(tokens) == 3:
        ra, dec, radius = tokens
    elif len(tokens) == 7:
        ra, dec, radius = " ".join(tokens[:3]), " ".join(tokens[3:6]), tokens[6]
    else:
        raise SearchError(f"{text!r}: a cone is 'ra dec radius' (degrees or sexagesimal, radius in arcsec), "
                          f"e.g. 5.38 54.69 30; a class is 'class: SN candidate'")
    try:
        params = {"ra": G.angle("ra", ra, True, 0, 360), "dec": G.angle("dec", dec, False, -90, 90),
                  "radius": float(radius.rstrip("\"″"))}
    except ValueError as exc:  # G.Refused is a ValueError
        raise SearchError(str(exc)) from None
    if not (0 <= params["ra"] <= 360 and -90 <= params["dec"] <= 90 and 0 < params["radius"] <= 18000):
        raise SearchError("ra must be in [0, 360], dec in [-90, 90] and the radius in (0, 18000] arcsec")
    return Search("cone", params)


def _class(text: str) -> Search:
    label, _, n = text.partition(";")
    if not label.strip():
        raise SearchError("give a class after 'class:', e.g. class: SN candidate")
    return Search("class", {"class": label.strip(), "n": int(n) if n.strip().isdigit() else 100})


def _date(text: str) -> Search:
    parts = re.split(r"\s+(?=\d{4}-\d{2}-\d{2})|\s*/\s*", text.strip())
    try:
        start = G.julian_date(parts[0])
        stop = G.julian_date(parts[1]) if len(parts) > 1 else start + 1
    except G.Refused as exc:
        raise SearchError(str(exc)) from None
    if stop <= start:
        raise SearchError("the end of the date window must come after its start")
    return Search("date", {"start": start, "stop": stop})


def _sso(text: str) -> Search:
    name = text.replace(" ", "")
    if not name:
        raise SearchError("give an MPC number or designation after 'sso:', e.g. sso: 4712")
    return Search("sso", {"name": name})


def _tag(text: str) -> Search:
    tag = text.strip().lower().lstrip("#")
    if not G.TAG.match(tag):
        raise SearchError("give a tag after 'tag:' (letters, digits, . _ + -), e.g. tag: kilonova")
    return Search("tag", {"tag": tag})


def _name(text: str) -> Search:
    name = " ".join(text.split())
    if not name or len(name) > 64:
        raise SearchError("give an internal name after 'name:', e.g. name: SN 2023abc")
    return Search("name", {"name": name})


# -- Rubin/LSST ---------------------------------------------------------------------------------
RUBIN_KEYS = ("diaobjectid", "lsst", "rubin")
RUBIN_MIN_DIGITS = 15  # a bare integer this long is a diaObjectId (MPC numbers have at most 7 digits)


def rubin_search(text: str, survey: str = "ztf") -> Search | None:
    """The Rubin object ``text`` names, else None: ``diaObjectId: N``, ``lsst: N`` or ``rubin: N``;
    a bare integer of at least 15 digits; any bare integer when ``survey`` is ``rubin`` (the
    survey switch). Rubin ids are 64-bit integers (kept as Python ints: no float rounding)."""
    text = (text or "").strip()
    head, sep, rest = text.partition(":")
    keyed = bool(sep) and head.strip().lower() in RUBIN_KEYS
    value = rest.strip() if keyed else text
    if not keyed and not (value.isdigit() and (len(value) >= RUBIN_MIN_DIGITS or survey == "rubin")):
        return None
    if not (value.isascii() and value.isdigit() and int(value) < 2**64):
        raise SearchError(f"{value!r} is not a diaObjectId (a Rubin object id: an integer below 2^64)")
    return Search("diaObjectId", {"diaObjectId": int(value)})


_KEYED = {"class": _class, "date": _date, "sso": _sso, "cone": _cone, "tag": _tag, "name": _name}


def run(store, search: Search) -> pd.DataFrame:
    """Every alert the search finds (the query functions of the API, in-process)."""
    p = search.params
    if search.kind == "objectId":
        return q.objects(store, [p["objectId"]])
    if search.kind == "cone":
        return q.conesearch(store, p["ra"], p["dec"], p["radius"], n=MAX_ROWS)
    if search.kind == "class":
        return q.latests(store, p["class"], p["n"])
    if search.kind == "date":
        return q.time_window(store, p["start"], p["stop"], MAX_ROWS)
    if search.kind == "tag":
        return q.objects(store, G.objects_with_tag(store, p["tag"], MAX_ROWS))
    if search.kind == "name":
        found = G.object_of_name(store, p["name"])
        return q.objects(store, [found["objectId"]] if found else [])
    return q.sso(store, [p["name"]])


TABLE_COLUMNS = ["objectId", "class", "first detection", "last detection", "detections", "last mag",
                 "filter", "ra", "dec"]


def summarise(alerts: pd.DataFrame) -> pd.DataFrame:
    """One row per object (its latest alert): the columns of the results table."""
    if alerts.empty:
        return pd.DataFrame(columns=TABLE_COLUMNS)
    latest = alerts.sort_values("i:jd").groupby("i:objectId", sort=False).tail(1)
    out = pd.DataFrame({
        "objectId": latest["i:objectId"],
        "class": latest.get("d:classification", pd.Series("", index=latest.index)).fillna(""),
        "first detection": latest.get("v:firstdate", latest["v:lastdate"]).str[:16],
        "last detection": latest["v:lastdate"].str[:16],
        "detections": latest.get("i:ndethist", pd.Series(1, index=latest.index)).fillna(1).astype(int),
        "last mag": latest["i:magpsf"].round(2),
        "filter": latest["i:fid"].map(ZTF_FID).fillna("?"),
        "ra": latest["i:ra"].round(6),
        "dec": latest["i:dec"].round(6),
    })
    if "v:separation_degree" in latest:
        out["separation (arcsec)"] = (latest["v:separation_degree"] * 3600).round(2)
    return out.sort_values("last detection", ascending=False).reset_index(drop=True)


def api_call(search: Search) -> tuple[str, dict]:
    """The REST endpoint and parameters that give the same alerts."""
    p = search.params
    if search.kind == "objectId":
        return "objects", {"objectId": p["objectId"]}
    if search.kind == "cone":
        return "conesearch", {"ra": round(p["ra"], 6), "dec": round(p["dec"], 6), "radius": p["radius"]}
    if search.kind == "class":
        return "latests", {"class": p["class"], "n": p["n"]}
    if search.kind == "date":
        return "explorer", {"startdate": round(p["start"], 6), "window": min(180.0, (p["stop"] - p["start"]) * 1440)}
    if search.kind == "tag":
        return "annotations", {"tag": p["tag"]}
    if search.kind == "name":
        return "metadata", {"internal_name": p["name"]}
    return "sso", {"n_or_d": p["name"]}


def python_snippet(base_url: str, endpoint: str, params: dict) -> str:
    if endpoint == "annotations":  # a POST there writes: read with GET
        return (f"import pandas as pd\nimport requests\n\nr = requests.get('{base_url}/api/v1/{endpoint}', "
                f"params={params!r})\ndf = pd.DataFrame(r.json())\n")
    body = ",\n".join(f"        {k!r}: {v!r}" for k, v in params.items())
    return (f"import io\nimport pandas as pd\nimport requests\n\n"
            f"r = requests.post(\n    '{base_url}/api/v1/{endpoint}',\n    json={{\n{body},\n"
            f"        'output-format': 'json',\n    }},\n)\ndf = pd.read_json(io.BytesIO(r.content))\n")


def curl_snippet(base_url: str, endpoint: str, params: dict, fmt: str = "csv") -> str:
    return f"curl '{base_url}/api/v1/{endpoint}?{urlencode({**params, 'output-format': fmt})}'"
