"""Request parameters: declared once per endpoint, parsed and validated here, and turned
into the OpenAPI spec by :mod:`api.openapi`.

A :class:`Param` names its kind (``string``, ``int``, ``float``, ``bool``, ``choice``,
``list``, ``columns``, ``date``, ``ra``, ``dec``, ``json``: any JSON value); :func:`parse` reads a GET query string
or a POST JSON body with the same names and raises :class:`~api.errors.ApiError` (400)
naming the parameter and what it accepts.

As Fink's API does, a parameter an endpoint does not know is ignored, not refused: the
answer is the same as without it, and its ``Warning`` header names what was ignored (with
the closest known name, for a typo). ``columns=*`` means every column. A ``clamp``
parameter above its maximum is reduced to it (with a warning) instead of refused.
"""
from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from dataclasses import dataclass, field

from astropy.time import Time

from .errors import ApiError

TRUE = {"true", "1", "yes", "y", "t", "on"}
FALSE = {"false", "0", "no", "n", "f", "off", ""}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str = "string"
    description: str = ""
    default: object = None
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple = ()
    example: object = None
    max_length: int = 10_000
    clamp: bool = False  # above ``maximum``: reduced to it, with a warning (Fink's clamps)


@dataclass(frozen=True)
class Access:
    """Who may call an endpoint: anyone (``via="anyone"``), a request with an API token
    (``"token"``: ``Authorization: token <token>``) or a signed-in portal session
    (``"session"``: the session cookie and its CSRF token in ``X-CSRF-Token``) holding one
    of ``scopes``. ``writes``: each call counts against the per-user and per-address write
    limit (429 with Retry-After) and is not stopped half-way by the query time budget.
    ``when`` (text): only the requests it describes need the identity; the view asks for it
    (``values.identity()``), the others are anyone's."""
    via: str = "anyone"
    scopes: tuple[str, ...] = ()
    writes: bool = False
    when: str = ""

    def __post_init__(self):
        assert self.via in ("anyone", "token", "session"), self.via
        assert self.via == "anyone" or self.scopes, "a token or a session needs a scope"


ANYONE = Access()
READ_METHODS = ("GET", "POST")


@dataclass(frozen=True)
class Endpoint:
    """One operation set of the API, declared once: its path under /api/v1 (``name``), the
    HTTP ``methods`` it answers, who may call it (``access``), its parameters and formats,
    whether an unknown parameter is refused (``strict``: 400) or ignored with a ``Warning``,
    and the status codes it answers beyond the common ones (``responses``: code, text); the
    route (:func:`api.routes.route`), the validation and the OpenAPI spec read this."""
    name: str
    summary: str
    params: tuple[Param, ...]
    formats: tuple[str, ...] = ("json", "csv", "parquet", "votable")
    description: str = ""
    groups: tuple[tuple[str, ...], ...] = field(default_factory=tuple)
    methods: tuple[str, ...] = READ_METHODS
    access: Access = ANYONE
    strict: bool = False
    responses: tuple[tuple[str, str], ...] = ()


