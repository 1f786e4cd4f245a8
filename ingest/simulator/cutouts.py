"""Image stamps: 63 x 63 science, template and difference cutouts, as gzipped FITS.

Each alert's stamps are centred on the candidate.  The template (a deep
reference coadd) holds the reference source -- the star itself, the host
galaxy, a neighbour -- plus a few field stars, with low noise.  The science
image is the same scene seen with the exposure's seeing, plus the transient's
flux change, plus sky noise set by the exposure's limiting magnitude.  The
difference image is the flux change convolved with the science PSF plus the
noise of both images, so that PSF photometry on it gives back ``magpsf``.
Artefacts (bogus) draw dipoles, cosmic rays, ghosts or subtraction rings.

PSFs are a core + wing pair of circular Gaussians, rendered for a whole batch
of stamps at once as outer products of 1-D profiles.  Noise comes from a
precomputed bank of normal deviates read at random offsets.  FITS bytes are a
cached 2880-byte header (made once with astropy) followed by big-endian
float32 pixels and zero padding, then gzipped (cramjam, libdeflate-fast).
"""

from __future__ import annotations

import numpy as np

SIZE = 63
CENTRE = (SIZE - 1) / 2
_NPIX = SIZE * SIZE
_BANK_SIZE = 1 << 22
_HEADER: bytes | None = None
_PAD = b"\x00" * ((2880 - (_NPIX * 4) % 2880) % 2880)
_BANK: np.ndarray | None = None


def fits_header() -> bytes:
    """The FITS header shared by every stamp (built once with astropy)."""
    global _HEADER
    if _HEADER is None:
        from astropy.io import fits
        h = fits.Header()
        h["SIMPLE"] = True
        h["BITPIX"] = -32
        h["NAXIS"] = 2
        h["NAXIS1"] = SIZE
        h["NAXIS2"] = SIZE
        h["BUNIT"] = "DN"
        h["ORIGIN"] = ("Nocturne", "simulated ZTF-like cutout")
        _HEADER = h.tostring().encode("ascii")
        assert len(_HEADER) % 2880 == 0
    return _HEADER


def noise_bank() -> np.ndarray:
    """Standard normal deviates shared by all stamps (fixed seed, per process)."""
    global _BANK
    if _BANK is None:
        _BANK = np.random.default_rng(20250101).standard_normal(_BANK_SIZE, dtype=np.float32)
    return _BANK


def _noise(rng, b, scale):
    """Unit-normal fields (windows of the bank at random offsets) times ``scale``: (b, 63, 63)."""
    bank = noise_bank()
    windows = np.lib.stride_tricks.as_strided(bank, shape=(_BANK_SIZE - _NPIX, _NPIX),
                                              strides=(bank.strides[0], bank.strides[0]), writeable=False)
    out = windows[rng.integers(0, _BANK_SIZE - _NPIX, b)].reshape(b, SIZE, SIZE)
    out *= np.asarray(scale, np.float32)[:, None, None]
    return out


def gaussians(x0, y0, sigma, flux, size: int = SIZE) -> np.ndarray:
    """Sum-normalised circular Gaussians of total ``flux`` at (x0, y0): (b, size, size)."""
    xs = np.arange(size, dtype=np.float32)
    s = np.asarray(sigma, dtype=np.float32)[:, None]
    gx = np.exp(-0.5 * ((xs[None, :] - np.asarray(x0, np.float32)[:, None]) / s) ** 2)
    gy = np.exp(-0.5 * ((xs[None, :] - np.asarray(y0, np.float32)[:, None]) / s) ** 2)
    norm = np.asarray(flux, np.float32) / (2 * np.pi * s[:, 0] ** 2)
    return (gy * norm[:, None])[:, :, None] * gx[:, None, :]


def psf(x0, y0, sigma, flux, size: int = SIZE) -> np.ndarray:
    """Core (85 %) + wing (15 %, twice as wide) PSF."""
    f = np.asarray(flux, np.float32)
    return gaussians(x0, y0, sigma, 0.85 * f, size) + gaussians(x0, y0, 2 * np.asarray(sigma), 0.15 * f, size)


def to_fits_gz(images: np.ndarray, noise: np.ndarray, level: int = 1) -> list[bytes]:
    """Gzipped FITS files of a batch of 63 x 63 images.

    Pixels are quantised to a power-of-two step below a quarter of the noise
    (as fpack does): invisible under the noise, it makes stamps smaller and
    faster to compress.
    """
    import cramjam
    head = fits_header()
    step = np.exp2(np.floor(np.log2(np.maximum(np.asarray(noise, np.float64) / 4, 2.0 ** -10))))
    step = step.astype(np.float32)[:, None, None]
    q = np.rint(images / step)
    q *= step
    b = len(q)
    buf = np.zeros((b, len(head) + _NPIX * 4 + len(_PAD)), dtype=np.uint8)
    buf[:, :len(head)] = np.frombuffer(head, dtype=np.uint8)
    buf[:, len(head):len(head) + _NPIX * 4] = q.astype(">f4").reshape(b, -1).view(np.uint8)
    return [bytes(cramjam.gzip.compress(buf[i], level=level)) for i in range(b)]


