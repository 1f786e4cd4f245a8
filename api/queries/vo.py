"""The Virtual Observatory's view of the store: cone searches (IVOA SCS 1.03) over the alerts
and the objects of each survey, and the cutouts as images (IVOA SIA 1.0).

Each answer is a DataFrame in the API's column names and a :class:`Catalogue` saying which
columns carry the standard's UCDs; api/vo_documents.py writes the VOTable. No Flask here.
"""
from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
import pandas as pd
from astropy.io import fits
from astropy.wcs import WCS, FITSFixedWarning
from astropy.wcs.utils import proj_plane_pixel_scales

from store import Store
from store.sky import cone_ranges

from .budget import check
from .cone import angular_distance, cone_rows, conesearch
from .cutouts import _FITS_LOCK, KINDS, CutoutUnreadable, fits_bytes
from .rubin import conesearch as rubin_conesearch
from .rubin.frame import column_types as rubin_columns
from .rubin.frame import frame as rubin_frame
from .rubin.frame import take_rows

SEPARATION = "v:separation_degree"
ADVICE = "narrow the cone (a smaller SR or SIZE)"


@dataclass(frozen=True)
class Survey:
    """What differs between the surveys for the VO: column names, the API's path, the cutout route's ids."""
    name: str
    api: str  # the API's path prefix
    object_id: str
    alert_id: str
    ra: str
    dec: str
    time: str
    time_is_jd: bool  # else MJD
    band: str
    mag_or_flux: tuple[str, ...]
    cutout_object: str  # parameter names of the cutout route
    cutout_alert: str


ZTF = Survey("ztf", "/api/v1", "i:objectId", "i:candid", "i:ra", "i:dec", "i:jd", True, "i:fid",
             ("i:magpsf", "i:sigmapsf"), "objectId", "candid")
RUBIN = Survey("rubin", "/lsst/api/v1", "r:diaObjectId", "r:diaSourceId", "r:ra", "r:dec", "r:midpointMjdTai",
               False, "r:band", ("r:psfFlux", "r:psfFluxErr"), "diaObjectId", "diaSourceId")
SURVEYS = {"ztf": ZTF, "rubin": RUBIN}


@dataclass(frozen=True)
class Catalogue:
    """A cone search's answer: its rows (API column names) and the columns holding the UCD1
    words SCS 1.03 asks for (one each of ID_MAIN, POS_EQ_RA_MAIN, POS_EQ_DEC_MAIN)."""
    rows: pd.DataFrame
    id_column: str
    ra_column: str
    dec_column: str
    overflow: bool = False


def _verb_columns(survey: Survey, key: str, verb: int, available: list[str]) -> list[str]:
    """SCS's VERB: 1 the id and position, 2 (default) the useful few, 3 every column held."""
    first = [key, survey.ra, survey.dec]
    if verb == 1:
        return first
    if verb == 2:
        other = survey.object_id if key == survey.alert_id else survey.alert_id
        few = [other, survey.time, survey.band, *survey.mag_or_flux, SEPARATION]
        return list(dict.fromkeys(first + [c for c in few if c in available]))
    return list(dict.fromkeys(first + available))


def cone_alerts(store: Store, survey: Survey, ra: float, dec: float, radius_deg: float, verb: int,
                limit: int) -> Catalogue:
    """Every alert within ``radius_deg`` of (ra, dec), nearest first, at most ``limit``."""
    if survey is ZTF:
        found = cone_rows(store, ra, dec, radius_deg)
        df = pd.DataFrame([cells for _, cells in found])
    else:
        df = _rubin_alerts(store, ra, dec, radius_deg)
    if not df.empty:
        df = df.sort_values(SEPARATION, kind="stable")
    overflow = len(df) > limit
    df = df.head(limit).reset_index(drop=True)
    columns = _verb_columns(survey, survey.alert_id, verb, list(df.columns))
    return Catalogue(df.reindex(columns=columns), survey.alert_id, survey.ra, survey.dec, overflow)


