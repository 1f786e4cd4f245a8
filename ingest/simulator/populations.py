"""Simulated populations: how each kind of object is drawn and how bright it is when.

Every population draws its model parameters (vectorised over ``n`` objects),
its reference source (what sits at that position in the reference image: the
star itself, the host galaxy, an unrelated neighbour) and, given the epochs
and bands of its observations, returns the *difference flux* (model minus
reference) and the static flux under the PSF (which adds photon noise).
Fluxes are in units where magnitude 25 is 1 (``flux = 10**(-0.4 (m - 25))``).

Kinds: ``sn_ia``, ``sn_ii`` (Bazin rise/decline per band with colour
evolution), ``rrlyrae`` and ``periodic`` (contact binaries, spotted rotators:
multi-harmonic Fourier series with per-band amplitude and phase),
``microlensing`` (point-source point-lens with blending), ``agn`` (damped
random walk), ``asteroid`` (moving, one alert each, with ``ssnamenr``) and
``bogus`` (artefacts near bright stars, one alert each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import lightcurves as lc

KINDS = ("sn_ia", "sn_ii", "rrlyrae", "periodic", "agn", "microlensing", "asteroid", "bogus")
SINGLE_EPOCH = frozenset({"asteroid", "bogus"})
#: kinds known to ZTF before the simulated nights (a detection history exists)
PERSISTENT = frozenset({"rrlyrae", "periodic", "agn"})
#: default share of alerts per kind
DEFAULT_MIX = {"rrlyrae": 0.16, "periodic": 0.12, "agn": 0.10, "sn_ia": 0.14, "sn_ii": 0.09,
               "microlensing": 0.04, "asteroid": 0.18, "bogus": 0.17}
ZTF_START_JD = 2458194.5  # 2018-03-17, start of the ZTF survey
BAND_COLOURS = np.array([1.0, 0.0, -1.0])  # g = r + (g-r); i = r - (r-i)


def flux(mag):
    return 10 ** (-0.4 * (np.asarray(mag) - 25.0))


def mag(f):
    return 25.0 - 2.5 * np.log10(f)


def _bands_from_r(r, g_r, r_i):
    return np.stack([r + g_r, r, r - r_i], axis=1)


@dataclass
class Context:
    """What populations need to know about the run."""

    t_first: float   # JD of the first exposure
    t_last: float    # JD of the last exposure


@dataclass
class Rows:
    """Observations of objects of one kind (``obj`` indexes that kind's params)."""

    obj: np.ndarray
    t: np.ndarray
    band: np.ndarray      # 0 g, 1 r, 2 i
    maglim: np.ndarray


def _neighbour(rng, n, dmin=2.0, dmax=16.0):
    """An unrelated source near the position: (mags (n,3), distance arcsec)."""
    r = rng.uniform(17.0, 23.0, n)
    return _bands_from_r(r, rng.uniform(0.3, 1.2, n), rng.uniform(0.1, 0.5, n)), \
        rng.uniform(dmin, dmax, n)


def _star_ref(rng, n, sigma=0.15):
    return np.hypot(rng.normal(0, sigma, n), rng.normal(0, sigma, n))


def _sz(rng, z0, z1, n):
    """Redshifts uniform in volume between z0 and z1."""
    return (z0 ** 3 + rng.random(n) * (z1 ** 3 - z0 ** 3)) ** (1 / 3)


# --------------------------------------------------------------------------- supernovae
def draw_sn(kind, rng, n, ctx: Context):
    ia = kind == "sn_ia"
    z = _sz(rng, 0.01, 0.12, n) if ia else _sz(rng, 0.004, 0.05, n)
    mu = lc.distance_modulus(z)
    if ia:
        subtype = np.full(n, "Ia", dtype=object)
        stretch = np.clip(rng.normal(1.0, 0.1, n), 0.7, 1.3)
        absmag = rng.normal(-19.3, 0.15, n) - 1.0 * (stretch - 1)
        g_r = rng.normal(-0.05, 0.08, n) + rng.exponential(0.05, n)
        r_i = rng.normal(-0.25, 0.08, n)
        tau_rise = rng.uniform(2.5, 4.0, n) * stretch
        tau_fall_r = rng.uniform(18, 28, n) * stretch
        fall_ratio = np.array([0.62, 1.0, 1.25])
        dt0 = np.array([-1.5, 0.0, 2.5])
    else:
        plateau = rng.random(n) < 0.7
        subtype = np.where(plateau, "IIP", "IIL").astype(object)
        absmag = rng.normal(-17.2, 0.8, n)
        g_r = rng.normal(-0.15, 0.1, n)
        r_i = rng.normal(-0.1, 0.08, n)
        tau_rise = rng.uniform(2.0, 6.0, n)
        tau_fall_r = np.where(plateau, rng.uniform(60, 110, n), rng.uniform(25, 45, n))
        fall_ratio = np.array([0.45, 1.0, 1.15])
        dt0 = np.array([-1.0, 0.0, 2.0])
    peak = _bands_from_r(absmag + mu, g_r, r_i)
    tau_rise = tau_rise * (1 + z)
    tau_fall = tau_fall_r[:, None] * fall_ratio[None, :] * (1 + z)[:, None]
    t_peak = rng.uniform(ctx.t_first - 25, ctx.t_last + 12, n)
    xpeak_r, _ = lc.bazin_peak(tau_rise, tau_fall[:, 1])
    t0 = t_peak - xpeak_r
    host_r = rng.normal(-20.5, 1.0, n) + mu
    host = _bands_from_r(host_r, rng.normal(0.7, 0.15, n), rng.normal(0.35, 0.1, n))
    host_offset = np.abs(np.hypot(rng.normal(0, 1.8, n), rng.normal(0, 1.8, n)))
    seen = host_r < 21.8
    nb_mag, nb_d = _neighbour(rng, n)
    return {
        "subtype": subtype, "z": z, "peak_mag": peak, "t_peak": t_peak, "t0": t0,
        "tau_rise": tau_rise, "tau_fall": tau_fall, "dt0": np.broadcast_to(dt0 * 1.0, (n, 3)) *
        (1 + z)[:, None], "host_mag": host, "host_offset": host_offset,
        "magnr": np.where(seen[:, None], host, nb_mag), "distnr": np.where(seen, host_offset, nb_d),
        "ref_is_galaxy": seen, "mag": peak,
    }


def flux_sn(p, rows: Rows, rng):
    i, b = rows.obj, rows.band
    tr, tf = p["tau_rise"][i], p["tau_fall"][i, b]
    _, fmax = lc.bazin_peak(tr, tf)
    amp = flux(p["peak_mag"][i, b]) / fmax
    df = lc.bazin(rows.t, p["t0"][i] + p["dt0"][i, b], amp, tr, tf)
    static = flux(p["host_mag"][i, b]) * 0.1 * np.exp(-p["host_offset"][i] ** 2 / 18.0)
    return df, static + df


# --------------------------------------------------------------------------- periodic
def draw_periodic(kind, rng, n, ctx: Context):
    amps = np.zeros((n, 4))
    phis = np.zeros((n, 4))
    if kind == "rrlyrae":
        ab = rng.random(n) < 0.7
        subtype = np.where(ab, "RRab", "RRc").astype(object)
        period = np.where(ab, np.clip(rng.normal(0.57, 0.08, n), 0.42, 0.9), rng.uniform(0.25, 0.42, n))
        amp_g = np.where(ab, rng.uniform(0.6, 1.2, n), rng.uniform(0.3, 0.55, n))
        amp = amp_g[:, None] * np.array([1.0, 0.76, 0.62])
        k = np.arange(1, 5)
        amps[:] = np.where(ab[:, None], 1.0 / k, np.array([1.0, 0.12, 0.05, 0.02]))
        amps *= rng.uniform(0.85, 1.15, (n, 4))
        amps[:, 0] = 1.0
        phis[:] = np.where(ab[:, None], np.pi / 2, 0.0) + rng.normal(0, 0.25, (n, 4))
        r = rng.uniform(14.0, 19.5, n)
        mean = _bands_from_r(r, rng.normal(0.25, 0.08, n), rng.normal(0.08, 0.05, n))
        dphase = np.stack([np.zeros(n), rng.normal(0.01, 0.005, n), rng.normal(0.02, 0.005, n)], 1)
    else:
        ew = rng.random(n) < 0.7
        subtype = np.where(ew, "EW", "ROT").astype(object)
        period = np.where(ew, rng.uniform(0.22, 0.5, n), rng.uniform(0.4, 1.0, n))
        amp_r = np.where(ew, rng.uniform(0.2, 0.75, n), rng.uniform(0.08, 0.3, n))
        amp = amp_r[:, None] * np.where(ew[:, None], [1.05, 1.0, 0.95], [1.3, 1.0, 0.8])
        amps[:] = np.where(ew[:, None], np.stack([rng.uniform(0.05, 0.25, n), np.ones(n),
                                                   rng.uniform(0, 0.1, n), rng.uniform(0.05, 0.15, n)], 1),
                           np.stack([np.ones(n), rng.uniform(0, 0.3, n), np.zeros(n), np.zeros(n)], 1))
        phis[:] = np.where(ew[:, None], 0.0, rng.uniform(0, 2 * np.pi, (n, 4))) + rng.normal(0, 0.05, (n, 4))
        r = rng.uniform(13.8, 19.5, n)
        mean = _bands_from_r(r, rng.uniform(0.3, 0.9, n), rng.uniform(0.15, 0.4, n))
        dphase = np.stack([np.zeros(n), rng.normal(0, 0.005, n), rng.normal(0, 0.005, n)], 1)
    ptp, smean, phase_max = lc.fourier_norm(amps, phis)
    t0 = 2460000.0 + rng.uniform(0, 1, n) * period
    p = {"subtype": subtype, "period": period, "t0": t0, "amp": amp, "mean_mag": mean,
         "fourier_amps": amps, "fourier_phis": phis, "norm": ptp, "shape_mean": smean,
         "phase_offset": dphase, "t_max_light": t0 + phase_max * period}
    # reference = flux-averaged light of the star, rounded as in the packets
    grid = np.linspace(0, 1, 64, endpoint=False)
    ref = np.empty((n, 3))
    for b in range(3):
        m = _periodic_mag(p, np.arange(n)[:, None], t0[:, None] + grid[None, :] * period[:, None], b)
        ref[:, b] = mag(flux(m).mean(axis=1))
    p["magnr"] = np.round(ref, 3)
    p["distnr"] = _star_ref(rng, n)
    p["mag"] = mean
    return p


def _periodic_mag(p, i, t, b):
    phase = (t - p["t0"][i]) / p["period"][i] + p["phase_offset"][i, b]
    s = lc.fourier_shape(phase, p["fourier_amps"][i], p["fourier_phis"][i])
    return p["mean_mag"][i, b] + p["amp"][i, b] * (s - p["shape_mean"][i]) / p["norm"][i]


def flux_periodic(p, rows: Rows, rng):
    m = _periodic_mag(p, rows.obj, rows.t, rows.band)
    f = flux(m)
    return f - flux(p["magnr"][rows.obj, rows.band]), f


# --------------------------------------------------------------------------- microlensing
def draw_microlensing(kind, rng, n, ctx: Context):
    base = _bands_from_r(rng.uniform(15.5, 20.0, n), rng.uniform(0.5, 1.3, n), rng.uniform(0.2, 0.6, n))
    base = np.round(base, 3)
    return {
        "subtype": np.full(n, "PSPL", dtype=object),
        "t0": rng.uniform(ctx.t_first - 10, ctx.t_last + 10, n),
        "u0": 10 ** rng.uniform(-2, 0, n), "tE": 10 ** rng.normal(1.4, 0.3, n),
        "fs": rng.uniform(0.15, 1.0, n), "baseline_mag": base,
        "magnr": base, "distnr": _star_ref(rng, n), "mag": base,
    }


def flux_microlensing(p, rows: Rows, rng):
    i = rows.obj
    a = lc.pspl_magnification(rows.t, p["t0"][i], p["u0"][i], p["tE"][i])
    fb = flux(p["baseline_mag"][i, rows.band])
    f = fb * (p["fs"][i] * a + 1 - p["fs"][i])
    return f - fb, f


# --------------------------------------------------------------------------- AGN
def draw_agn(kind, rng, n, ctx: Context):
    qso = rng.random(n) < 0.6
    mean = np.round(_bands_from_r(rng.uniform(16.0, 19.5, n), rng.normal(0.25, 0.15, n),
                                  rng.normal(0.15, 0.1, n)), 3)
    return {
        "subtype": np.where(qso, "QSO", "Seyfert").astype(object),
        "z": np.where(qso, rng.uniform(0.3, 2.5, n), rng.uniform(0.02, 0.3, n)),
        "drw_tau": 10 ** rng.uniform(1.7, 2.9, n), "drw_sf": rng.uniform(0.15, 0.4, n),
        "mean_mag": mean, "magnr": mean, "distnr": _star_ref(rng, n, 0.1), "mag": mean,
    }


AGN_BAND_SCALE = np.array([1.3, 1.0, 0.85])


def flux_agn(p, rows: Rows, rng):
    """Rows must be sorted by (obj, t); one latent walk per object for all bands."""
    i = rows.obj
    if len(i) == 0:
        return np.zeros(0), np.zeros(0)
    starts = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])
    lengths = np.diff(np.r_[starts, len(i)])
    pos = np.arange(len(i)) - np.repeat(starts, lengths)
    grid_t = np.zeros((len(starts), lengths.max()))
    valid = np.zeros_like(grid_t, dtype=bool)
    grid_t[np.repeat(np.arange(len(starts)), lengths), pos] = rows.t
    valid[np.repeat(np.arange(len(starts)), lengths), pos] = True
    objs = i[starts]
    x = lc.drw(grid_t, valid, p["drw_tau"][objs], p["drw_sf"][objs] / np.sqrt(2), rng)
    dm = x[np.repeat(np.arange(len(starts)), lengths), pos] * AGN_BAND_SCALE[rows.band]
    f = flux(p["mean_mag"][i, rows.band] + dm)
    return f - flux(p["magnr"][i, rows.band]), f


