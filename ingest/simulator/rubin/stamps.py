"""Rubin cutouts: three FITS stamps per alert, shaped like those of Rubin's alerts.

Each stamp is a plain (not gzipped) FITS file of three HDUs, as Rubin sends
them: the image in nJy (float32, square, the source's footprint ``bboxSize``
but at least 30 pixels, as in Rubin's alerts; with its WCS: tangent projection
at the source, 0.2"/pixel, rotated by the visit's position angle, and the
cutout's corner on the detector), the variance plane (``EXTNAME = 'UNCERT'``)
and the PSF model image (float64, ``EXTNAME = 'PSFIMAGE'``, 41 x 41 for the
science and difference images, 55 x 55 for the template): 34,560 bytes for a
30-pixel stamp.
The template holds the static scene (the star itself, or the host galaxy
near a supernova, or a neighbour); the science image adds the difference
source and the visit's noise; the difference is science minus template.  The
noise per pixel follows the alert's ``psfFluxErr``.
"""

from __future__ import annotations

import numpy as np

from ..cutouts import gaussians, psf
from . import survey

MIN_SIZE = 30
PSF_SIZE, TEMPLATE_PSF_SIZE = 41, 55
BLOCK = 2880
TEMPLATE_SEEING = 0.7          # arcsec


def _card(key: str, value, comment: str = "") -> str:
    if isinstance(value, bool):
        v = f"{'T' if value else 'F':>20}"
    elif isinstance(value, str):
        v = f"'{value:<8}'"
    elif isinstance(value, (int, np.integer)):
        v = f"{int(value):>20}"
    else:
        text = f"{float(value):.14G}"
        v = f"{text if ('.' in text or 'E' in text) else text + '.0':>20}"
    text = f"{key:<8}= {v}" + (f" / {comment}" if comment else "")
    return f"{text[:80]:<80}"


def _header(cards: list[str]) -> bytes:
    body = "".join(cards) + f"{'END':<80}"
    pad = (-len(body)) % BLOCK
    return (body + " " * pad).encode("ascii")


def _pad(data: bytes) -> bytes:
    return data + b"\x00" * ((-len(data)) % BLOCK)


def _ext(kind: str, nx: int, ny: int, bitpix: int, name: str) -> bytes:
    cards = [_card("XTENSION", "IMAGE", "Image extension"), _card("BITPIX", bitpix, "array data type"),
             _card("NAXIS", 2, "number of array dimensions"), _card("NAXIS1", nx), _card("NAXIS2", ny),
             _card("PCOUNT", 0, "number of parameters"), _card("GCOUNT", 1, "number of groups")]
    if kind == "variance":
        cards.append(_card("UTYPE", "VarianceUncertainty"))
    cards.append(_card("EXTNAME", name, "extension name"))
    return _header(cards)


_PSFHDR = {k: _ext("psf", k, k, -64, "PSFIMAGE") for k in (PSF_SIZE, TEMPLATE_PSF_SIZE)}


def _psf_hdu(sigma: float, size: int) -> bytes:
    grid = np.arange(size) - (size - 1) / 2
    g = np.exp(-0.5 * (grid / sigma) ** 2)
    p = np.outer(g, g)
    return _PSFHDR[size] + _pad((p / p.sum()).astype(">f8").tobytes())


def _primary(ra, dec, rot, cutmin_x, cutmin_y, crpix1, crpix2, size) -> bytes:
    scale = survey.PIXSCALE / 3600
    c, s = np.cos(np.radians(rot)), np.sin(np.radians(rot))
    cards = [
        _card("SIMPLE", True, "conforms to FITS standard"), _card("BITPIX", -32, "array data type"),
        _card("NAXIS", 2, "number of array dimensions"), _card("NAXIS1", size), _card("NAXIS2", size),
        _card("EXTEND", True), _card("CUTMINX", int(cutmin_x)), _card("CUTMINY", int(cutmin_y)),
        _card("ROTPA", float(rot), "Pos angle in deg of focal plane +Y wrt North"), _card("BUNIT", "nJy"),
        _card("WCSAXES", 2, "Number of coordinate axes"),
        _card("CRPIX1", float(crpix1), "Pixel coordinate of reference point"),
        _card("CRPIX2", float(crpix2), "Pixel coordinate of reference point"),
        _card("PC1_1", -scale * c, "Coordinate transformation matrix element"),
        _card("PC1_2", scale * s, "Coordinate transformation matrix element"),
        _card("PC2_1", scale * s, "Coordinate transformation matrix element"),
        _card("PC2_2", scale * c, "Coordinate transformation matrix element"),
        _card("CDELT1", 1.0, "Coordinate increment at reference point"),
        _card("CDELT2", 1.0, "Coordinate increment at reference point"),
        _card("CUNIT1", "deg", "Units of coordinate increment and value"),
        _card("CUNIT2", "deg", "Units of coordinate increment and value"),
        _card("CTYPE1", "RA---TAN", "TAN (gnomonic) projection"),
        _card("CTYPE2", "DEC--TAN", "TAN (gnomonic) projection"),
        _card("CRVAL1", float(ra), "Coordinate value at reference point"),
        _card("CRVAL2", float(dec), "Coordinate value at reference point"),
        _card("LATPOLE", 90.0, "[deg] Native latitude of celestial pole"),
        _card("MJDREF", 0.0, "[d] MJD of fiducial time"), _card("RADESYS", "ICRS", "Equatorial coordinate system"),
        _card("ORIGIN", "Nocturne", "simulated Rubin cutout"),
    ]
    return _header(cards)


