"""The catalogue a user sends to /api/v1/xmatch: CSV text → the sources to match.

As in Fink, RA/Dec may be degrees or sexagesimal (hours for RA: 12:34:56.7, 12h34m56.7s),
and the optional time column a Julian Date, a Modified Julian Date or an ISO date
(2023-10-18T05:00:00). Every problem is a 400 naming the column and the CSV row (line number).
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd
from astropy.time import Time

from . import endpoints as E
from .errors import ApiError
from .params import Param, parse_angle

MJD_RANGE = (10_000, 200_000)  # numbers here are MJDs (1886 to 2406); JDs are above 2,400,000


def read_catalog(text: str, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(catalogue, sources)``: the catalogue as sent (every column, names as given) and
    its sources with ``ra``, ``dec`` (degrees), ``id`` (the catalogue's row number) and
    ``time`` (JD, when ``names`` has a fourth entry)."""
    try:
        catalog = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as exc:
        raise ApiError(400, f"parameter 'catalog' is not CSV text with a header line: {exc}") from None
    if not 3 <= len(names) <= 4:
        raise ApiError(400, "parameter 'header' names the RA, Dec and ID columns (and optionally a time column)")
    missing = [n for n in names if n not in catalog.columns]
    if missing:
        raise ApiError(400, f"catalog has no column(s) {', '.join(missing)}; it has {', '.join(map(str, catalog.columns[:10]))}")
    if len(catalog) > E.MAX_XMATCH_ROWS:
        raise ApiError(413, f"catalog has {len(catalog)} rows; at most {E.MAX_XMATCH_ROWS} per request")
    sources = pd.DataFrame({"ra": _angles(catalog[names[0]], names[0], True),
                            "dec": _angles(catalog[names[1]], names[1], False),
                            "id": np.arange(len(catalog))})
    bad = np.flatnonzero((sources["dec"].abs() > 90).to_numpy() | (sources["ra"] < 0).to_numpy()
                         | (sources["ra"] > 360).to_numpy())
    if len(bad):
        raise ApiError(400, f"catalog row {int(bad[0]) + 2}: RA must be in [0, 360] and Dec in [-90, 90] degrees")
    if len(names) == 4:
        sources["time"] = _times(catalog[names[3]], names[3])
    return catalog, sources


def _angles(column: pd.Series, name: str, hours: bool) -> np.ndarray:
    values = pd.to_numeric(column, errors="coerce").to_numpy(float)
    param = Param(name, "ra" if hours else "dec")
    for i in np.flatnonzero(~np.isfinite(values)).tolist():
        try:
            values[i] = parse_angle(param, column.iloc[i], hours=hours)
        except ApiError as exc:
            raise ApiError(400, f"catalog row {i + 2}, column {name!r}: {exc.message.split(': ', 1)[-1]}") from None
    return values


def _times(column: pd.Series, name: str) -> np.ndarray:
    numbers = pd.to_numeric(column, errors="coerce").to_numpy(float)
    jd = np.where((numbers > MJD_RANGE[0]) & (numbers < MJD_RANGE[1]), numbers + 2400000.5, numbers)
    for i in np.flatnonzero(~np.isfinite(jd)).tolist():
        text = str(column.iloc[i]).strip()
        try:
            jd[i] = Time(text.replace("Z", ""), format="isot" if "T" in text else "iso", scale="utc").jd
        except ValueError:
            raise ApiError(400, f"catalog row {i + 2}, column {name!r} = {text[:40]!r}: expected a Julian Date, "
                                f"an MJD or an ISO date such as 2023-10-18T05:00:00") from None
    outside = np.flatnonzero((jd < 2_400_000) | (jd > 2_600_000))
    if len(outside):
        i = int(outside[0])
        raise ApiError(400, f"catalog row {i + 2}, column {name!r} = {column.iloc[i]!r}: expected a Julian Date, "
                            f"an MJD or an ISO date such as 2023-10-18T05:00:00")
    return jd