def _rubin_alerts(store: Store, ra: float, dec: float, radius_deg: float) -> pd.DataFrame:
    light = list(rubin_columns("pixel"))
    pixel = store.table("pixel")
    ranges = [(pixel.keys.prefix(lo), pixel.keys.prefix(hi))
              for lo, hi in cone_ranges(ra, dec, radius_deg, store.schema.pixel_order)]
    check(ADVICE)
    data = pixel.read(ranges=ranges, columns=light, on_batch=lambda: check(ADVICE))
    if not len(data):
        return pd.DataFrame()
    sep = angular_distance(ra, dec, np.asarray(data["r:ra"], float), np.asarray(data["r:dec"], float))
    inside = np.flatnonzero(sep <= radius_deg)
    picked = {name: take_rows(data.columns.get(name), inside) for name in light}
    out = rubin_frame(picked, "pixel", light, n=len(inside), newest_first=False)
    if not out.empty:
        out[SEPARATION] = sep[inside]
    return out


def cone_objects(store: Store, survey: Survey, ra: float, dec: float, radius_deg: float, verb: int,
                 limit: int) -> Catalogue:
    """The newest alert of each object within the cone (the API's conesearch), nearest first."""
    arcsec = radius_deg * 3600
    if survey is ZTF:
        df = conesearch(store, ra, dec, arcsec, n=limit + 1)
    else:
        df = rubin_conesearch(store, ra, dec, arcsec, n=limit + 1)
    overflow = len(df) > limit
    df = df.head(limit).reset_index(drop=True)
    columns = _verb_columns(survey, survey.object_id, verb, list(df.columns))
    return Catalogue(df.reindex(columns=columns), survey.object_id, survey.ra, survey.dec, overflow)


# -- Simple Image Access: each alert's cutouts, as images ---------------------------------------
SIA_FORMATS = {"image/fits": "fits", "image/png": "png"}


def sia_images(store: Store, survey: Survey, ra: float, dec: float, size_deg: tuple[float, float],
               formats: tuple[str, ...], base_url: str, limit: int,
               centre_only: bool = False) -> tuple[list[dict], bool]:
    """One row per cutout (Science, Template, Difference) and format of each alert whose
    stamp overlaps the box ``size_deg`` (width, height) centred on (ra, dec), nearest first:
    the stamp's centre, shape, pixel scale and WCS from its own FITS header, and the access
    URL of the cutout route. At most ``limit`` rows; the flag says whether some were left out.
    ``centre_only`` (SIA's INTERSECT=CENTER): only stamps whose centre is in the box."""
    # a stamp overlaps the box when its centre is within the box's half-diagonal plus the
    # stamp's own half-diagonal; the cone is that wide, and each stamp is then checked
    half = float(np.hypot(*size_deg)) / 2
    alerts = cone_alerts(store, survey, ra, dec, half + 0.02, 3, max(limit, 1)).rows
    rows = []
    for _, alert in alerts.iterrows():
        stamps = _stamps(store, survey, alert)
        for kind in KINDS:
            header = stamps.get(kind)
            if header is None or not _overlaps(header, survey, alert, ra, dec, size_deg, centre_only):
                continue
            for mime in formats:
                rows.append(_image_row(survey, alert, kind, header, mime, base_url))
    return rows[:limit], len(rows) > limit


def _stamps(store: Store, survey: Survey, alert) -> dict:
    """{kind: FITS header} of the alert's readable cutouts."""
    if survey is ZTF:
        table = store.table("main")
        key = table.keys.build(alert["i:objectId"], alert["i:jd"], int(alert["i:candid"]))
        names = {k: f"b:cutout{k}_stampData" for k in KINDS}
    else:
        table = store.table("cutouts")
        key = table.keys.build(int(alert["r:diaObjectId"]), alert["r:midpointMjdTai"], int(alert["r:diaSourceId"]))
        names = {k: f"b:cutout{k}" for k in KINDS}
    found = table.read(keys=[key], columns=list(names.values())).rows()
    cells = found[0][1] if found else {}
    headers = {}
    for kind, name in names.items():
        try:
            headers[kind] = _header(fits_bytes(cells.get(name)))
        except (CutoutUnreadable, ValueError, KeyError, OSError):
            continue  # an absent or damaged stamp is not offered
    return headers


def _header(data: bytes) -> fits.Header:
    with _FITS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", fits.verify.VerifyWarning)  # ZTF's stamps pad their SIMPLE card
        with fits.open(io.BytesIO(data), memmap=False) as hdul:
            return hdul[0].header.copy()


