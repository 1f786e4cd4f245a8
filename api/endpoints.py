"""Every endpoint's parameters, declared once: validation and the OpenAPI spec read these.

Names follow Fink's public API so that Fink scripts run unchanged.
"""
from __future__ import annotations

from science.cutout_image import KERNELS, STRETCHES

from .params import Endpoint, Param

MAX_OBJECTS = 1000
MAX_RADIUS_ARCSEC = 18000
MAX_N = 10000
MAX_XMATCH_ROWS = 10000

COLUMNS = Param("columns", "columns", "Comma-separated columns to return (family:qualifier), e.g. i:jd,i:magpsf,i:fid",
                example="i:objectId,i:jd,i:magpsf,i:fid")
START = Param("startdate", "date", "Start date, UTC (2023-10-18, 2023-10-18 05:00:00) or Julian Date",
              example="2023-10-18")
STOP = Param("stopdate", "date", "Stop date (exclusive), UTC or Julian Date", example="2023-10-19")

OBJECTS = Endpoint("objects", "Every alert of one or several objects", (
    Param("objectId", "list", f"ZTF objectId, or a comma-separated list of up to {MAX_OBJECTS}", required=True,
          example="ZTF23abjexnw", max_length=MAX_OBJECTS * 40),
    Param("withupperlim", "bool", "Add upper limits and bad-quality detections, tagged in d:tag", False),
    Param("withcutouts", "bool", "Add the cutouts as 2-D arrays in b:cutout<Kind>_stampData", False),
    Param("cutout-kind", "choice", "Which cutouts with withcutouts", "Science",
          choices=("Science", "Template", "Difference", "All")),
    COLUMNS,
))

CONESEARCH = Endpoint("conesearch", "The latest alert of each object in a cone, nearest first", (
    Param("ra", "ra", "Right ascension: degrees, or sexagesimal hours (12:34:56.7, 12 34 56.7, 12h34m56.7s)",
          required=True, minimum=0, maximum=360, example="3.38"),
    Param("dec", "dec", "Declination: degrees, or sexagesimal (-01:02:03, -1d02m03s)", required=True,
          minimum=-90, maximum=90, example="52.69"),
    Param("radius", "float", f"Radius in arcseconds (at most {MAX_RADIUS_ARCSEC})", required=True, minimum=0,
          maximum=MAX_RADIUS_ARCSEC, example=5),
    Param("startdate", "date", "Only objects first detected at or after this date (UTC or JD)"),
    Param("stopdate", "date", "Only objects first detected before this date (UTC or JD)"),
    Param("window", "float", "Days after startdate (instead of stopdate)", minimum=0, maximum=36500),
    Param("n", "int", f"Maximum number of objects (at most {MAX_N})", 1000, minimum=1, maximum=MAX_N),
    COLUMNS,
))

EXPLORER = Endpoint("explorer", "Fink's legacy search: by objectId, by cone, or by date", (
    Param("objectId", "list", "Group 1: objectId(s)"),
    Param("ra", "ra", "Group 2: right ascension", minimum=0, maximum=360),
    Param("dec", "dec", "Group 2: declination", minimum=-90, maximum=90),
    Param("radius", "float", "Group 2: radius in arcseconds", minimum=0, maximum=MAX_RADIUS_ARCSEC),
    Param("startdate", "date", "Group 3: start date (UTC or JD); with window, the time index"),
    Param("window", "float", "Group 3: minutes after startdate (at most 180)", 10.0, minimum=0, maximum=180),
    Param("n", "int", "Maximum number of rows", 1000, minimum=1, maximum=MAX_N),
    COLUMNS,
), groups=(("objectId",), ("ra", "dec", "radius"), ("startdate",)))

LATESTS = Endpoint("latests", "The newest alerts of a class", (
    Param("class", "string", "A class label: a Fink class (SN candidate, Early SN Ia candidate, ...), "
                             "'(SIMBAD) <type>' or a bare SIMBAD type; see /api/v1/classes", required=True,
          example="Solar System MPC"),
    Param("n", "int", f"Number of alerts (at most {MAX_N})", 10, minimum=1, maximum=MAX_N),
    Param("startdate", "date", "Oldest date (UTC or JD)", "2019-11-01"),
    Param("stopdate", "date", "Newest date, exclusive (UTC or JD); default now"),
    COLUMNS,
))

SSO = Endpoint("sso", "Every alert of solar-system objects", (
    Param("n_or_d", "list", "MPC number(s) or designation(s), comma-separated", required=True, example="8467"),
    COLUMNS,
))