class Values(dict):
    """Parsed parameter values, the warnings for the response's ``Warning`` header, and
    the caller's identity when the endpoint's access declares one (:meth:`identity`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.warnings: list[str] = []
        self.identify = None  # set by the route: () -> the caller's checked identity
        self._identity = None

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)

    def identity(self):
        """The caller's identity, checked against the endpoint's access (401/403/429 if not)."""
        if self._identity is None:
            if self.identify is None:
                raise AssertionError("this endpoint declares no access that names a caller")
            self._identity = self.identify()
        return self._identity


def parse(endpoint: Endpoint, raw: dict, strict: bool = False) -> Values:
    """Validated values of ``endpoint``'s parameters from ``raw`` (strings or JSON values);
    unknown names are ignored and named in ``values.warnings`` (refused with 400 when
    ``strict`` or the endpoint is: for writes, which Fink's API does not have, a misspelt
    field is not ignored)."""
    known = {p.name for p in endpoint.params} | {"output-format"}
    values = Values()
    unknown = sorted(set(raw) - known)
    if unknown and (strict or endpoint.strict):
        raise ApiError(400, f"unknown parameter(s) {', '.join(_shown(n, 40) for n in unknown[:10])} for "
                            f"/api/v1/{endpoint.name}; accepted: {', '.join(sorted(known))}")
    if unknown:
        values.warn(_ignored(unknown, known))
    for p in endpoint.params:
        value = raw.get(p.name)
        if value is None or (isinstance(value, str) and value.strip() == "" and p.kind != "bool"):
            if p.required:
                raise ApiError(400, f"missing required parameter '{p.name}': {p.description}")
            values[p.name] = _convert(p, p.default) if p.kind == "date" and p.default is not None else p.default
            continue
        if p.clamp and p.maximum is not None:
            number = _convert(p, value, bounded=False)
            if number > p.maximum:
                values.warn(f"'{p.name}' = {number:g} is above its maximum: {p.maximum:g} used")
                value = p.maximum
        values[p.name] = _convert(p, value)
    fmt = raw.get("output-format", endpoint.formats[0])
    if not isinstance(fmt, str) or fmt.lower() not in endpoint.formats:
        raise ApiError(400, f"output-format {fmt!r} is not one of: {', '.join(endpoint.formats)}")
    values["output-format"] = fmt.lower()
    return values


def _ignored(names: list, known: set) -> str:
    """``ignored parameter(s): cols; did you mean columns?``: the unknown names, and the
    known name closest to each (a typo, or another spelling such as output_format)."""
    text = "ignored parameter(s): " + ", ".join(_shown(n, 40) for n in names[:10])
    if len(names) > 10:
        text += f" and {len(names) - 10} more"
    guesses = {}
    for name in names[:10]:
        close = difflib.get_close_matches(name[:60], sorted(known), n=1, cutoff=0.6)
        close = close or [k for k in sorted(known) if k.lower() == name.lower().replace("_", "-")][:1]
        if close:
            guesses[name] = close[0]
    if len(guesses) == 1 and len(names) == 1:
        text += f"; did you mean {next(iter(guesses.values()))}?"
    elif guesses:
        text += "; did you mean " + ", ".join(f"{k} for {_shown(n, 40)}" for n, k in guesses.items()) + "?"
    return text


def _shown(value, limit: int = 60) -> str:
    shown = str(value)
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def _fail(p: Param, value, accepts: str):
    shown = str(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    raise ApiError(400, f"parameter '{p.name}' = {shown!r} is invalid: expected {accepts}")


def _convert(p: Param, value, bounded: bool = True):
    if p.kind == "json":  # any JSON value (an object, a list...), as sent in a JSON body
        import json
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                _fail(p, value, "a JSON value")
        if len(json.dumps(value)) > p.max_length:
            raise ApiError(400, f"parameter '{p.name}' is longer than {p.max_length} characters")
        return value
    if isinstance(value, dict) or (isinstance(value, list) and p.kind not in ("list", "columns")):
        _fail(p, value, f"a {p.kind} value, not a JSON {type(value).__name__}")
    if isinstance(value, list) and any(isinstance(x, (dict, list)) for x in value):
        _fail(p, value, "a list of strings")
    if isinstance(value, bool) and p.kind not in ("bool", "string"):
        _fail(p, value, f"a {p.kind} value, not true/false")
    if isinstance(value, str) and len(value) > p.max_length:
        raise ApiError(400, f"parameter '{p.name}' is longer than {p.max_length} characters")
    kind = p.kind
    if kind == "string":
        return str(value).strip()
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        _fail(p, value, "true or false")
    if kind in ("int", "float"):
        try:
            number = int(str(value).strip()) if kind == "int" else float(str(value).strip())
        except ValueError:
            _fail(p, value, "an integer" if kind == "int" else "a number")
        if isinstance(number, float) and not math.isfinite(number):
            _fail(p, value, "a finite number")
        return _bounded(p, number) if bounded else number
    if kind == "choice":
        for choice in p.choices:
            if str(value).strip().lower() == str(choice).lower():
                return choice
        _fail(p, value, "one of " + ", ".join(map(str, p.choices)))
    if kind in ("list", "columns"):
        items = value if isinstance(value, list) else str(value).split(",")
        items = list(dict.fromkeys(str(x).strip() for x in items if str(x).strip()))  # repeats once
        if not items:
            _fail(p, value, "a comma-separated list")
        if p.name == "columns" and "*" in items:
            return None  # Fink's "every column"
        if kind == "columns":
            from api.queries import column_types
            known = column_types()
            bad = [c for c in items if c not in known]
            if bad:
                raise ApiError(400, f"parameter 'columns': unknown column(s) {', '.join(bad[:5])}; "
                                    f"see /api/v1/schema for the {len(known)} known columns")
        return items
    if kind == "date":
        return _bounded(p, parse_date(p, value))
    if kind in ("ra", "dec"):
        return _bounded(p, parse_angle(p, value, hours=kind == "ra"))
    raise AssertionError(kind)


def _bounded(p: Param, number):
    if p.minimum is not None and number < p.minimum:
        _fail(p, number, f"a value >= {p.minimum:g}")
    if p.maximum is not None and number > p.maximum:
        _fail(p, number, f"a value <= {p.maximum:g}")
    return number


def parse_date(p: Param, value) -> float:
    """A date as a Julian Date: ISO (2023-10-18, 2023-10-18 05:00:00, 2023-10-18T05:00), a JD,
    or, as Fink reads a number below 2,400,000, a Modified Julian Date (60235.5)."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        number = None
    if number is not None:
        if 2_400_000 < number < 2_600_000:
            return number
        if 15_020 <= number <= 88_069:  # MJD of 1900-01-01 .. 2100-01-01
            return number + 2_400_000.5
        _fail(p, value, "a date such as 2023-10-18 or 2023-10-18 05:00:00, a Julian Date or an MJD")
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", ""))
    except ValueError:
        _fail(p, value, "a date such as 2023-10-18 or 2023-10-18 05:00:00, or a Julian Date")
    if not 1900 <= when.year <= 2100:
        _fail(p, value, "a date between 1900 and 2100")
    return float(Time(when, scale="utc").jd)


