"""The classification rule: one place that turns an alert's added values into a class.

The ingest writes this class to the class index and ``d:classification``; the API reports
it as ``v:classification``. Modelled on Fink's rule, simplified and documented here:

1. Solar system: ``roid`` 3 → "Solar System MPC", ``roid`` 2 → "Solar System candidate".
   A raw alert (no added values) with a known object within 5″ (``ssnamenr`` set,
   0 ≤ ``ssdistnr`` ≤ 5) → "Solar System MPC".
2. ``mulens`` ≥ 0.5 → "Microlensing candidate".
3. Young transients (first detection at most 20 days before this alert), when the
   SIMBAD counterpart is absent or itself transient-like:
   ``rf_kn_vs_nonkn`` ≥ 0.5 → "Kilonova candidate";
   ``rf_snia_vs_nonia`` ≥ 0.5 and ``snn_snia_vs_nonia`` ≥ 0.5 → "Early SN Ia candidate".
4. ``snn_sn_vs_all`` ≥ 0.5 and ``snn_snia_vs_nonia`` ≥ 0.5 (or either ≥ 0.9), first
   detection at most 90 days before, same SIMBAD condition → "SN candidate".
5. A SIMBAD counterpart (``cdsxmatch``, without Fink's "(SIMBAD) " prefix) → that type.
6. Else "Unknown".
"""
from __future__ import annotations

import math

SOLAR_SYSTEM_MPC = "Solar System MPC"
SOLAR_SYSTEM_CANDIDATE = "Solar System candidate"
MICROLENSING = "Microlensing candidate"
KILONOVA = "Kilonova candidate"
EARLY_SNIA = "Early SN Ia candidate"
SN_CANDIDATE = "SN candidate"
UNKNOWN = "Unknown"
FINK_CLASSES = (EARLY_SNIA, SN_CANDIDATE, KILONOVA, MICROLENSING, SOLAR_SYSTEM_MPC, SOLAR_SYSTEM_CANDIDATE, UNKNOWN)

# The Transient Name Server's object types (its public taxonomy), as d:tnsclass holds them
# after the "(TNS) " prefix; /api/v1/classes lists each as "(TNS) <type>".
TNS_TYPES = ("AGN", "Afterglow", "CV", "FRB", "Galaxy", "ILRT", "Impostor-SN", "Kilonova", "LBV", "LRN",
             "Light-Echo", "M dwarf", "Nova", "Other", "QSO", "SLSN-I", "SLSN-II", "SN", "SN I", "SN II",
             "SN II-pec", "SN IIL", "SN IIP", "SN IIb", "SN IIn", "SN IIn-pec", "SN Ia", "SN Ia-91T-like",
             "SN Ia-91bg-like", "SN Ia-CSM", "SN Ia-pec", "SN Iax[02cx-like]", "SN Ib", "SN Ib-Ca-rich",
             "SN Ib-pec", "SN Ib/c", "SN Ibn", "SN Ic", "SN Ic-BL", "SN Ic-pec", "SN Icn", "TDE", "Varstar")

# SIMBAD answers that do not contradict a new transient.
TRANSIENT_FRIENDLY = {"Unknown", "Fail", "", "SN", "SN*", "Candidate_SN*", "Transient", "Supernova",
                      "galaxy", "Galaxy", "G", "EmG", "Seyfert", "Seyfert_1", "Seyfert_2", "BlueCompG",
                      "StarburstG", "LSB_G", "HII_G", "High_z_G", "GinPair", "GinGroup", "BClG", "GroupG",
                      "RadioG", "AGN", "QSO", "LINER", "PartofG", "Radio", "X", "IR", "Blue", "UV"}


def simbad_type(cdsxmatch) -> str:
    """The SIMBAD type of a ``cdsxmatch`` value, without Fink's "(SIMBAD) " prefix."""
    text = str(cdsxmatch or UNKNOWN).strip()
    return text[len("(SIMBAD) "):] if text.startswith("(SIMBAD) ") else text


def tns_type(tnsclass) -> str | None:
    """The TNS type of a ``d:tnsclass`` value ("(TNS) SN Ia" or "SN Ia" → "SN Ia"), None
    when the object has no TNS class."""
    text = str(tnsclass or "").strip()
    if text.startswith("(TNS) "):
        text = text[len("(TNS) "):].strip()
    return None if text in ("", UNKNOWN, "nan", "None", "null") else text


def _score(values: dict, name: str) -> float:
    value = values.get(name)
    try:
        value = float(value)
    except (TypeError, ValueError):
        return 0.0
    return value if math.isfinite(value) else 0.0


def classify(values: dict, candidate: dict) -> str:
    """The class of one alert from its added values (``values``) and ``candidate`` fields."""
    roid = int(_score(values, "roid"))
    if roid == 3:
        return SOLAR_SYSTEM_MPC
    if roid == 2:
        return SOLAR_SYSTEM_CANDIDATE
    ssnamenr = candidate.get("ssnamenr")
    ssdist = candidate.get("ssdistnr")
    if ssnamenr not in (None, "", "null") and ssdist is not None and 0 <= ssdist <= 5:
        return SOLAR_SYSTEM_MPC
    if _score(values, "mulens") >= 0.5:
        return MICROLENSING
    simbad = simbad_type(values.get("cdsxmatch"))
    age = _age_days(candidate)
    friendly = simbad in TRANSIENT_FRIENDLY
    if friendly and age <= 20:
        if _score(values, "rf_kn_vs_nonkn") >= 0.5:
            return KILONOVA
        if _score(values, "rf_snia_vs_nonia") >= 0.5 and _score(values, "snn_snia_vs_nonia") >= 0.5:
            return EARLY_SNIA
    sn_all, snia = _score(values, "snn_sn_vs_all"), _score(values, "snn_snia_vs_nonia")
    if friendly and age <= 90 and ((sn_all >= 0.5 and snia >= 0.5) or max(sn_all, snia) >= 0.9):
        return SN_CANDIDATE
    if simbad not in ("Unknown", "Fail", ""):
        return simbad
    return UNKNOWN


def _age_days(candidate: dict) -> float:
    jd, start = candidate.get("jd"), candidate.get("jdstarthist")
    if jd is None or start is None:
        return 0.0
    return max(0.0, float(jd) - float(start))
