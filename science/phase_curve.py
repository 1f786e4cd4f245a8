"""Asteroid phase curves in the IAU H, G system (Bowell et al. 1989), and astrometric residuals.

The reduced magnitude of an observation is its magnitude brought to 1 au from the Sun and
from the observer, ``m - 5 log10(r Δ)``; against the phase angle α it follows

    H(α) = H - 2.5 log10((1 - G) Φ1(α) + G Φ2(α)),
    Φi(α) = exp(-Ai tan(α/2)^Bi),  A1 = 3.33, B1 = 0.63, A2 = 1.87, B2 = 1.22,

the two-parameter form of Bowell et al. (1989, Asteroids II, p. 524). The fit is
least squares on H and G, weighted by the magnitude errors; the same function draws the
model. Residuals of the positions are those of a smooth fit (a low-order polynomial in
time per coordinate), since observed-minus-predicted needs an ephemeris service.
Pure numpy/scipy: nothing here knows of Dash or Flask.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares

A1, B1, A2, B2 = 3.33, 0.63, 1.87, 1.22
G_BOUNDS = (-0.5, 1.2)


def phi(alpha_deg, a: float, b: float) -> np.ndarray:
    return np.exp(-a * np.tan(np.radians(np.asarray(alpha_deg, float)) / 2) ** b)


def hg_magnitude(alpha_deg, h: float, g: float) -> np.ndarray:
    """The reduced magnitude at phase angle ``alpha_deg`` (degrees) of an (H, G) body."""
    return h - 2.5 * np.log10((1 - g) * phi(alpha_deg, A1, B1) + g * phi(alpha_deg, A2, B2))


def reduced_magnitude(mag, r_au, delta_au) -> np.ndarray:
    """``mag - 5 log10(r Δ)``: the magnitude at 1 au from the Sun and the observer."""
    return np.asarray(mag, float) - 5 * np.log10(np.asarray(r_au, float) * np.asarray(delta_au, float))


def phase_angle(r_au, delta_au, sun_observer_au=1.0) -> np.ndarray:
    """Sun–object–observer angle (degrees) from the three distances (law of cosines)."""
    r, d, R = (np.asarray(x, float) for x in (r_au, delta_au, sun_observer_au))
    return np.degrees(np.arccos(np.clip((r ** 2 + d ** 2 - R ** 2) / (2 * r * d), -1.0, 1.0)))


def fit_hg(alpha_deg, reduced_mag, err=None, g_start: float = 0.15) -> dict:
    """Least-squares H and G (with 1σ errors from the Jacobian) of reduced magnitudes.

    Raises ValueError when there are fewer than 3 finite points or the phase angles span
    less than 1 degree (G is then not constrained)."""
    a = np.asarray(alpha_deg, float)
    m = np.asarray(reduced_mag, float)
    e = np.ones_like(m) if err is None else np.asarray(err, float)
    ok = np.isfinite(a) & np.isfinite(m) & np.isfinite(e) & (e > 0)
    a, m, e = a[ok], m[ok], e[ok]
    if len(a) < 3:
        raise ValueError(f"{len(a)} usable points; an H, G fit needs at least 3")
    if np.ptp(a) < 1.0:
        raise ValueError(f"the phase angles span {np.ptp(a):.2f}°; an H, G fit needs at least 1°")
    h0 = float(np.median(m - (hg_magnitude(a, 0.0, g_start))))
    res = least_squares(lambda p: (hg_magnitude(a, p[0], p[1]) - m) / e, [h0, g_start],
                        bounds=([-np.inf, G_BOUNDS[0]], [np.inf, G_BOUNDS[1]]))
    chi2 = float(np.sum(res.fun ** 2))
    dof = max(len(a) - 2, 1)
    try:
        cov = np.linalg.inv(res.jac.T @ res.jac) * (chi2 / dof if err is None else 1.0)
        h_err, g_err = (float(np.sqrt(v)) for v in np.diag(cov))
    except np.linalg.LinAlgError:
        h_err = g_err = float("nan")
    return {"H": float(res.x[0]), "G": float(res.x[1]), "H_err": h_err, "G_err": g_err,
            "chi2": chi2, "dof": dof, "n_points": int(len(a)),
            "alpha_min": float(a.min()), "alpha_max": float(a.max())}


def smooth_residuals(jd, ra_deg, dec_deg, degree: int = 2) -> dict:
    """Residuals (arcsec) of RA·cos(Dec) and Dec about a polynomial in time of ``degree``
    (lowered to what the points allow): what is left once the smooth motion is taken out.
    Not observed-minus-predicted: that needs an ephemeris."""
    t = np.asarray(jd, float)
    ra, dec = np.asarray(ra_deg, float), np.asarray(dec_deg, float)
    if len(t) < 2:
        raise ValueError("residuals need at least 2 positions")
    deg = int(min(degree, len(np.unique(t)) - 1))
    t0 = t.mean()
    ra_unwrapped = np.degrees(np.unwrap(np.radians(ra)))
    out = {"jd": t, "degree": deg}
    for name, values, scale in (("ra", ra_unwrapped, np.cos(np.radians(dec))), ("dec", dec, 1.0)):
        coef = np.polyfit(t - t0, values, deg)
        out[name] = (values - np.polyval(coef, t - t0)) * scale * 3600.0
    out["rms"] = float(np.sqrt(np.mean(out["ra"] ** 2 + out["dec"] ** 2)))
    return out