_SEXAGESIMAL = re.compile(r"^\s*([+-]?)\s*(\d+(?:\.\d*)?)\s*([\s:hd°])[\s:hd°]*(\d+(?:\.\d*)?)[\s:m']+"
                          r"(\d+(?:\.\d*)?)\s*[s\"]?\s*$")


def parse_angle(p: Param, value, hours: bool) -> float:
    """Degrees from decimal degrees or sexagesimal text, read as Fink's conesearch reads it
    (astropy's conventions): an RA written with ``h`` (12h34m56.7s) or with ``:`` or spaces
    (12:34:56.7, 12 34 56.7) is in hours; one written with ``d`` or ``°`` (188d43m15s) is in
    degrees. A declination is always in degrees (-01:02:03, -1 02 03, -1d02m03s)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    try:
        number = float(text)
        if not math.isfinite(number):
            raise ValueError
        return number
    except ValueError:
        pass
    m = _SEXAGESIMAL.match(text)
    if not m or (not hours and m.group(3) == "h"):
        _fail(p, value, "degrees (e.g. 193.82) or sexagesimal (e.g. 12:55:16.8, 12 55 16.8, 12h55m16.8s, "
                        "193d49m12s)" if hours else "degrees (e.g. -1.05) or sexagesimal (e.g. -01:02:03, -1d02m03s)")
    sign, a, unit, b, c = m.groups()
    a, b, c = float(a), float(b), float(c)
    if b >= 60 or c >= 60:
        _fail(p, value, "minutes and seconds below 60")
    degrees = a + b / 60 + c / 3600
    if hours and unit not in ("d", "°"):
        if sign == "-":
            _fail(p, value, "a positive right ascension")
        degrees *= 15
    return -degrees if sign == "-" else degrees