# --------------------------------------------------------------------------- single epoch
def _designation(rng, n):
    numbered = rng.random(n) < 0.75
    num = (10 ** rng.uniform(3, 5.85, n)).astype(int)
    year = rng.integers(1995, 2024, n)
    half = np.array(list("ABCDEFGHJKLMNOPQRSTUVWXY"))[rng.integers(0, 24, n)]
    letter = np.array(list("ABCDEFGHJKLMNOPQRSTUVWXYZ"))[rng.integers(0, 25, n)]
    cycle = rng.integers(0, 200, n)
    return np.array([str(nm) if isnum else f"{y}{h}{l}{c if c else ''}"
                     for isnum, nm, y, h, l, c in zip(numbered, num, year, half, letter, cycle)],
                    dtype=object)


def draw_asteroid(kind, rng, n, ctx: Context):
    rate = 10 ** rng.normal(-0.7, 0.3, n)  # deg/day
    nb_mag, nb_d = _neighbour(rng, n)
    return {
        "subtype": np.where(rate > 1.0, "NEO", "MBA").astype(object),
        "depth": 0.05 + 3.5 * rng.random(n) ** 2, "ssnamenr": _designation(rng, n),
        "rate": rate, "motion_pa": rng.uniform(0, 360, n), "ssdistnr": rng.uniform(0, 3.0, n),
        "ssmag_offset": rng.normal(0.25, 0.25, n), "magnr": nb_mag, "distnr": nb_d,
        "mag": np.full((n, 3), np.nan),
    }


