"""The search bar's language: one line of text → one query of :mod:`api.queries`.

:func:`parse` understands an objectId (``ZTF23abjexnw``, any case), a cone (``ra dec
[radius]``: degrees or sexagesimal; the radius in arcseconds, or with a unit ``30s``,
``30"``, ``1.5m``, ``1.5'``, ``0.1d``; without one, :data:`DEFAULT_RADIUS_ARCSEC`), a class
(``class: SN candidate``, any case), a date window (``date: 2023-10-18`` or ``date:
2023-10-18 2023-10-19``), a solar-system object (``sso: 8467``, or a bare number), a tag of
the annotations (``tag: kilonova``) and a name (``name: SN 2023abc``, or any other text:
``Vega``); a Rubin diaObjectId (:func:`rubin_search`: ``diaObjectId:
313853517735395444``, ``lsst: ...``, or a bare integer of 15 digits or more). :func:`find` resolves what needs the store (names, class spellings, tags) and runs
the query in-process, saying when the answer is cut at :data:`MAX_ROWS`; :func:`summarise`
makes one row per object for the results table; :func:`api_call` gives the REST request
that answers the same rows, for "copy as Python / curl".
"""
from __future__ import annotations

import difflib
import re
import threading
import time
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import pandas as pd

from api import portal_gateway as G
from api import queries as q
from api.queries import resolver
from api.queries import rubin as qr
from api.queries.solar_system import UnknownName, sso_alerts
from science.bands import ZTF_FID
from science.classification import simbad_type
from science.identifiers import OBJECT_ID

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d*)?)?)?$")
ANY_CASE_ID = re.compile(r"^ztf\d{2}[a-z]{7}$", re.IGNORECASE)
#: a token that may be part of coordinates (decimal or sexagesimal) or a radius
COORD_TOKEN = re.compile(r"^[+-]?(\d[\d.]*|\.\d+)([:hd°m′'s″\"]+[\d.]*)*$")
RADIUS = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)\s*(arcsec|arcmin|deg|[smd\"'″′°])?$", re.IGNORECASE)
UNIT_ARCSEC = {"": 1.0, "s": 1.0, "arcsec": 1.0, '"': 1.0, "″": 1.0, "m": 60.0, "arcmin": 60.0, "'": 60.0,
               "′": 60.0, "d": 3600.0, "deg": 3600.0, "°": 3600.0}
UNIT_WORDS = ("arcsec", "arcmin", "deg")
DEFAULT_RADIUS_ARCSEC = 10.0
MAX_RADIUS_ARCSEC = 18000.0
MAX_ROWS = 1000          # rows shown (and downloaded from the page); the API gives more
MAX_API_ROWS = 10000     # the API's largest n
COUNT_CAP = 20000        # a date window's alerts are counted up to this many
HELP = ("type an objectId, a cone 'ra dec [radius]', 'class: <label>', 'date: <day>', 'sso: <number>' "
        "or a name")


class SearchError(ValueError):
    """The text is not a search the portal understands; the message says what would be."""


@dataclass(frozen=True)
class Search:
    kind: str  # objectId | cone | class | date | sso | tag | name | diaObjectId (Rubin)
    params: dict = field(default_factory=dict)
    note: str = ""  # how the text was read: a default radius, a name resolved, a class respelled

    def describe(self) -> str:
        p = self.params
        text = {"objectId": lambda: f"object {p['objectId']}",
                "cone": lambda: f"cone of {p['radius']:g}″ around ({p['ra']:.5f}, {p['dec']:+.5f})",
                "class": lambda: f"latest {p['n']} alerts of class {p['class']}",
                "date": lambda: f"alerts between JD {p['start']:.5f} and {p['stop']:.5f}",
                "sso": lambda: f"solar-system object {p['name']}",
                "tag": lambda: f"objects tagged {p['tag']}",
                "name": lambda: f"name {p['name']}",
                "diaObjectId": lambda: f"Rubin object {p['diaObjectId']}"}[self.kind]()
        return f"{text} ({self.note})" if self.note else text


def parse(text: str) -> Search:
    """The :class:`Search` that ``text`` asks for; :class:`SearchError` says why not."""
    text = " ".join((text or "").split())
    if not text:
        raise SearchError(HELP)
    rubin = rubin_search(text)
    if rubin is not None:
        return rubin
    head, sep, rest = text.partition(":")
    key = head.strip().lower()
    if sep and key in _KEYED:
        return _KEYED[key](rest.strip())
    if OBJECT_ID.match(text):
        return Search("objectId", {"objectId": text})
    if ANY_CASE_ID.match(text):
        return Search("objectId", {"objectId": "ZTF" + text[3:].lower()})
    if re.match(r"^ztf\d", text, re.IGNORECASE) and " " not in text:
        raise SearchError(f"{text!r} is not a complete ZTF objectId (ZTF, 2 digits, 7 letters: ZTF23abjexnw)")
    if ISO_DATE.match(text) or re.match(r"^\d{4}-\d{2}-\d{2}\s+\d{4}-\d{2}-\d{2}$", text):
        return _date(text)
    if text.isdigit():
        return _sso(text)
    if all(COORD_TOKEN.match(t) for t in _tokens(text)[:2]):  # numbers first: a cone (else a name)
        return _cone(text)
    return _name(text)


def _tokens(text: str) -> list[str]:
    """The words of a cone; a trailing unit word joins its number (``30 arcsec``)."""
    tokens = text.replace(",", " ").split()
    if len(tokens) > 1 and tokens[-1].lower() in UNIT_WORDS:
        tokens[-2:] = [tokens[-2] + tokens[-1]]
    return tokens


def radius_arcsec(text: str) -> float:
    """Arcseconds of a radius: a number (arcsec) with an optional unit; :class:`SearchError` if not."""
    m = RADIUS.match(text.strip())
    if not m:
        raise SearchError(f"radius {text!r}: give a number of arcseconds, or one with a unit: 30, 30s, 30\", "
                          f"1.5m, 1.5', 0.1d")
    return float(m.group(1)) * UNIT_ARCSEC[(m.group(2) or "").lower()]


def _cone(text: str) -> Search:
    tokens = _tokens(text)
    radius, note = None, ""
    if len(tokens) in (3, 7):
        radius = radius_arcsec(tokens.pop())
    if len(tokens) == 2:
        ra, dec = tokens
    elif len(tokens) == 6:
        ra, dec = " ".join(tokens[:3]), " ".join(tokens[3:])
    else:
        raise SearchError(f"{text!r}: a cone is 'ra dec [radius]' (degrees or sexagesimal; the radius in arcsec or "
                          f"with a unit: 30s, 1.5m, 0.1d), e.g. 5.38 54.69 30; a class is 'class: SN candidate'")
    if radius is None:
        radius, note = DEFAULT_RADIUS_ARCSEC, f"default radius {DEFAULT_RADIUS_ARCSEC:g}″: add one, e.g. {text} 1m"
    try:
        params = {"ra": G.angle("ra", ra, True, 0, 360), "dec": G.angle("dec", dec, False, -90, 90), "radius": radius}
    except ValueError as exc:  # G.Refused is a ValueError
        raise SearchError(str(exc)) from None
    if not (0 <= params["ra"] <= 360 and -90 <= params["dec"] <= 90 and 0 < radius <= MAX_RADIUS_ARCSEC):
        raise SearchError(f"ra must be in [0, 360], dec in [-90, 90] and the radius in (0, {MAX_RADIUS_ARCSEC:g}] "
                          f"arcsec (5 degrees)")
    return Search("cone", params, note)


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
        raise SearchError("give a name after 'name:' (at most 64 characters), e.g. name: SN 2023abc")
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


# -- resolving what needs the store, and running -----------------------------------------------
@dataclass
class Found:
    """What a search found: ``search`` as run (a name resolved, a class respelled), its alerts
    (at most :data:`MAX_ROWS`), how many it matches (``total``: None when more than shown and
    not counted) and, when it found nothing, searches it may have meant."""
    search: Search
    alerts: pd.DataFrame
    total: int | None
    unit: str = "alerts"
    suggestions: list[str] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        return self.total is None or self.total > len(self.alerts)


def class_labels(store) -> list[str]:
    """Every class label a search may name: Fink's, the TNS and SIMBAD types (bare, then prefixed)."""
    groups = q.known_classes(store)
    labels = [label for group in groups.values() for label in group]
    bare = [simbad_type(label) for label in labels if label.startswith("(SIMBAD) ")]
    return list(dict.fromkeys([l for l in labels if not l.startswith("(SIMBAD) ")] + bare + labels))


def _resolve_class(store, search: Search) -> tuple[Search, list[str]]:
    label = search.params["class"]
    labels = class_labels(store)
    if label in labels:
        return search, []
    same = next((l for l in labels if l.lower() == label.lower()), None)
    if same is not None:
        return replace(search, params={**search.params, "class": same}, note=f"you typed {label!r}"), []
    lower = {l.lower(): l for l in reversed(labels)}
    near = difflib.get_close_matches(label.lower(), list(lower), n=3, cutoff=0.6)
    return search, [f"class: {lower[n]}" for n in near]


def _resolve_name(store, search: Search) -> Search:
    name = search.params["name"]
    target = resolver.name_target(store, name)
    if target is not None:
        kind, value, how = target
        if kind == "objectId":
            return Search("objectId", {"objectId": value}, f"{how} {value}")
        return Search("sso", {"name": value}, f"{name!r}: {how} {value}")
    try:
        ra, dec = resolver.online_position(name)
    except resolver.Unresolved as exc:
        raise SearchError(f"{name!r} is not a name this server holds (objectIds, internal and TNS names given in "
                          f"annotations, solar-system numbers and designations), and {exc}: give its coordinates "
                          f"instead, 'ra dec [radius]'") from None
    return Search("cone", {"ra": ra, "dec": dec, "radius": DEFAULT_RADIUS_ARCSEC},
                  f"{name} resolved by CDS Sesame; default radius {DEFAULT_RADIUS_ARCSEC:g}″")


def resolve(store, search: Search) -> tuple[Search, list[str]]:
    """``search`` with what needs the store settled: a name becomes what it designates (an
    object, a solar-system object, or a cone around Sesame's position), a class label is
    respelled as the store spells it (any case), a tag lists its objects. Also the searches
    it may have meant (a class close to an unknown one). :class:`SearchError` when a name
    designates nothing."""
    if search.kind == "name":
        return _resolve_name(store, search), []
    if search.kind == "class":
        return _resolve_class(store, search)
    if search.kind == "tag" and "objectIds" not in search.params:
        ids = G.objects_with_tag(store, search.params["tag"], MAX_ROWS)
        return replace(search, params={**search.params, "objectIds": ids}), []
    return search, []


def find(store, search: Search) -> Found:
    """Run ``search`` in-process (resolved by :func:`resolve`), as its :func:`api_call` does."""
    search, suggestions = resolve(store, search)
    p = search.params
    if search.kind == "date":
        alerts = q.time_window(store, p["start"], p["stop"], MAX_ROWS)
        total = len(alerts) if len(alerts) < MAX_ROWS else q.count_window(store, p["start"], p["stop"], COUNT_CAP)
        return Found(search, alerts, total)
    if search.kind == "cone":
        alerts = q.conesearch(store, p["ra"], p["dec"], p["radius"], n=MAX_ROWS + 1)
        total = len(alerts) if len(alerts) <= MAX_ROWS else None
        return Found(search, alerts.iloc[:MAX_ROWS].reset_index(drop=True), total, "objects")
    if search.kind == "class":
        alerts = q.latests(store, p["class"], p["n"])
        return Found(search, alerts, len(alerts), suggestions=suggestions if alerts.empty else [])
    if search.kind == "objectId":
        alerts = q.objects(store, [p["objectId"]])
    elif search.kind == "tag":
        alerts = q.objects(store, p["objectIds"])
    else:
        try:
            alerts = sso_alerts(store, [p["name"]])
        except UnknownName:
            alerts = q.to_frame([])
    return Found(search, alerts, len(alerts))


def run(store, search: Search) -> pd.DataFrame:
    """The alerts :func:`find` shows (at most :data:`MAX_ROWS`)."""
    return find(store, search).alerts


# -- the home page's examples --------------------------------------------------------------------
EXAMPLES_TTL_S = 600.0
_examples: dict[tuple, tuple[float, dict]] = {}
_examples_lock = threading.Lock()


def example_searches(targets: dict) -> dict[str, str]:
    """Chip label → search text, for what :func:`api.queries.example_targets` found."""
    out = {}
    if "objectId" in targets:
        out["An object"] = targets["objectId"]
        ra, dec = targets["ra"], targets["dec"]
        out["A cone (deg, arcsec)"] = f"{ra:.5f} {dec:.5f} 30"
        sign = "-" if dec < 0 else "+"
        out["A cone (sexagesimal, 1′)"] = f"{_sexagesimal(ra / 15)} {sign}{_sexagesimal(abs(dec))} 1m"
    if "class" in targets:
        out["A class"] = f"class: {targets['class']}"
    if "date" in targets:
        out["A night"] = f"date: {targets['date']}"
    if "sso" in targets:
        out["An asteroid"] = f"sso: {targets['sso']}"
    return out


def _sexagesimal(value: float) -> str:
    """hh:mm:ss.s (or dd:mm:ss.s) of a non-negative value, rounded to a tenth of a second."""
    tenths = round(value * 36000)
    return f"{tenths // 36000:02d}:{tenths // 600 % 60:02d}:{tenths % 600 / 10:04.1f}"


def examples(store) -> dict[str, str]:
    """The home page's example searches, each pointing at something the store holds; read
    from the store at most every :data:`EXAMPLES_TTL_S` seconds per process; none without a store."""
    if store is None:
        return {}
    return _cached(store, "ztf", lambda: example_searches(q.example_targets(store)))


def rubin_examples(store) -> dict[str, str]:
    """The home page's Rubin example searches (the survey switch on Rubin), each pointing at
    something the Rubin store holds; cached as :func:`examples`; none without a store."""
    if store is None:
        return {}
    return _cached(store, "rubin", lambda: rubin_example_searches(qr.example_targets(store)))


def _cached(store, survey: str, compute) -> dict[str, str]:
    key = (id(store), getattr(store, "prefix", ""), survey)
    with _examples_lock:
        cached = _examples.get(key)
        if cached and time.monotonic() - cached[0] < EXAMPLES_TTL_S:
            return cached[1]
    value = compute()
    with _examples_lock:
        _examples[key] = (time.monotonic(), value)
    return value


def rubin_example_searches(targets: dict) -> dict[str, str]:
    """Chip label → search text, for what :func:`api.queries.rubin.example_targets` found."""
    if "diaObjectId" not in targets:
        return {}
    return {"A Rubin object": str(targets["diaObjectId"]),
            "A Rubin cone": f"{targets['ra']:.5f} {targets['dec']:.5f} 60"}


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


def api_call(search: Search, n: int | None = None) -> tuple[str, dict]:
    """The REST endpoint and parameters that answer the rows :func:`find` shows for ``search``
    (as :func:`find` returned it: names resolved, a tag's objects listed); ``n``: ask for this
    many rows instead of :data:`MAX_ROWS` (a cone or a date window), for the full download."""
    p = search.params
    rows = min(n or MAX_ROWS, MAX_API_ROWS)
    if search.kind == "objectId":
        return "objects", {"objectId": p["objectId"]}
    if search.kind == "cone":
        return "conesearch", {"ra": p["ra"], "dec": p["dec"], "radius": p["radius"], "n": rows}
    if search.kind == "class":
        return "latests", {"class": p["class"], "n": p["n"]}
    if search.kind == "date":
        return "explorer", {"startdate": p["start"], "stopdate": p["stop"], "n": rows}
    if search.kind == "tag":
        return "objects", {"objectId": ",".join(p.get("objectIds", []))}
    if search.kind == "name":
        return "metadata", {"internal_name": p["name"]}
    return "sso", {"n_or_d": p["name"]}


def api_url(base_url: str, endpoint: str, params: dict, fmt: str) -> str:
    """The GET address of an API request."""
    return f"{base_url}/api/v1/{endpoint}?{urlencode({**params, 'output-format': fmt})}"


def python_snippet(base_url: str, endpoint: str, params: dict) -> str:
    if endpoint in ("annotations", "metadata"):  # a POST there writes: read with GET
        return (f"import pandas as pd\nimport requests\n\nr = requests.get('{base_url}/api/v1/{endpoint}', "
                f"params={params!r})\ndf = pd.DataFrame(r.json())\n")
    body = ",\n".join(f"        {k!r}: {v!r}" for k, v in params.items())
    return (f"import io\nimport pandas as pd\nimport requests\n\n"
            f"r = requests.post(\n    '{base_url}/api/v1/{endpoint}',\n    json={{\n{body},\n"
            f"        'output-format': 'json',\n    }},\n)\ndf = pd.read_json(io.BytesIO(r.content))\n")


def curl_snippet(base_url: str, endpoint: str, params: dict, fmt: str = "csv") -> str:
    return f"curl '{api_url(base_url, endpoint, params, fmt)}'"