BATCH = 128


def render(alerts, unit, s, plan, rng) -> list[tuple[bytes, bytes, bytes]]:
    """(science, template, difference) gzipped FITS stamps of each alert.

    The static scene is drawn once (reference PSF) and shared by template and
    science, so that difference = (science - sky) - (template - sky) exactly.
    Alerts are drawn in batches small enough for the images to stay in cache.
    """
    out = []
    for start in range(0, alerts.n, BATCH):
        out += _render(alerts, unit, s, np.arange(start, min(start + BATCH, alerts.n)), rng)
    return out


def _render(alerts, unit, s, idx, rng):
    b = len(idx)
    rows = alerts.rows[idx]
    ceq = alerts.eq_of_row[rows]
    o = unit.obj[rows]
    c = {k: alerts.cand[k][idx] for k in ("fid", "magzpsci", "diffmaglim", "nframesref", "xpos", "ypos")}
    band = c["fid"] - 1
    zp = c["magzpsci"]
    to_dn = 10 ** (0.4 * (zp - 25.0))
    sig_sci = alerts.eq["seeing"][ceq] / 2.3548 / 1.01
    sig_ref = np.full(b, 2.0 / 2.3548)
    f_lim = 10 ** (-0.4 * (c["diffmaglim"] - zp))
    noise_sci = f_lim / 5 / (np.sqrt(4 * np.pi) * sig_sci)
    noise_ref = noise_sci / np.sqrt(c["nframesref"]) * 1.5
    sky_sci = rng.uniform(120, 260, b).astype(np.float32)
    sky_ref = sky_sci + rng.normal(0, 5, b).astype(np.float32)
    xc = CENTRE + (c["xpos"] % 1.0) - 0.5
    yc = CENTRE + (c["ypos"] % 1.0) - 0.5
    # static scene: reference source (star, host galaxy, neighbour) + up to two field stars
    f_ref = 10 ** (-0.4 * (s["magnr"][o, band] - zp))
    pa = s["ref_pa"][o]
    dpix = s["distnr"][o] / 1.01
    ext = np.where(s["galaxy"][o], rng.uniform(2.0, 4.0, b), 0.0)
    static = psf(xc - dpix * np.sin(pa), yc + dpix * np.cos(pa), np.hypot(sig_ref, ext), f_ref)
    on = rng.random((2, b)) < 0.6
    ff = np.where(on, 10 ** (-0.4 * (rng.uniform(16.5, 21.5, (2, b)) - zp)), 0.0)
    fx, fy = rng.uniform(0, SIZE - 1, (2, b)), rng.uniform(0, SIZE - 1, (2, b))
    stars = gaussians(fx.ravel(), fy.ravel(), np.tile(sig_ref, 2), ff.ravel())
    static += stars[:b] + stars[b:]
    # the flux change, with the science PSF
    dflux = alerts.obs[idx] * to_dn
    trans = psf(xc, yc, sig_sci, dflux)
    kinds = s["kinds"][o]
    bogus = np.flatnonzero(kinds == "bogus")
    if len(bogus):
        trans[bogus] = _artefacts(unit, alerts.local[idx][bogus], bogus, xc, yc, sig_sci, dflux, rng)
    n_sci = _noise(rng, b, noise_sci)
    n_ref = _noise(rng, b, noise_ref)
    diff = trans + n_sci - n_ref
    template = static + n_ref
    template += sky_ref[:, None, None]
    science = static + trans
    science += n_sci
    science += sky_sci[:, None, None]
    sci_gz = to_fits_gz(science, noise_sci)
    ref_gz = to_fits_gz(template, noise_ref)
    diff_gz = to_fits_gz(diff, np.hypot(noise_sci, noise_ref))
    return list(zip(sci_gz, ref_gz, diff_gz))


def _artefacts(unit, local, idx, xc, yc, sig, dflux, rng):
    """Difference-image features of artefacts, by subtype."""
    sub = unit.params["bogus"]["subtype"][local]
    x, y, s, f = xc[idx], yc[idx], sig[idx], dflux[idx]
    n = len(idx)
    ang = rng.uniform(0, 2 * np.pi, n)
    d = rng.uniform(1.0, 2.5, n)
    dipole = psf(x, y, s, f) - psf(x + d * np.cos(ang), y + d * np.sin(ang), s, f * rng.uniform(0.7, 1.0, n))
    cosmic = gaussians(x, y, np.full(n, 0.45), f)
    ghost = gaussians(x, y, s * rng.uniform(2.5, 4.0, n), f)
    ring = psf(x, y, s * 0.8, f * 2.0) - psf(x, y, s * 1.6, f)
    out = np.where((sub == "dipole")[:, None, None], dipole,
                   np.where((sub == "cosmic_ray")[:, None, None], cosmic,
                            np.where((sub == "ghost")[:, None, None], ghost, ring)))
    return out