def draw_bogus(kind, rng, n, ctx: Context):
    u = rng.random(n)
    subtype = np.select([u < 0.45, u < 0.7, u < 0.85], ["dipole", "cosmic_ray", "ghost"],
                        "bad_subtraction").astype(object)
    ref = _bands_from_r(rng.uniform(12.5, 16.5, n), rng.uniform(0.3, 1.0, n), rng.uniform(0.1, 0.4, n))
    return {
        "subtype": subtype, "depth": rng.uniform(0.05, 1.5, n),
        "positive": rng.random(n) < 0.6, "magnr": np.round(ref, 3),
        "distnr": np.abs(rng.normal(0, 0.8, n)) + 0.1, "mag": np.full((n, 3), np.nan),
    }


def flux_single(p, rows: Rows, rng):
    """The one detection of an asteroid/bogus: ``depth`` mag brighter than the limit."""
    f = flux(rows.maglim - p["depth"][rows.obj])
    sign = np.where(p.get("positive", np.ones(len(p["depth"]), bool))[rows.obj], 1.0, -1.0)
    return sign * f, f


DRAW = {"sn_ia": draw_sn, "sn_ii": draw_sn, "rrlyrae": draw_periodic, "periodic": draw_periodic,
        "agn": draw_agn, "microlensing": draw_microlensing, "asteroid": draw_asteroid,
        "bogus": draw_bogus}
FLUX = {"sn_ia": flux_sn, "sn_ii": flux_sn, "rrlyrae": flux_periodic, "periodic": flux_periodic,
        "agn": flux_agn, "microlensing": flux_microlensing, "asteroid": flux_single,
        "bogus": flux_single}


def draw(kind: str, rng: np.random.Generator, n: int, ctx: Context) -> dict:
    p = DRAW[kind](kind, rng, n, ctx)
    p["kind"] = kind
    return p


def difference_flux(kind: str, p: dict, rows: Rows, rng) -> tuple[np.ndarray, np.ndarray]:
    """(model difference flux, total flux under the PSF) for each row."""
    return FLUX[kind](p, rows, rng)