CUTOUTS = Endpoint("cutouts", "One cutout of an alert, as PNG, FITS or array", (
    Param("objectId", "string", "ZTF objectId", required=True, example="ZTF23abjexnw"),
    Param("candid", "int", "Alert id; default the object's latest alert", minimum=0),
    Param("kind", "choice", "Science, Template or Difference (All only with output-format array)", "Science",
          choices=("Science", "Template", "Difference", "All")),
    Param("stretch", "choice", "PNG: intensity stretch", "sigmoid", choices=STRETCHES),
    Param("colormap", "string", "PNG: a matplotlib colour map name", "Greys_r"),
    Param("pmin", "float", "PNG: lower percentile", 0.5, minimum=0, maximum=100),
    Param("pmax", "float", "PNG: upper percentile", 99.5, minimum=0, maximum=100),
    Param("convolution_kernel", "choice", "PNG: smoothing kernel", None, choices=KERNELS),
), formats=("png", "fits", "array"))

XMATCH = Endpoint("xmatch", "Cross-match a catalogue with the alerts", (
    Param("catalog", "string", f"CSV text with a header line, at most {MAX_XMATCH_ROWS} rows", required=True,
          max_length=5_000_000, example="RA,Dec,ID\n3.38,52.69,a"),
    Param("header", "list", "Names of the RA, Dec and ID columns (and optional time, JD) in the catalogue",
          required=True, example="RA,Dec,ID"),
    Param("radius", "float", f"Match radius in arcseconds (at most {MAX_RADIUS_ARCSEC})", 1.5, minimum=0,
          maximum=MAX_RADIUS_ARCSEC),
    Param("window", "float", "Days around each source's time (needs a time column)", minimum=0, maximum=36500),
    COLUMNS,
))

CLASSES = Endpoint("classes", "Known class labels, grouped", (), formats=("json",))
SCHEMA = Endpoint("schema", "Every column with its type and description, by family", (), formats=("json",))
STATISTICS = Endpoint("statistics", "One row per ingested night", (
    Param("date", "string", "YYYY, YYYYMM or YYYYMMDD; empty for every night", "", example="2023"),
    Param("columns", "list", "Columns to return (basic:raw, basic:sci, class:<label>...)"),
))
RANDOM = Endpoint("random", "Alerts drawn at random, reproducible with a seed", (
    Param("n", "int", "Number of alerts (at most 16)", required=True, minimum=1, maximum=16, example=5),
    Param("class", "string", "Only this class"),
    Param("seed", "int", "Seed: the same seed gives the same alerts"),
    COLUMNS,
))
HEALTH = Endpoint("health", "Is the store reachable, and with which schema", (), formats=("json",))

FIT_OBJECT = Param("objectId", "string", "ZTF objectId", required=True, example="ZTF23abjexnw")
FIT_LIMITS = ("; runs within the query time budget (422 when stopped), at most a few fits at a time per client "
              "(429) and per server (503), with Retry-After")
FIT_VARSTAR = Endpoint("fit/varstar", "Multiband period fit (gatspy) of an object's light curve. The model's "
                       "parameters (2 per shared term, 1 + 2 per band term, per band) must be at most half the "
                       "points, and the search's cost (trial periods from the range and the curve's time span, "
                       "times points and terms) bounded, else 422 saying what to change" + FIT_LIMITS, (
    FIT_OBJECT,
    Param("period_min", "float", "Shortest period searched [days]", 0.1, minimum=0.01, maximum=100),
    Param("period_max", "float", "Longest period searched [days]", 1.2, minimum=0.02, maximum=1000),
    Param("nterms_base", "int", "Fourier terms of the base model", 1, minimum=0, maximum=5),
    Param("nterms_band", "int", "Fourier terms per band", 1, minimum=0, maximum=5),
    Param("period", "float", "Fit at this period instead of searching [days]", minimum=0.01, maximum=1000),
), formats=("json",))
FIT_MULENS = Endpoint("fit/mulens", "Point-source point-lens microlensing fit (pyLIMA)" + FIT_LIMITS, (FIT_OBJECT,),
                      formats=("json",))
FIT_SUPERNOVA = Endpoint("fit/supernova", "Bazin light-curve fit per band and g-r colour" + FIT_LIMITS,
                         (FIT_OBJECT,),
                         formats=("json",))

ALL = (OBJECTS, CONESEARCH, EXPLORER, LATESTS, SSO, CUTOUTS, XMATCH, CLASSES, SCHEMA, STATISTICS, RANDOM, HEALTH, FIT_VARSTAR, FIT_MULENS,
       FIT_SUPERNOVA)