def render(fr, unit, a_rows, ra, dec, bbox, rng) -> list[tuple[bytes, bytes, bytes]]:
    """(difference, science, template) FITS bytes of each alert."""
    n = len(a_rows)
    side = np.maximum(np.asarray(bbox, np.int64), MIN_SIZE)
    rot = rng.uniform(0, 360, n)
    off = np.where(np.isin(unit.kind[unit.obj[a_rows]], [0, 1]), rng.uniform(1, 8, n), 0.0)
    ang = rng.uniform(0, 2 * np.pi, n)
    out: list = [None] * n
    for size in np.unique(side).tolist():
        idx = np.flatnonzero(side == size)
        stamps = _render_size(fr, a_rows[idx], ra[idx], dec[idx], rot[idx], off[idx], ang[idx], size, rng)
        for i, st in zip(idx.tolist(), stamps):
            out[i] = st
    return out


def _render_size(fr, rows, ra, dec, rot, off, ang, size, rng):
    n = len(rows)
    flux, err = fr.flux[rows], fr.flux_err[rows]
    template = fr.template[rows]
    sig_s = fr.seeing[rows] / 2.3548 / survey.PIXSCALE
    sig_t = np.full(n, TEMPLATE_SEEING / 2.3548 / survey.PIXSCALE)
    x, y = fr.x[rows], fr.y[rows]
    xc = (size - 1) / 2 + (x - np.floor(x)) - 0.5
    yc = (size - 1) / 2 + (y - np.floor(y)) - 0.5
    # the static source: a host galaxy sits off-centre and is extended; a star lies under the source
    hx, hy = xc + off * np.cos(ang), yc + off * np.sin(ang)
    extended = np.where(off > 0, 2.5, 1.0)
    pix_noise = (err / (np.sqrt(4 * np.pi) * sig_s)).astype(np.float32)
    tmpl_noise = pix_noise * 0.3
    tmpl = gaussians(hx, hy, sig_t * extended, template, size)
    sci = gaussians(hx, hy, np.hypot(sig_s, sig_t * extended), template, size) + psf(xc, yc, sig_s, flux, size)
    tmpl += rng.standard_normal((n, size, size), dtype=np.float32) * tmpl_noise[:, None, None]
    sci += rng.standard_normal((n, size, size), dtype=np.float32) * pix_noise[:, None, None]
    diff = sci - tmpl
    uncert = _ext("variance", size, size, -32, "UNCERT")
    template_psf = _psf_hdu(float(sig_t[0]), TEMPLATE_PSF_SIZE) if n else b""
    out = []
    for i in range(n):
        head = _primary(ra[i], dec[i], rot[i], int(x[i]) - size // 2, int(y[i]) - size // 2, xc[i] + 1,
                        yc[i] + 1, size)
        visit_psf = _psf_hdu(float(sig_s[i]), PSF_SIZE)
        stamps = []
        for img, noise, psf_bytes in ((diff[i], np.hypot(pix_noise[i], tmpl_noise[i]), visit_psf),
                                      (sci[i], pix_noise[i], visit_psf), (tmpl[i], tmpl_noise[i], template_psf)):
            var = np.full((size, size), noise ** 2, dtype=">f4")
            stamps.append(head + _pad(img.astype(">f4").tobytes()) + uncert + _pad(var.tobytes()) + psf_bytes)
        out.append(tuple(stamps))
    return out
