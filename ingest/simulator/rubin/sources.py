"""Per-observation records: a diaSource for each detection, a diaForcedSource for each visit.

Every observation row of a unit (an object at a visit) gets its time, band,
visit, detector and pixel (with the visit's dither), and its fluxes in nJy.
Detections become ``diaSource`` records (also those of earlier nights, which
later alerts carry as ``prvDiaSources``); every row becomes a forced source
(``prvDiaForcedSources``).  Records are built once per unit as Arrow struct
arrays; the alerts take their slices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import hashing
from ..populations import KINDS
from . import schema, survey

BAND_NAMES = np.array(list(survey.BANDS), dtype=object)
PROCESSING_DELAY = 2.5 / 1440          # days from exposure to the diaSource's processing


@dataclass
class Frame:
    """Per-row values shared by diaSources and forced sources, and per-object ids."""

    mjd: np.ndarray
    band: np.ndarray
    visit_id: np.ndarray
    ordinal: np.ndarray
    detector: np.ndarray
    x: np.ndarray
    y: np.ndarray
    flux: np.ndarray          # nJy, difference
    flux_err: np.ndarray
    template: np.ndarray      # nJy under the PSF in the template
    seeing: np.ndarray
    dia_source_id: np.ndarray  # per row (meaningful on detections)
    dia_object_id: np.ndarray  # per object (0 for asteroids)
    det_rows: np.ndarray       # indices of detection rows, ascending
    asteroid: np.ndarray       # per object


def frame(plan, unit) -> Frame:
    vis = plan.visits
    seed = plan.config.seed
    v = unit.visit
    o = unit.obj
    f = unit.field[o]
    # the visit's dither moves the field on the sky: a star falls on other detectors
    dx = (hashing.uniform(seed, v, 1) - 0.5) * 0.3 * plan.fields.dra[f]
    dy = (hashing.uniform(seed, v, 2) - 0.5) * 0.3 * plan.fields.ddec
    fx = np.mod(unit.ra[o] - plan.fields.ra0[f] + dx, plan.fields.dra[f]) + plan.fields.ra0[f]
    fy = np.mod(unit.dec[o] - plan.fields.dec0[f] + dy, plan.fields.ddec) + plan.fields.dec0[f]
    detector, x, y = plan.fields.locate(f, fx, fy)
    k = survey.MODEL_TO_NJY
    det_rows = np.flatnonzero(unit.det)
    src_id = survey.dia_source_ids(v, detector, unit.gid[o])
    n_obj = unit.n_objects
    first = np.full(n_obj, -1, dtype=np.int64)
    d_obj = o[det_rows]
    uo, fi = np.unique(d_obj, return_index=True)
    first[uo] = det_rows[fi]
    asteroid = unit.kind == KINDS.index("asteroid")
    obj_id = np.where((first >= 0) & ~asteroid, src_id[np.maximum(first, 0)], 0)
    return Frame(vis.mjd[v], vis.band[v], vis.visit[v], v, detector, x, y, unit.df_obs * k,
                 unit.sigma * k, unit.static * k, vis.seeing[v], src_id, obj_id, det_rows, asteroid)


def _arr(values, typ, mask=None):
    return pa.array(values, type=typ, mask=mask)


def _struct(spec: str, cols: dict, n: int) -> pa.StructArray:
    arrays, flds = [], []
    for name, code in schema.fields(spec):
        typ = schema._TYPES[code]
        v = cols.get(name)
        if v is None:
            a = pa.nulls(n, typ)
        elif isinstance(v, pa.Array):
            a = v
        elif np.ndim(v) == 0:
            a = pa.array(np.full(n, v), type=typ)
        else:
            a = _arr(v, typ)
        arrays.append(a)
        flds.append(pa.field(name, typ))
    return pa.StructArray.from_arrays(arrays, fields=flds)


def blank(arr: pa.StructArray, mask: np.ndarray) -> pa.StructArray:
    """``arr`` with every field null on the rows of ``mask`` (the struct itself stays)."""
    if not mask.any():
        return arr
    m = pa.array(mask)
    kids = [pc.if_else(m, pa.scalar(None, c.type), c) for c in arr.flatten()]
    return pa.StructArray.from_arrays(kids, fields=list(arr.type))


def dia_sources(fr: Frame, unit, ssobject: np.ndarray, rng) -> pa.StructArray:
    """diaSource records of the detection rows ``fr.det_rows`` (in that order)."""
    r = fr.det_rows
    n = len(r)
    o = unit.obj[r]
    kind = np.array(KINDS, dtype=object)[unit.kind[o]]
    bogus = kind == "bogus"
    asteroid = kind == "asteroid"
    flux, err = fr.flux[r], fr.flux_err[r]
    snr = np.abs(flux) / err
    seeing = fr.seeing[r]
    ast = np.hypot(0.01, 0.6 * seeing / np.maximum(snr, 1.0))      # arcsec
    ra = np.mod(unit.ra[o] + rng.normal(0, 1, n) * ast / 3600 / np.cos(np.radians(unit.dec[o])), 360)
    dec = unit.dec[o] + rng.normal(0, 1, n) * ast / 3600
    rate = np.zeros(n)
    if asteroid.any():
        rate[asteroid] = unit.params["asteroid"]["rate"][unit.local[o[asteroid]]]
    trail = np.where(asteroid, rate * 30 / 86400 * 3600, np.abs(rng.normal(0, 0.3, n)) + 0.5 * seeing)
    mom = (seeing / 2.3548) ** 2
    elong = np.where(bogus, rng.uniform(1.3, 3.0, n), 1 + np.abs(rng.normal(0, 0.05, n)))
    pa_ = rng.uniform(-np.pi / 2, np.pi / 2, n)
    a2, b2 = mom * elong, mom / elong
    ixx = a2 * np.cos(pa_) ** 2 + b2 * np.sin(pa_) ** 2
    iyy = a2 * np.sin(pa_) ** 2 + b2 * np.cos(pa_) ** 2
    ixy = (a2 - b2) * np.sin(pa_) * np.cos(pa_)
    dipole = bogus & (rng.random(n) < 0.45)
    template = fr.template[r]
    reliability = np.where(bogus, 0.6 * rng.beta(1.5, 4, n), 1 - 0.35 * rng.beta(0.5, 4, n))
    host = np.isin(kind, ["sn_ia", "sn_ii"])
    mjd = fr.mjd[r]
    cols = {
        "diaSourceId": fr.dia_source_id[r], "visit": fr.visit_id[r], "detector": fr.detector[r],
        "diaObjectId": fr.dia_object_id[o], "ssObjectId": ssobject[o], "parentDiaSourceId": 0,
        "midpointMjdTai": mjd, "ra": ra, "raErr": ast / 3600 * rng.uniform(0.9, 1.1, n),
        "dec": dec, "decErr": ast / 3600 * rng.uniform(0.9, 1.1, n),
        "ra_dec_Cov": (ast / 3600) ** 2 * rng.normal(0, 0.1, n),
        "x": fr.x[r], "xErr": ast / survey.PIXSCALE, "y": fr.y[r], "yErr": ast / survey.PIXSCALE,
        "centroid_flag": False, "apFlux": flux + rng.normal(0, 1.3, n) * err, "apFluxErr": 1.5 * err,
        "apFlux_flag": False, "apFlux_flag_apertureTruncated": False, "isNegative": flux < 0,
        "snr": snr, "psfFlux": flux, "psfFluxErr": err,
        "psfChi2": 1681 * rng.lognormal(0, 0.15, n) * np.where(bogus, 3, 1), "psfNdata": 1681,
        "psfFlux_flag": False, "psfFlux_flag_edge": False, "psfFlux_flag_noGoodPixels": False,
        "trailFlux": flux * rng.uniform(1.0, 1.08, n), "trailFluxErr": 0.02 * err,
        "trailRa": ra, "trailDec": dec, "trailLength": trail, "trailAngle": rng.uniform(-180, 180, n),
        "trailNdata": 0, "trail_flag_edge": False,
        "dipoleMeanFlux": pa.array(np.abs(flux) * 0.5, type=pa.float32(), mask=~dipole),
        "dipoleMeanFluxErr": pa.array(err, type=pa.float32(), mask=~dipole),
        "dipoleFluxDiff": pa.array(np.abs(flux) * 1.6, type=pa.float32(), mask=~dipole),
        "dipoleFluxDiffErr": pa.array(err * 1.4, type=pa.float32(), mask=~dipole),
        "dipoleLength": pa.array(rng.uniform(0.3, 1.5, n), type=pa.float32(), mask=~dipole),
        "dipoleAngle": pa.array(rng.uniform(-180, 180, n), type=pa.float32(), mask=~dipole),
        "dipoleChi2": pa.array(rng.uniform(900, 3000, n), type=pa.float32(), mask=~dipole),
        "dipoleNdata": np.where(dipole, 1681, 0),
        "scienceFlux": template + flux, "scienceFluxErr": np.hypot(err, 0.01 * np.abs(template)),
        "forced_PsfFlux_flag": False, "forced_PsfFlux_flag_edge": False,
        "forced_PsfFlux_flag_noGoodPixels": False,
        "templateFlux": template + rng.normal(0, 0.05, n) * err, "templateFluxErr": 0.05 * err + 5.0,
        "ixx": ixx, "iyy": iyy, "ixy": ixy, "ixxPSF": mom, "iyyPSF": mom * rng.uniform(0.95, 1.05, n),
        "ixyPSF": mom * rng.normal(0, 0.05, n), "shape_flag": False, "shape_flag_no_pixels": False,
        "shape_flag_not_contained": False, "shape_flag_parent_source": False,
        "extendedness": np.where(host, rng.uniform(0.3, 1.0, n), rng.uniform(0.0, 0.2, n)),
        "reliability": reliability, "band": BAND_NAMES[fr.band[r]], "isDipole": dipole,
        "dipoleFitAttempted": dipole, "timeProcessedMjdTai": mjd + PROCESSING_DELAY * rng.uniform(0.9, 1.1, n),
        "bboxSize": np.clip(np.round(4 * seeing / survey.PIXSCALE + 12 * np.log10(snr)), 20, 60).astype(np.int64),
        "pixelFlags": bogus & (rng.random(n) < 0.5), "glint_trail": False,
    }
    for flag in ("bad", "cr", "crCenter", "edge", "nodata", "nodataCenter", "interpolated",
                 "interpolatedCenter", "offimage", "saturated", "saturatedCenter", "suspect",
                 "suspectCenter", "streak", "streakCenter", "injected", "injectedCenter",
                 "injected_template", "injected_templateCenter"):
        cols[f"pixelFlags_{flag}"] = False
    cols["pixelFlags_cr"] = cols["pixelFlags"] & (_subtypes(unit, o) == "cosmic_ray")
    cols["pixelFlags_interpolated"] = cols["pixelFlags"] & ~cols["pixelFlags_cr"]
    return _struct(schema.DIA_SOURCE, cols, n)


def _subtypes(unit, o) -> np.ndarray:
    out = np.empty(len(o), dtype=object)
    for kind, p in unit.params.items():
        m = unit.kind[o] == KINDS.index(kind)
        out[m] = p["subtype"][unit.local[o[m]]]
    return out


def forced_sources(fr: Frame, unit, rows: np.ndarray) -> pa.StructArray:
    """diaForcedSource records of ``rows`` (measured at the object's position, every visit)."""
    o = unit.obj[rows]
    n = len(rows)
    flux, err = fr.flux[rows], fr.flux_err[rows]
    forced = flux          # the visit's measurement at the object's position
    template = fr.template[rows]
    mjd = fr.mjd[rows]
    cols = {
        "diaForcedSourceId": survey.forced_source_ids(fr.ordinal[rows], fr.detector[rows], unit.gid[o]),
        "diaObjectId": fr.dia_object_id[o], "ra": unit.ra[o], "dec": unit.dec[o],
        "visit": fr.visit_id[rows], "detector": fr.detector[rows], "psfFlux": forced, "psfFluxErr": err,
        "midpointMjdTai": mjd, "scienceFlux": template + forced,
        "scienceFluxErr": np.hypot(err, 0.01 * np.abs(template)), "band": BAND_NAMES[fr.band[rows]],
        "timeProcessedMjdTai": mjd + 1.0 + PROCESSING_DELAY,
    }
    return _struct(schema.DIA_FORCED_SOURCE, cols, n)
