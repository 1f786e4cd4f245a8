"""When a fit cannot be trusted: the quality warnings every fit returns.

A least-squares fit always ends somewhere; these checks say when where it ended is not a
measurement: a parameter stopped at the bound of its search box, a peak outside the
observed times, a model that does not describe the data (chi2/dof), a parameter whose
error is as large as itself (microlensing's tE is degenerate with u0 and the blending
when only the magnified part is observed), or too few points in a band.

Each warning is ``{"code": snake_case, "message": a sentence}``; a fit's result holds
them, in the order found, under ``warnings`` (an empty list when nothing is suspect).
The codes:
"""
from __future__ import annotations

import numpy as np

#: every code, with what it means
CODES = {
    "parameter_at_bound": "a fitted parameter ended at the bound of its allowed range",
    "peak_outside_data": "the fitted peak (t0, or a supernova's maximum) lies outside the observed times",
    "peak_time_uncertain": "the peak time's uncertainty is larger than the data can support",
    "poor_fit": "chi2/dof above the threshold: the model does not describe the data",
    "degenerate_parameters": "a parameter's relative error is large (e.g. tE with u0 and the blending)",
    "few_points_per_band": "a band has too few points to be fitted, or only just enough",
}
CHI2_DOF_MAX = 5.0        # above it the model does not describe the data
REL_ERR_MAX = 0.5         # a parameter known to worse than 50 % is not measured
BOUND_TOL = 1e-3          # relative distance to a bound counted as "at" it


def warning(code: str, message: str) -> dict:
    """One warning; ``code`` must be one of :data:`CODES`."""
    if code not in CODES:
        raise ValueError(f"unknown warning code {code!r}")
    return {"code": code, "message": message}


def at_bound(name: str, value: float, lo: float, hi: float, unit: str = "") -> dict | None:
    """A ``parameter_at_bound`` warning when ``value`` sits at ``lo`` or ``hi``."""
    span = max(abs(hi - lo), 1e-12)
    for side, bound in (("lower", lo), ("upper", hi)):
        if np.isfinite(bound) and abs(value - bound) <= BOUND_TOL * span:
            return warning("parameter_at_bound", f"{name} = {_num(value)}{unit} is at the {side} bound of its "
                                                 f"range ({_num(lo)} to {_num(hi)}{unit}): the data do not "
                                                 "constrain it.")
    return None


def _num(x: float) -> str:
    """A value as text: times (large numbers) to 0.01, others to 4 significant digits."""
    return f"{x:.2f}" if abs(x) >= 1e4 else f"{x:.4g}"


def outside(name: str, t: float, t_min: float, t_max: float, unit: str) -> dict | None:
    """A ``peak_outside_data`` warning when ``t`` is not within the observed times."""
    if t is None or not np.isfinite(t):
        return None
    if t < t_min or t > t_max:
        return warning("peak_outside_data", f"{name} = {t:.2f} {unit} lies outside the observed times "
                                            f"({t_min:.2f} to {t_max:.2f} {unit}): the peak was not observed.")
    return None


def poor_fit(chi2: float, dof: int, what: str = "the fit") -> dict | None:
    """A ``poor_fit`` warning when chi2/dof exceeds :data:`CHI2_DOF_MAX`."""
    if dof > 0 and chi2 / dof > CHI2_DOF_MAX:
        return warning("poor_fit", f"chi2/dof = {chi2 / dof:.1f} for {what}, above {CHI2_DOF_MAX:g}: the model "
                                   f"does not describe the data, so its parameters and errors are not reliable.")
    return None


def degenerate(name: str, value: float, err: float | None, why: str) -> dict | None:
    """A ``degenerate_parameters`` warning when ``err`` is missing or above
    :data:`REL_ERR_MAX` of ``value``."""
    if err is None or not np.isfinite(err) or abs(err) > REL_ERR_MAX * abs(value):
        shown = "unknown" if err is None or not np.isfinite(err) else f"{abs(err) / max(abs(value), 1e-300):.0%}"
        return warning("degenerate_parameters", f"{name} has a relative error of {shown}: {why}")
    return None


def few_points(skipped: dict, counts: dict, minimum: int) -> list[dict]:
    """``few_points_per_band`` warnings: one per band left out (``skipped`` {band: why}) and
    one per fitted band with fewer than twice ``minimum`` points (``counts`` {band: n})."""
    out = [warning("few_points_per_band", f"Band {b} was not fitted: {why}.") for b, why in skipped.items()]
    thin = {b: n for b, n in counts.items() if n < 2 * minimum}
    if thin:
        listed = ", ".join(f"{b}: {n}" for b, n in thin.items())
        out.append(warning("few_points_per_band", f"Few points per band ({listed}): fitted, as each has the "
                                                  f"{minimum} a band needs, but fewer than {2 * minimum}; the "
                                                  "fit of these bands rests on little data."))
    return out


def collect(*found) -> list[dict]:
    """The warnings found, flattened, ``None`` left out."""
    out = []
    for w in found:
        if w is None:
            continue
        out.extend(w if isinstance(w, list) else [w])
    return out