def _geometry(header: fits.Header, survey: Survey, alert) -> tuple[float, float, float, float, WCS | None]:
    """(centre ra, centre dec, pixel scale deg/pix, half-diagonal deg, WCS) of a stamp; without a
    celestial WCS, the alert's position and a scale of NaN."""
    nx, ny = int(header.get("NAXIS1", 0)), int(header.get("NAXIS2", 0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header).celestial
            ok = wcs.has_celestial and wcs.naxis == 2
        except Exception:  # a header astropy cannot read as WCS
            wcs, ok = None, False
    if not ok:
        return float(alert[survey.ra]), float(alert[survey.dec]), float("nan"), 0.0, None
    centre = wcs.pixel_to_world_values((nx - 1) / 2, (ny - 1) / 2)
    scale = float(np.mean(proj_plane_pixel_scales(wcs)))
    return float(centre[0]) % 360, float(centre[1]), scale, scale * float(np.hypot(nx, ny)) / 2, wcs


def _overlaps(header, survey: Survey, alert, ra: float, dec: float, size_deg, centre_only: bool) -> bool:
    cra, cdec, _, half, _ = _geometry(header, survey, alert)
    if centre_only:
        half = 0.0
    dra = ((cra - ra + 180) % 360 - 180) * np.cos(np.radians(dec))
    return abs(dra) <= size_deg[0] / 2 + half and abs(cdec - dec) <= size_deg[1] / 2 + half


def _image_row(survey: Survey, alert, kind: str, header, mime: str, base_url: str) -> dict:
    cra, cdec, scale, _, wcs = _geometry(header, survey, alert)
    nx, ny = int(header.get("NAXIS1", 0)), int(header.get("NAXIS2", 0))
    time = float(alert[survey.time])
    mjd = time - 2400000.5 if survey.time_is_jd else time
    obj, src = alert[survey.object_id], int(alert[survey.alert_id])
    query = {survey.cutout_object: obj, survey.cutout_alert: src, "kind": kind, "output-format": SIA_FORMATS[mime]}
    band = alert.get(survey.band)
    cd = wcs.wcs.get_pc() * wcs.wcs.cdelt[:, None] if wcs is not None else np.full((2, 2), np.nan)
    nan2 = np.array([np.nan, np.nan])
    return {
        "title": f"{obj} {src} {kind}",
        "ra": cra, "dec": cdec,
        "instrument": "ZTF" if survey is ZTF else "Rubin LSSTCam",
        "mjd_obs": mjd,
        "naxes": 2, "naxis": np.array([nx, ny], dtype=np.int32), "scale": np.array([scale, scale]),
        "format": mime,
        "frame": "ICRS", "equinox": 2000.0,
        "projection": wcs.wcs.ctype[0][-3:] if wcs is not None else "",
        "crpix": np.array(wcs.wcs.crpix, dtype=float) if wcs is not None else nan2,
        "crval": np.array(wcs.wcs.crval, dtype=float) if wcs is not None else nan2,
        "cd": np.array(wcs.wcs.get_pc() * wcs.wcs.cdelt[:, None], dtype=float).ravel() if wcs is not None
        else np.full(4, np.nan),
        "band": "" if band is None or (isinstance(band, float) and np.isnan(band)) else str(band),
        "kind": kind, "object_id": str(obj), "alert_id": src,
        "access_url": f"{base_url}{survey.api}/cutouts?{urlencode(query)}",
    }


#: the SIA 1.0 UCD of each image column (SIA 1.0, section 4.2.2)
SIA_UCDS = {"title": "VOX:Image_Title", "ra": "POS_EQ_RA_MAIN", "dec": "POS_EQ_DEC_MAIN", "instrument": "INST_ID",
            "mjd_obs": "VOX:Image_MJDateObs", "naxes": "VOX:Image_Naxes", "naxis": "VOX:Image_Naxis",
            "scale": "VOX:Image_Scale", "format": "VOX:Image_Format", "frame": "VOX:STC_CoordRefFrame",
            "equinox": "VOX:STC_CoordEquinox", "projection": "VOX:WCS_CoordProjection",
            "crpix": "VOX:WCS_CoordRefPixel", "crval": "VOX:WCS_CoordRefValue", "cd": "VOX:WCS_CDMatrix",
            "band": "VOX:BandPass_ID", "access_url": "VOX:Image_AccessReference"}
SIA_COLUMNS = ["title", "ra", "dec", "instrument", "mjd_obs", "naxes", "naxis", "scale", "format", "frame",
               "equinox", "projection", "crpix", "crval", "cd", "band", "kind", "object_id", "alert_id", "access_url"]
