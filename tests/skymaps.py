"""Gravitational-wave sky maps for the skymap tests: a gzipped flat HEALPix map (as
bayestar.fits.gz) of a Gaussian blob, and the credible level of each of its pixels computed
independently of science/skymap.py."""
from __future__ import annotations

import gzip
import io

import numpy as np
from astropy.io import fits
from cdshealpix import nested, ring

NSIDE, DEPTH = 64, 6


def gaussian_map(ra0, dec0, sigma_deg, date_obs, ordering="NESTED") -> bytes:
    """A gzipped flat HEALPix map (as bayestar.fits.gz) of a Gaussian blob."""
    lon, lat = nested.healpix_to_lonlat(np.arange(12 * NSIDE**2, dtype=np.uint64), DEPTH)
    prob = np.exp(-0.5 * (sep(lon.deg, lat.deg, ra0, dec0) / sigma_deg) ** 2)
    prob /= prob.sum()
    if ordering == "RING":
        order = ring.lonlat_to_healpix(lon, lat, NSIDE).astype(np.int64)
        reordered = np.empty_like(prob)
        reordered[order] = prob
        prob = reordered
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="PROB", format="D", array=prob)])
    hdu.header.update({"PIXTYPE": "HEALPIX", "ORDERING": ordering, "NSIDE": NSIDE, "DATE-OBS": date_obs})
    buf = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(buf)
    return gzip.compress(buf.getvalue())


def sep(ra, dec, ra0, dec0):
    ra, dec, ra0, dec0 = map(np.radians, (ra, dec, ra0, dec0))
    c = np.sin(dec) * np.sin(dec0) + np.cos(dec) * np.cos(dec0) * np.cos(ra - ra0)
    return np.degrees(np.arccos(np.clip(c, -1, 1)))


def levels(ra0, dec0, sigma):
    """The credible level of every nested pixel of the test map (computed here, independently)."""
    lon, lat = nested.healpix_to_lonlat(np.arange(12 * NSIDE**2, dtype=np.uint64), DEPTH)
    prob = np.exp(-0.5 * (sep(lon.deg, lat.deg, ra0, dec0) / sigma) ** 2)
    prob /= prob.sum()
    order = np.argsort(-prob)
    levels = np.empty_like(prob)
    levels[order] = np.cumsum(prob[order])
    return levels


def lonlat(ra, dec):
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude
    return Longitude([ra] * u.deg), Latitude([dec] * u.deg)
