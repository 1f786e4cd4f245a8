"""Light-curve models, vectorised over objects and epochs.

- ``bazin``: the parametric rise and exponential decline of a supernova
  (Bazin et al. 2009), F(t) = A exp(-(t-t0)/tau_fall) / (1 + exp(-(t-t0)/tau_rise)).
- ``fourier_shape``: a multi-harmonic periodic profile (RR Lyrae, eclipsing binaries).
- ``pspl_magnification``: the point-source point-lens microlensing magnification
  A(u) = (u^2 + 2) / (u sqrt(u^2 + 4)), u(t)^2 = u0^2 + ((t - t0)/tE)^2.
- ``drw``: a damped random walk (Ornstein-Uhlenbeck process) for AGN.
- ``luminosity_distance_modulus``: distance modulus in flat LCDM.
"""

from __future__ import annotations

import numpy as np

H0, OMEGA_M = 70.0, 0.3
C_KMS = 299792.458


def bazin(t, t0, amplitude, tau_rise, tau_fall):
    """Bazin flux; arguments broadcast together."""
    x = np.asarray(t) - t0
    with np.errstate(over="ignore"):
        rise = 1.0 + np.exp(np.clip(-x / tau_rise, -700, 700))
        return amplitude * np.exp(np.clip(-x / tau_fall, -700, 700)) / rise


def bazin_peak(tau_rise, tau_fall):
    """(time of maximum after t0, value of the unit-amplitude Bazin at maximum)."""
    tr, tf = np.asarray(tau_rise), np.asarray(tau_fall)
    xp = tr * np.log(np.maximum(tf / tr - 1.0, 1e-9))
    return xp, np.exp(-xp / tf) / (1.0 + np.exp(-xp / tr))


def fourier_shape(phase, amps, phis):
    """sum_k amps[..., k] cos(2 pi (k+1) phase + phis[..., k]).

    ``phase`` has shape (...,); ``amps``/``phis`` shape (..., K).
    """
    k = np.arange(1, amps.shape[-1] + 1)
    arg = 2 * np.pi * np.asarray(phase)[..., None] * k + phis
    return np.sum(amps * np.cos(arg), axis=-1)


def fourier_norm(amps, phis, n=256):
    """Peak-to-peak and mean of the unit Fourier shape (per object), on a phase grid."""
    grid = np.linspace(0, 1, n, endpoint=False)
    s = fourier_shape(grid[None, :], amps[:, None, :], phis[:, None, :])
    return s.max(axis=1) - s.min(axis=1), s.mean(axis=1), grid[np.argmin(s, axis=1)]


def pspl_magnification(t, t0, u0, tE):
    u2 = np.asarray(u0) ** 2 + ((np.asarray(t) - t0) / tE) ** 2
    u = np.sqrt(u2)
    return (u2 + 2) / (u * np.sqrt(u2 + 4))


def drw(times, valid, tau, sigma, rng: np.random.Generator):
    """Damped random walk in magnitude around 0 at ``times`` (n_obj, n_t), sorted per row.

    ``valid`` masks the padding of ragged rows; the walk starts in its
    stationary distribution (rms ``sigma``) and is updated exactly between
    epochs: x' = x e^{-dt/tau} + sigma sqrt(1 - e^{-2 dt/tau}) N(0, 1).
    """
    n_obj, n_t = times.shape
    out = np.zeros((n_obj, n_t))
    x = sigma * rng.standard_normal(n_obj)
    prev = times[:, 0].copy()
    eps = rng.standard_normal((n_obj, n_t))
    for j in range(n_t):
        dtj = np.where(valid[:, j], times[:, j] - prev, 0.0)
        a = np.exp(-dtj / tau)
        x = np.where(valid[:, j], x * a + sigma * np.sqrt(1 - a * a) * eps[:, j], x)
        out[:, j] = x
        prev = np.where(valid[:, j], times[:, j], prev)
    return out


_Z_GRID = np.linspace(0, 1.5, 3001)


def _mu_grid():
    ez = np.sqrt(OMEGA_M * (1 + _Z_GRID) ** 3 + (1 - OMEGA_M))
    integrand = 1 / ez
    dc = np.concatenate([[0], np.cumsum((integrand[1:] + integrand[:-1]) / 2 * np.diff(_Z_GRID))])
    dl = (1 + _Z_GRID) * C_KMS / H0 * dc  # Mpc
    with np.errstate(divide="ignore"):
        return 5 * np.log10(np.maximum(dl, 1e-12)) + 25


_MU = _mu_grid()


def distance_modulus(z):
    return np.interp(z, _Z_GRID, _MU)
