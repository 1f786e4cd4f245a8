"""``Client(base_url)``: the API's queries as pandas DataFrames, cutouts as arrays or FITS.

The base URL names the survey as Fink's do: ``http://HOST`` serves ZTF under ``/api/v1``;
``http://HOST/lsst`` (or Fink's LSST host) serves Rubin under ``/lsst/api/v1``. Requests are
POSTs with a JSON body (Fink's documented way, and lists of ids of any length), except the
cutouts, annotations reads and VO documents (GET).
"""
from __future__ import annotations

import email.utils
import io
import re
import sys
import time
import warnings
from typing import Any, Iterable, Optional, Union
from urllib.parse import quote

import numpy as np
import pandas as pd
import requests
from tqdm.auto import tqdm

from .errors import APIError, APIWarning

RETRY_STATUSES = (429, 503)
CHUNK = 1 << 16
Ids = Union[str, int, Iterable[Union[str, int]]]


def _ids(ids: Ids) -> str:
    if isinstance(ids, (str, int, np.integer)):
        return str(ids)
    return ",".join(str(i) for i in ids)


def _retry_after(value: Optional[str], default: float) -> float:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return default
    try:
        return max(0.0, float(value))
    except ValueError:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time()) if when is not None else default


class Client:
    """A client of one survey's API.

    ``token``: an API token (``Authorization: token ...``) for writes (annotations).
    ``retries``: how many times a 429 or 503 is retried, each after the server's
    ``Retry-After`` (at most ``max_wait`` seconds; ``backoff`` doubling when it gives none).
    ``progress``: a progress bar for downloads (None: only for answers above 1 MB on a terminal).
    """

    def __init__(self, base_url: str, token: Optional[str] = None, timeout: float = 60.0, retries: int = 4,
                 max_wait: float = 60.0, backoff: float = 1.0, progress: Optional[bool] = None,
                 session: Optional[requests.Session] = None):
        base = base_url.rstrip("/")
        base = re.sub(r"/api/v1$", "", base)
        self.rubin = base.endswith("/lsst") or "lsst" in base.split("//", 1)[-1].split("/", 1)[0]
        self.api = f"{base}/api/v1"
        self.token = token
        self.timeout, self.retries, self.max_wait, self.backoff = timeout, retries, max_wait, backoff
        self.progress = progress
        self.session = session or requests.Session()
        self.session.headers.setdefault("User-Agent", "nocturne_client/0.1")

    # -- transport ------------------------------------------------------------------------------
    def request(self, method: str, route: str, params: Optional[dict] = None) -> requests.Response:
        """One call of ``route`` (relative to the API's /api/v1), retried on 429/503, its
        body read (with a progress bar for a long download); :class:`APIError` when refused."""
        url = f"{self.api}/{route.lstrip('/')}"
        params = {k: v for k, v in (params or {}).items() if v is not None}
        headers = {"Authorization": f"token {self.token}"} if self.token else {}
        wait = self.backoff
        for attempt in range(self.retries + 1):
            if method == "GET":
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout, stream=True)
            else:
                response = self.session.request(method, url, json=params, headers=headers, timeout=self.timeout,
                                                stream=True)
            if response.status_code not in RETRY_STATUSES or attempt == self.retries:
                break
            delay = min(self.max_wait, _retry_after(response.headers.get("Retry-After"), wait))
            response.close()
            time.sleep(delay)
            wait *= 2
        self._read(response)
        if response.status_code >= 400:
            raise APIError(response.status_code, _message(response), response.url)
        if response.headers.get("Warning"):
            warnings.warn(f"{route}: {response.headers['Warning']}", APIWarning, stacklevel=3)
        return response

    def _read(self, response: requests.Response) -> None:
        total = int(response.headers.get("Content-Length") or 0) or None
        show = self.progress if self.progress is not None else bool(total and total > 1 << 20 and sys.stderr.isatty())
        buf = io.BytesIO()
        with tqdm(total=total, unit="B", unit_scale=True, disable=not show, desc=response.url.split("?")[0]) as bar:
            for chunk in response.iter_content(CHUNK):
                buf.write(chunk)
                bar.update(len(chunk))
        response._content = buf.getvalue()  # requests' own cache of the body: .json(), .content read it

    def table(self, route: str, astropy: bool = False, **params) -> Any:
        """A route's rows as a DataFrame (or an astropy Table with ``astropy=True``)."""
        params.setdefault("output-format", "json")
        data = self.request("POST", route, params).json()
        df = pd.DataFrame(data if isinstance(data, list) else [data] if isinstance(data, dict) and data else [])
        if astropy:
            from astropy.table import Table
            return Table.from_pandas(df)
        return df

    # -- queries ----------------------------------------------------------------------------------
    @property
    def _object_param(self) -> str:
        return "diaObjectId" if self.rubin else "objectId"

    @property
    def _alert_param(self) -> str:
        return "diaSourceId" if self.rubin else "candid"

    def objects(self, ids: Ids, **params) -> pd.DataFrame:
        """ZTF: every alert of the objects (``withupperlim``, ``withfp``, ``columns``...);
        Rubin: the newest diaObject of each."""
        return self.table("objects", **{self._object_param: _ids(ids)}, **params)

    def sources(self, ids: Ids, **params) -> pd.DataFrame:
        """Rubin: every diaSource of the objects, newest first."""
        self._only("sources", rubin=True)
        return self.table("sources", diaObjectId=_ids(ids), **params)

    def fp(self, ids: Ids, **params) -> pd.DataFrame:
        """The forced photometry of the objects."""
        return self.table("fp", **{self._object_param: _ids(ids)}, **params)

    def conesearch(self, ra: Union[float, str], dec: Union[float, str], radius: float, **params) -> pd.DataFrame:
        """The newest alert of each object within ``radius`` arcseconds, nearest first."""
        return self.table("conesearch", ra=ra, dec=dec, radius=radius, **params)

    def latests(self, class_: str, n: int = 10, **params) -> pd.DataFrame:
        """ZTF: the newest alerts of a class."""
        self._only("latests", rubin=False)
        return self.table("latests", **{"class": class_, "n": n}, **params)

    def statistics(self, date: str = "", **params) -> pd.DataFrame:
        """One row per ingested night (``date``: YYYY, YYYYMM or YYYYMMDD)."""
        return self.table("statistics", date=date, **params)

    def fit(self, kind: str, object_id: Union[str, int], **params) -> dict:
        """A light-curve fit: ``kind`` supernova, varstar or mulens."""
        return self.request("POST", f"fit/{kind}", {self._object_param: str(object_id), **params}).json()

    def cutout(self, object_id: Union[str, int], kind: str = "Science", alert_id: Optional[int] = None) -> np.ndarray:
        """A cutout as a 2-D float array (NaN where blank); default the object's newest alert."""
        params = {self._object_param: str(object_id), self._alert_param: alert_id, "kind": kind,
                  "output-format": "array"}
        data = self.request("GET", "cutouts", params).json()
        if not data:
            raise APIError(404, f"no alert for {self._object_param} {object_id}", f"{self.api}/cutouts")
        values = next(iter(data.values()))
        return np.array([[np.nan if v is None else v for v in row] for row in values], dtype=float)

    def cutout_fits(self, object_id: Union[str, int], kind: str = "Science", alert_id: Optional[int] = None):
        """A cutout as FITS: an astropy ``HDUList`` (header with the survey's WCS and keywords)."""
        from astropy.io import fits
        params = {self._object_param: str(object_id), self._alert_param: alert_id, "kind": kind,
                  "output-format": "fits"}
        content = self.request("GET", "cutouts", params).content
        if not content:
            raise APIError(404, f"no alert for {self._object_param} {object_id}", f"{self.api}/cutouts")
        return fits.open(io.BytesIO(content))

    def annotations(self, object_id: Optional[str] = None, tag: Optional[str] = None, n: int = 100) -> pd.DataFrame:
        """ZTF: the annotations of an object, or with a tag."""
        self._only("annotations", rubin=False)
        return pd.DataFrame(self.request("GET", "annotations", {"objectId": object_id, "tag": tag, "n": n}).json())

    def annotate(self, object_id: str, text: Optional[str] = None, tags: Optional[Iterable[str]] = None,
                 internal_name: Optional[str] = None) -> dict:
        """ZTF: annotate an object (needs ``token`` with scope annotate); the annotation made."""
        self._only("annotate", rubin=False)
        if not self.token:
            raise ValueError("annotate needs a token: Client(base_url, token=...)")
        body = {"objectId": object_id, "text": text, "internal_name": internal_name,
                "tags": None if tags is None else ",".join(tags)}
        return self.request("POST", "annotations", body).json()

    # -- the portal -------------------------------------------------------------------------------
    def portal_url(self, object_id: Optional[Union[str, int]] = None, *, ra: Union[float, str, None] = None,
                   dec: Union[float, str, None] = None, radius: Optional[float] = None, startdate: Any = None,
                   stopdate: Any = None, class_: Optional[str] = None, n: Optional[int] = None,
                   portal: Optional[str] = None) -> str:
        """The address of the portal page that shows a query, to open in a browser. One of:

        - ``object_id``: the object's page (ZTF ``/<objectId>``, Rubin ``/lsst/<diaObjectId>``);
        - ``ra``, ``dec`` (degrees, or sexagesimal strings), ``radius`` (arcseconds; the portal's
          10 when omitted): the objects of a cone, as :meth:`conesearch` (Rubin too);
        - ``startdate`` [, ``stopdate``] (ISO, JD or MJD; one day when no stop): ZTF's alerts of a
          date window;
        - ``class_`` [, ``n``]: ZTF's latest alerts of a class, as :meth:`latests`.

        ``portal``: the portal's address when it is not the API's (default: this client's base
        URL without its ``/lsst``). The query goes into the portal's search language (``/?q=...``,
        ``&survey=rubin`` for Rubin)."""
        root = (portal or self.api[: -len("/api/v1")]).rstrip("/")
        if self.rubin and root.endswith("/lsst") and portal is None:
            root = root[: -len("/lsst")]
        given = [name for name, value in (("object_id", object_id), ("ra", ra), ("dec", dec), ("radius", radius),
                                          ("startdate", startdate), ("stopdate", stopdate), ("class_", class_))
                 if value is not None]
        kinds = {"object": bool({"object_id"} & set(given)), "cone": bool({"ra", "dec", "radius"} & set(given)),
                 "date": bool({"startdate", "stopdate"} & set(given)), "class": class_ is not None}
        if sum(kinds.values()) != 1:
            raise ValueError("portal_url takes one query: object_id, or ra+dec[+radius], or startdate[+stopdate], "
                             f"or class_[+n]; got {', '.join(given) or 'none'}")
        if n is not None and not kinds["class"]:
            raise ValueError("n goes with class_ (the portal shows up to 1000 rows of a cone or a date window)")
        if kinds["object"]:
            ids = [object_id] if isinstance(object_id, (str, int, np.integer)) else list(object_id)
            if len(ids) != 1:
                raise ValueError(f"the portal shows one object per page; got {len(ids)} ids")
            return f"{root}/lsst/{int(ids[0])}" if self.rubin else f"{root}/{ids[0]}"
        if kinds["cone"]:
            if ra is None or dec is None:
                raise ValueError("a cone needs both ra and dec")
            text = f"{ra} {dec}" + ("" if radius is None else f" {radius}")
        else:
            self._only("the portal's " + ("date window" if kinds["date"] else "class") + " search", rubin=False)
            if kinds["date"]:
                if startdate is None:
                    raise ValueError("a date window needs its startdate")
                text = f"date: {startdate}" + ("" if stopdate is None else f" / {stopdate}")
            else:
                text = f"class: {class_}" + ("" if n is None else f";{int(n)}")
        return f"{root}/?q={quote(text, safe='')}" + ("&survey=rubin" if self.rubin else "")

    def _only(self, name: str, rubin: bool) -> None:
        if self.rubin != rubin:
            raise ValueError(f"{name} is a {'Rubin' if rubin else 'ZTF'} route; this client's base URL is "
                             f"{'Rubin' if self.rubin else 'ZTF'}'s ({self.api})")


def _message(response: requests.Response) -> str:
    """The API's error sentence: ``message`` (Nocturne), ``text`` (Fink), else the body's start."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "text", "error"):
            if isinstance(body.get(key), str):
                return body[key]
    return (response.text or response.reason or "").strip()[:500]
