"""Every endpoint's parameters, declared once: validation and the OpenAPI spec read these.

Names follow Fink's public API so that Fink scripts run unchanged. A parameter not declared
here is ignored with a ``Warning`` header, as Fink ignores what it does not know.
"""
from __future__ import annotations

from science.cutout_image import KERNELS, STRETCHES

from .annotations import MAX_LIST, MAX_TAGS, MAX_TEXT
from .params import Access, Endpoint, Param
from .queries.trends import TRENDS

MAX_OBJECTS = 1000
MAX_RADIUS_ARCSEC = 18000
MAX_N = 10000
MAX_XMATCH_ROWS = 10000

COLUMNS = Param("columns", "columns", "Comma-separated columns to return (family:qualifier), e.g. i:jd,i:magpsf,i:fid; "
                                     "* (or nothing) for all",
                example="i:objectId,i:jd,i:magpsf,i:fid")
START = Param("startdate", "date", "Start date, UTC (2023-10-18, 2023-10-18 05:00:00), Julian Date or MJD",
              example="2023-10-18")
STOP = Param("stopdate", "date", "Stop date (exclusive), UTC, Julian Date or MJD", example="2023-10-19")

OBJECTS = Endpoint("objects", "Every alert of one or several objects", description=(
    "Newest first. With every column (columns=* or none), each i: and d: column of /api/v1/schema is in the "
    "answer (null where an alert lacks it), with Fink's v:rate, v:sigma(rate), v:g-r, v:sigma(g-r), "
    "v:rate(g-r) and v:sigma(rate(g-r)); d:lc_features_g/r are the text of a JSON array, as Fink serves them."),
    params=(
    Param("objectId", "list", f"ZTF objectId, or a comma-separated list of up to {MAX_OBJECTS}", required=True,
          example="ZTF23abjexnw", max_length=MAX_OBJECTS * 40),
    Param("withupperlim", "bool", "Add upper limits and bad-quality detections, tagged in d:tag", False),
    Param("withfp", "bool", "Add the forced-photometry points (fp_hists of 4.x packets, as /api/v1/fp gives "
                            "them), tagged forcedphot in d:tag, with i:candid -1", False),
    Param("withcutouts", "bool", "Add the cutouts as 2-D arrays in b:cutout<Kind>_stampData", False),
    Param("cutout-kind", "choice", "Which cutouts with withcutouts (default: the three)", "All",
          choices=("Science", "Template", "Difference", "All")),
    COLUMNS,
))

FP = Endpoint("fp", "The forced photometry of one or several objects, newest first", (
    Param("objectId", "list", f"ZTF objectId, or a comma-separated list of up to {MAX_OBJECTS}", required=True,
          example="ZTF18acullba", max_length=MAX_OBJECTS * 40),
    Param("columns", "list", "Comma-separated columns to return (i:... the fp_hists fields, d:... the flux and "
                             "magnitudes; see /api/v1/schema, table fp); * (or nothing) for all",
          example="i:jd,i:fid,d:flux,d:sigmaflux,d:mag,d:maglim"),
), description=(
    "Forced PSF photometry on the difference images at the object's position, from the fp_hists of ZTF packets "
    "4.x (30 days before each alert; an object's points are the union over its packets, each once). Points ZTF "
    "could not measure (forcediffimflux -99999) are not stored. i: columns are ZTF's fields (forcediffimflux and "
    "forcediffimfluxunc in DN of the exposure, magzpsci, procstatus...); d:flux and d:sigmaflux are the "
    "difference flux in microjansky (forcediffimflux * 10**(-0.4 (magzpsci - 23.9))), d:snr their ratio, d:mag "
    "and d:sigmamag the difference magnitude where snr >= 3 (null otherwise: an upper limit), d:maglim the "
    "5-sigma limit magzpsci - 2.5 log10(5 forcediffimfluxunc). A store created before this table answers 503: "
    "run `python -m hbase_schema create`."))

CONESEARCH = Endpoint("conesearch", "The latest alert of each object in a cone, nearest first", (
    Param("ra", "ra", "Right ascension: degrees, or sexagesimal hours (12:34:56.7, 12 34 56.7, 12h34m56.7s)",
          required=True, minimum=0, maximum=360, example="3.38"),
    Param("dec", "dec", "Declination: degrees, or sexagesimal (-01:02:03, -1d02m03s)", required=True,
          minimum=-90, maximum=90, example="52.69"),
    Param("radius", "float", f"Radius in arcseconds (at most {MAX_RADIUS_ARCSEC})", required=True, minimum=0,
          maximum=MAX_RADIUS_ARCSEC, example=5),
    Param("startdate", "date", "Only objects first detected at or after this date (UTC, JD or MJD)"),
    Param("stopdate", "date", "Only objects first detected before this date (UTC, JD or MJD)"),
    Param("window", "float", "Days after startdate (instead of stopdate)", minimum=0, maximum=36500),
    Param("n", "int", f"Maximum number of objects (larger values: {MAX_N})", 1000, minimum=1, maximum=MAX_N,
          clamp=True),
    Param("columns", "columns", "Comma-separated columns to return (i:ra, i:dec and v:separation_degree are "
                                "always added), or * for all", example="i:objectId,i:jd,i:magpsf"),
))

EXPLORER_WINDOW_MINUTES = 10.0  # the date group's default window, as Fink's old explorer
EXPLORER_MAX_MINUTES = 180
EXPLORER = Endpoint("explorer", "Fink's legacy search: by objectId, by cone, or by date", (
    Param("objectId", "list", "Group 1: objectId(s)"),
    Param("ra", "ra", "Group 2: right ascension", minimum=0, maximum=360),
    Param("dec", "dec", "Group 2: declination", minimum=-90, maximum=90),
    Param("radius", "float", "Group 2: radius in arcseconds", minimum=0, maximum=MAX_RADIUS_ARCSEC),
    Param("startdate_conesearch", "date", "Group 2, optional: only alerts from this date (UTC, JD or MJD)"),
    Param("window_days_conesearch", "float", "Group 2, optional: days after startdate_conesearch", 1.0, minimum=0,
          maximum=36500),
    Param("startdate", "date", "Group 3: start date (UTC, JD or MJD), searched in the time index. With group 2 "
                               "(as Fink's conesearch): only objects first detected at or after this date"),
    Param("stopdate", "date", "With group 2: only objects first detected before this date (instead of window). "
                              "With group 3 (Nocturne's addition): the end of the date window, exclusive, of any "
                              "length (instead of window in minutes); the n oldest alerts of [startdate, stopdate)"),
    Param("window", "float", f"Group 3: minutes after startdate (default {EXPLORER_WINDOW_MINUTES:g}, at most "
                             f"{EXPLORER_MAX_MINUTES}); with group 2: days after startdate", minimum=0, maximum=36500),
    Param("n", "int", f"Maximum number of rows (larger values: {MAX_N})", 1000, minimum=1, maximum=MAX_N,
          clamp=True),
    COLUMNS,
), groups=(("objectId",), ("ra", "dec", "radius"), ("startdate",)))

LATESTS = Endpoint("latests", "The newest alerts of a class", (
    Param("class", "string", "A class label: a Fink class (SN candidate, Early SN Ia candidate, ...), "
                             "'(SIMBAD) <type>' or a bare SIMBAD type, '(TNS) <type>' (the latest alert of each "
                             "object with that TNS class); see /api/v1/classes", required=True,
          example="Solar System MPC"),
    Param("n", "int", f"Number of alerts (larger values: {MAX_N})", 10, minimum=1, maximum=MAX_N, clamp=True),
    Param("startdate", "date", "Oldest date (UTC, JD or MJD)", "2019-11-01"),
    Param("stopdate", "date", "Newest date, exclusive (UTC, JD or MJD); default now"),
    Param("color", "bool", "Add Fink's rate and colour columns, computed per object on the alerts returned: "
                           "v:rate, v:sigma(rate), v:g-r, v:sigma(g-r), v:rate(g-r), v:sigma(rate(g-r))", False),
    Param("trend", "choice", "Of the n alerts, only those getting brighter (rising: d:mag_rate < 0) or fainter "
                             "(fading: d:mag_rate > 0), as Fink filters them: an alert without d:mag_rate is "
                             "neither; low_state and new_low_state only with a class '(CTA) Blazar...' "
                             "(e.g. '(CTA) Blazar low state')", choices=TRENDS),
    COLUMNS,
))

SSO = Endpoint("sso", "Every alert of solar-system objects, with sso_name and sso_number", (
    Param("n_or_d", "list", "MPC number(s) or provisional designation(s) (8467, 2010 JO69, 10P), comma-separated; "
                            "names such as Phaethon need an online resolver and are refused", required=True,
          example="8467"),
    Param("withEphem", "bool", "Add ephemerides from IMCCE's Miriade: needs that online service, which this server "
                               "cannot reach, so true is refused (400); false works", False),
    Param("withResiduals", "bool", "Add sHG1G2 phase-curve residuals: they need Miriade's phase angles and distances, "
                                   "which this server cannot reach, so true is refused (400); false works", False),
    Param("withcutouts", "bool", "Add the cutouts as 2-D arrays in b:cutout<Kind>_stampData", False),
    Param("cutout-kind", "choice", "Which cutouts with withcutouts (All: the three)", "Science",
          choices=("Science", "Template", "Difference", "All")),
    COLUMNS,
))

MAX_RESOLVER = 100_000
RESOLVER = Endpoint("resolver", "Names of objects, and objects of names (Fink's resolver), from the names held here", (
    Param("resolver", "choice", "tns: internal names given to objects (annotations); simbad: reverse only (an "
                                "objectId's SIMBAD cross-match); ssodnet: solar-system numbers and designations",
          required=True, choices=("tns", "simbad", "ssodnet"), example="tns"),
    Param("name", "string", "The name to resolve (a prefix, any case; empty with tns: every name); with reverse, "
                            "a ZTF objectId", "", example="SN 2023", max_length=200),
    Param("name_or_id", "string", "Same as name (the newer spelling of Fink's API)", max_length=200),
    Param("reverse", "bool", "Resolve a ZTF objectId into its names instead", False),
    Param("nmax", "int", f"Maximum number of matches (at most {MAX_RESOLVER})", 10, minimum=1, maximum=MAX_RESOLVER),
))

TRACKLET = Endpoint("tracklet", "Alerts of fast-moving-object tracklets (satellites, debris), by id or by date", (
    Param("id", "string", "A tracklet id TRCK_YYYYMMDD_HHMMSS_NN, or its start (TRCK_YYYYMMDD, TRCK_YYYYMMDD_hh...)",
          example="TRCK_20211022_091949_00", max_length=64),
    Param("date", "string", "The exposure's UTC time, as precise as wanted: YYYY-MM-DD, YYYY-MM-DD hh, "
                            "YYYY-MM-DD hh:mm:ss (used when id is not given)", example="2021-10-22 09:19",
          max_length=64),
    COLUMNS,
))

MAX_SKYMAP_BYTES = 64 * 1024 * 1024
SKYMAP = Endpoint("skymap", "The latest alert of each object inside a gravitational-wave credible region, "
                            "around the event's time", (
    Param("bayestar", "string", "The HEALPix probability map (bayestar.fits.gz, flat or multi-order; gzipped or "
                                "plain FITS): as Python's str() of its bytes (what Fink's clients send), or base64. "
                                "A multipart upload may send it as the file 'file' or 'bayestar' instead",
          max_length=MAX_SKYMAP_BYTES),
    Param("event_name", "string", "A GraceDB event name: needs GraceDB, which this server cannot reach, so it is "
                                  "refused (400); download the map and send it as bayestar", max_length=100),
    Param("credible_level", "float", "Credible level of the region (0 to 1): 0.9 is the 90% region", required=True,
          minimum=0, maximum=1, example=0.9),
    Param("n_day_before", "float", "Days before the event (DATE-OBS) to search (at most 7)", 1.0, minimum=0, maximum=7),
    Param("n_day_after", "float", "Days after the event to search (at most 14); also the longest an object may have "
                                  "been known before its alert", 6.0, minimum=0, maximum=14),
))

#: the cutout routes' parameters and answers, shared by both surveys
CUTOUT_KIND = Param("kind", "choice", "Science, Template or Difference (All only with output-format array)", "Science",
                    choices=("Science", "Template", "Difference", "All"))
PNG_PARAMS = (
    Param("stretch", "choice", "PNG: intensity stretch", "sigmoid", choices=STRETCHES),
    Param("colormap", "string", "PNG: a matplotlib colour map name", "Greys_r"),
    Param("pmin", "float", "PNG: lower percentile", 0.5, minimum=0, maximum=100),
    Param("pmax", "float", "PNG: upper percentile", 99.5, minimum=0, maximum=100),
    Param("convolution_kernel", "choice", "PNG: smoothing kernel", None, choices=KERNELS),
)
CUTOUT_FORMATS = ("png", "fits", "array")
CUTOUT_404 = (("404", "No such object or alert, or the cutout is absent or damaged in the store"),)

CUTOUTS = Endpoint("cutouts", "One cutout of an alert, as PNG, FITS or array", (
    Param("objectId", "string", "ZTF objectId", required=True, example="ZTF23abjexnw"),
    Param("candid", "int", "Alert id; default the object's latest alert", minimum=0),
    CUTOUT_KIND, *PNG_PARAMS,
), formats=CUTOUT_FORMATS, responses=CUTOUT_404)

XMATCH = Endpoint("xmatch", "Cross-match a catalogue with the alerts", description=(
    "Each row is a catalogue row that matched (every column of the catalogue, names as sent, first) "
    "followed by the latest alert of a matching object (its columns, and v:separation_degree); "
    "catalogue rows without a match are left out, as Fink leaves them out."), params=(
    Param("catalog", "string", f"CSV text with a header line, at most {MAX_XMATCH_ROWS} rows", required=True,
          max_length=5_000_000, example="RA,Dec,ID\n3.38,52.69,a"),
    Param("header", "list", "Names of the RA, Dec and ID columns, and optionally a time column, in the catalogue. "
                            "RA/Dec in degrees or sexagesimal; time as JD, MJD or ISO (2023-10-18T05:00:00)",
          required=True, example="RA,Dec,ID"),
    Param("radius", "float", f"Match radius in arcseconds (at most {MAX_RADIUS_ARCSEC})", 1.5, minimum=0,
          maximum=MAX_RADIUS_ARCSEC),
    Param("window", "float", "Days around each source's time (needs a time column)", minimum=0, maximum=36500),
    COLUMNS,
))

CLASSES = Endpoint("classes", "Known class labels, grouped", (), formats=("json",), description=(
    "Fink's keys: 'Fink classifiers', 'Cross-match with TNS' ('(TNS) <type>' labels) and 'Cross-match with "
    "SIMBAD (see http://simbad.u-strasbg.fr/simbad/sim-display?data=otypes)' ('(SIMBAD) <type>' labels, the "
    "types seen so far). Every label is accepted by latests and random."))
SCHEMA = Endpoint("schema", "Every column with its type and description, by family", (), formats=("json",),
                  description=("Fink's keys ('ZTF original fields (i:)', 'ZTF original cutouts (b:)', 'Fink science "
                               "module outputs (d:)', 'Fink on-the-fly added values (v:)'), each mapping a column "
                               "name without its family prefix to {type, doc, description}: what objects answers "
                               "with columns=*. 'Columns added by some routes only' describes, by full name, the "
                               "computed columns other routes add (v:separation_degree of conesearch...)."))
COLUMNS_OLD = Endpoint("columns", "The schema as Fink's older science portal answered it", (), formats=("json",),
                       description=("{\"fields\": {...}}: the schema's groups under 'fields', the v: group named "
                                    "'Fink added values (v:)', as the older /api/v1/columns."))
STATISTICS = Endpoint("statistics", "One row per ingested night", description=(
    "With schema=true, one row per column of the statistics table: {\"schema\": \"basic:sci\"}..."), params=(
    Param("date", "string", "YYYY, YYYYMM or YYYYMMDD; empty for every night", "", example="2023"),
    Param("columns", "list", "Columns to return (basic:raw, basic:sci, class:<label>...); * (or nothing) for all"),
    Param("schema", "bool", "Return the statistics table's column names instead of its rows", False),
))
ANOMALY = Endpoint("anomaly", "The most anomalous alerts (lowest d:anomaly_score) in a date window", description=(
    "Alerts carrying an anomaly score (Fink's added value) ranked by it, most anomalous first; "
    "parameters as Fink's (n, start_date, stop_date)."), params=(
    Param("n", "int", f"Number of alerts (larger values: {MAX_N})", 10, minimum=1, maximum=MAX_N, clamp=True),
    Param("start_date", "date", "Oldest date (UTC YYYY-MM-DD, or JD)", "2019-11-01", example="2019-11-01"),
    Param("stop_date", "date", "Newest date, inclusive: the whole day (UTC YYYY-MM-DD, or JD); default now"),
    COLUMNS,
))
RANDOM = Endpoint("random", "Alerts drawn at random, reproducible with a seed", (
    Param("n", "int", "Number of alerts (larger values: 16, as in Fink)", required=True, minimum=1, maximum=16,
          example=5, clamp=True),
    Param("class", "string", "Only this class"),
    Param("seed", "int", "Seed: the same seed gives the same alerts"),
    COLUMNS,
))
HEALTH = Endpoint("health", "Is the store reachable, and with which schema", (), formats=("json",))

FIT_OBJECT = Param("objectId", "string", "ZTF objectId", required=True, example="ZTF23abjexnw")
FIT_404 = (("404", "No such object or alert"),)
FIT_LIMITS = ("; runs within the query time budget (422 when stopped), at most a few fits at a time per client "
              "(429) and per server (503), with Retry-After. The answer's `warnings` lists, as "
              "{code, message}, why the fit may not be trusted (parameter_at_bound, peak_outside_data, "
              "peak_time_uncertain, poor_fit, degenerate_parameters, few_points_per_band); times are in "
              "`time_unit` (JD)")
FIT_HISTORY = Param("history", "choice", "Earlier detections from the alerts' history (prv_candidates) that join "
                                         "the alerts: none; good (real/bogus score rb >= 0.55); all",
                    "good", choices=("none", "good", "all"))
FIT_FORCED = Param("withfp", "bool", "Use the object's forced photometry (the fp table: ZTF 4.x packets' fp_hists) "
                                     "with its detections", True)
#: the variable-star fit's parameters, shared by both surveys
VARSTAR_PARAMS = (
    Param("period_min", "float", "Shortest period searched [days]", 0.1, minimum=0.01, maximum=100),
    Param("period_max", "float", "Longest period searched [days]", 1.2, minimum=0.02, maximum=1000),
    Param("nterms_base", "int", "Fourier terms of the shared model (default: both chosen for the number of points, "
          "at most a quarter as many parameters as points; one given: 1 for the other)", minimum=0, maximum=5),
    Param("nterms_band", "int", "Fourier terms per band (default: see nterms_base)", minimum=0, maximum=5),
    Param("period", "float", "Fit at this period instead of searching [days]", minimum=0.01, maximum=1000),
)
FIT_VARSTAR = Endpoint("fit/varstar", "Multiband period fit (gatspy) of an object's light curve. The model's "
                       "parameters (2 per shared term, 1 + 2 per band term, per band) must be at most half the "
                       "points, and the search's cost (trial periods from the range and the curve's time span, "
                       "times points) bounded, else 422 saying what to change. The answer's 'warnings' list "
                       "the fit's quality problems ({code, message}: no_significant_peak, few_points_per_band, parameters_near_points, "
                       "period_at_range_edge); 'epoch' is in 'time_unit' (JD)" + FIT_LIMITS, (
    FIT_OBJECT, FIT_HISTORY, FIT_FORCED, *VARSTAR_PARAMS,
), formats=("json",), responses=FIT_404)
FIT_MULENS = Endpoint("fit/mulens", "Point-source point-lens microlensing fit (pyLIMA)" + FIT_LIMITS,
                      (FIT_OBJECT, FIT_HISTORY, FIT_FORCED), formats=("json",), responses=FIT_404)
FIT_SUPERNOVA = Endpoint("fit/supernova", "Bazin light-curve fit per band and g-r colour" + FIT_LIMITS,
                         (FIT_OBJECT, FIT_HISTORY, FIT_FORCED),
                         formats=("json",), responses=FIT_404)

# -- annotations and internal names: reads are anyone's, writes need a token -------------------
NO_OBJECT = ("404", "No such object or annotation")
TAKEN = ("409", "The internal name already designates another object, or was given by another user")
ANNOTATIONS = Endpoint("annotations", "Annotations of an object, or with a tag, newest first", (
    Param("objectId", "string", "ZTF objectId", example="ZTF23abjexnw", max_length=40),
    Param("tag", "string", "A tag (instead of objectId)", example="kilonova", max_length=41),
    Param("n", "int", f"At most this many (at most {MAX_LIST})", 100, minimum=1, maximum=MAX_LIST),
), formats=("json",), methods=("GET",), strict=True, responses=(("200", "The annotations"),))
ANNOTATE = Endpoint("annotations", "Annotate an object (token with scope annotate)", (
    Param("objectId", "string", "ZTF objectId of a stored object", required=True, example="ZTF23abjexnw", max_length=40),
    Param("text", "string", f"Free text, at most {MAX_TEXT} characters, shown as text", example="Rising fast",
          max_length=MAX_TEXT + 100),
    Param("tags", "list", f"Tags, at most {MAX_TAGS}: letters, digits, . _ + -", example="kilonova,followup",
          max_length=1000),
    Param("internal_name", "string", "An internal name for the object (at most 64 characters)", example="SN 2023abc",
          max_length=100),
), formats=("json",), methods=("POST",), strict=True, access=Access("token", ("annotate",), writes=True),
    responses=(("201", "The annotation, created"), NO_OBJECT, TAKEN))
UNANNOTATE = Endpoint("annotations", "Delete an annotation: its author, or a token with scope admin", (
    Param("id", "string", "The annotation's id, as GET annotations gives it", required=True, max_length=200),
), formats=("json",), methods=("DELETE",), strict=True, access=Access("token", ("annotate", "admin"), writes=True),
    responses=(("200", "Deleted"), ("403", "The token lacks the scope, or is not the author's"), NO_OBJECT))
_METADATA_PARAMS = (
    Param("objectId", "string", "ZTF objectId, or all (every named object)", example="ZTF23abjexnw", max_length=40),
    Param("internal_name", "string", "An internal name; with objectId on POST, gives it (token with scope annotate)",
          max_length=100),
    Param("internal_name_encoded", "string", "An internal name without its spaces (Fink's d:internal_name_encoded)",
          max_length=100),
    Param("comments", "string", "POST with objectId and internal_name: a comment", max_length=MAX_TEXT + 100),
    Param("username", "string", "Accepted for Fink compatibility; the author is the token's user", max_length=100),
)
METADATA_SUMMARY = "Internal names (Fink's metadata): of an object, or the object of a name"
METADATA = Endpoint("metadata", METADATA_SUMMARY, _METADATA_PARAMS, formats=("json",), methods=("GET",), strict=True,
                    responses=(("200", "Metadata rows"),))
METADATA_GIVE = Endpoint("metadata", METADATA_SUMMARY, _METADATA_PARAMS, formats=("json",), methods=("POST",),
                         strict=True, access=Access("token", ("annotate",), writes=True,
                                                    when="giving a name (objectId and internal_name)"),
                         responses=(("200", "Metadata rows"), ("201", "The name, given"), NO_OBJECT, TAKEN))

# -- external analysis services (api/analysis*.py) -------------------------------------------
from .analysis_services import AUTH_KINDS, DATA_TYPES, MAX_TIMEOUT_S  # noqa: E402

ADMIN_WRITE = Access("token", ("admin",), writes=True)
ANALYSIS_SERVICES = Endpoint("analysis/services", "The external analysis services this server may call (no secrets)",
                             (), formats=("json",), methods=("GET",), strict=True)
ANALYSIS_SERVICE_ADD = Endpoint("analysis/services", "Register or replace an analysis service (token with scope admin)", (
    Param("name", "string", "Its name: 2 to 40 lower-case letters, digits, _ or -", required=True, example="fitter",
          max_length=40),
    Param("url", "string", "Where analyses are POSTed; must start with a prefix of the setting analysis_allowlist",
          required=True, example="https://fitter.example.org/analyse", max_length=500),
    Param("description", "string", "What it does", "", max_length=500),
    Param("version", "string", "Its version", "", max_length=40),
    Param("contact", "string", "Who runs it (an address)", "", max_length=200),
    Param("auth", "choice", "How it authenticates our requests: none, header (a token in a header) or basic",
          "none", choices=AUTH_KINDS),
    Param("auth_header", "string", "The header carrying the token with auth=header (default Authorization)",
          max_length=64),
    Param("secret", "string", "The header's token, or user:password with basic; stored encrypted, never returned",
          max_length=1000),
    Param("data_types", "list", "What it is sent: " + ", ".join(DATA_TYPES) + " (default detections)",
          example="detections,upper_limits"),
    Param("parameters", "json", "Its optional parameters and their allowed values: {name: [value, ...]}",
          example='{"model": ["linear", "quadratic"]}', max_length=20_000),
    Param("timeout", "int", f"Seconds it has to send its results, at most {MAX_TIMEOUT_S}", 600, minimum=1,
          maximum=MAX_TIMEOUT_S),
    Param("upload_only", "bool", "The service only receives the data: no callback, completed when it accepts them",
          False),
    Param("users", "list", "Users who may use it (with scopes: either suffices; neither: anyone may)"),
    Param("scopes", "list", "Token scopes that may use it (annotate, analysis, admin)"),
), formats=("json",), methods=("POST",), strict=True, access=ADMIN_WRITE,
    responses=(("201", "The service, registered"),))
ANALYSIS_SERVICE_REMOVE = Endpoint("analysis/services", "Remove an analysis service (token with scope admin)", (
    Param("name", "string", "Its name", required=True, max_length=40),
), formats=("json",), methods=("DELETE",), strict=True, access=ADMIN_WRITE,
    responses=(("200", "Removed"), ("404", "No such service")))
ANALYSES = Endpoint("analysis", "Analyses of an object by external services, newest first", (
    Param("objectId", "string", "ZTF objectId (or give diaObjectId)", example="ZTF23abjexnw", max_length=40),
    Param("diaObjectId", "string", "Rubin diaObjectId (instead of objectId)", max_length=20),
    Param("includeAnalysisData", "bool", "Add each analysis' results, plots (base64) and inference data", False),
), formats=("json",), methods=("GET",), strict=True)
ANALYSIS_START = Endpoint("analysis", "Start an analysis of an object by an external service (token with scope "
                                      "analysis or annotate, and the service's permission)", (
    Param("objectId", "string", "ZTF objectId of a stored object (or give diaObjectId)", example="ZTF23abjexnw",
          max_length=40),
    Param("diaObjectId", "string", "Rubin diaObjectId of a stored object (instead of objectId): the service is sent "
                                   "its diaSources and forced sources", max_length=20),
    Param("service", "string", "The service's name (GET analysis/services)", required=True, example="fitter",
          max_length=40),
    Param("parameters", "json", "Values of the service's optional parameters: {name: value}", max_length=20_000),
), formats=("json",), methods=("POST",), strict=True,
    access=Access("token", ("analysis", "annotate", "admin"), writes=True),
    responses=(("201", "The analysis, queued"), ("404", "No such object or service")))
ANALYSIS_DELETE = Endpoint("analysis", "Delete an analysis: who started it, or a token with scope admin", (
    Param("id", "string", "The analysis' id, as GET analysis gives it", required=True, max_length=200),
), formats=("json",), methods=("DELETE",), strict=True,
    access=Access("token", ("analysis", "annotate", "admin"), writes=True),
    responses=(("200", "Deleted"), ("404", "No such analysis")))
WEBHOOK = Endpoint("webhook/analysis/<token>", "A service sends an analysis' results (once, before it times out)", (
    Param("token", "string", "The single-use callback token of the URL the service was sent", required=True,
          max_length=100),
    Param("status", "choice", "success or error", "success", choices=("success", "error")),
    Param("message", "string", "What the service says (shown with the analysis)", "", max_length=2000),
    Param("results", "json", "The results: a JSON object", max_length=1 << 30),
    Param("plots", "json", "Plots: [{name, format: png or svg, data: base64}], at most 10", max_length=1 << 30),
    Param("inference_data", "json", "Inference data as NetCDF: {format: netcdf, data: base64}", max_length=1 << 30),
), formats=("json",), methods=("POST",), strict=True,
    responses=(("200", "Accepted"), ("404", "Unknown callback token"), ("410", "Used or expired token"),
               ("413", "Larger than analysis_max_result_bytes"), ("415", "Not JSON (pickles are never read)")))


# -- Virtual Observatory: IVOA Simple Cone Search 1.03, Simple Image Access 1.0, VOSI ----------
# (api/routes_vo.py serves them under /api/v1/vo for ZTF and /lsst/api/v1/vo for Rubin)
MAX_SR_DEG = MAX_RADIUS_ARCSEC / 3600
MAX_SIA_SIZE_DEG = 1.0
VO_ERRORS = (("200", "A VOTable; an error (a missing or invalid parameter...) is a VOTable too, with INFO "
                     "name=\"QUERY_STATUS\" value=\"ERROR\" and the message, as the IVOA standards say"),)
_MAXREC = Param("MAXREC", "int", f"At most this many rows (larger values: {MAX_N}); QUERY_STATUS is OVERFLOW "
                                 "when more match", 1000, minimum=0, maximum=MAX_N, clamp=True)
_SCS_PARAMS = (
    Param("RA", "ra", "Right ascension of the cone's centre, ICRS degrees", required=True, minimum=0, maximum=360,
          example="3.38"),
    Param("DEC", "dec", "Declination of the cone's centre, ICRS degrees", required=True, minimum=-90, maximum=90,
          example="52.69"),
    Param("SR", "float", f"Radius of the cone in degrees (at most {MAX_SR_DEG:g})", required=True, minimum=0,
          maximum=MAX_SR_DEG, example=0.01),
    Param("VERB", "int", "Columns: 1 the id and position, 2 a few more (time, band, brightness, separation), "
                         "3 every column the sky index holds", 2, minimum=1, maximum=3),
    _MAXREC,
)
VO_SCS_ALERTS = Endpoint("scs/alerts", "IVOA Simple Cone Search over the alerts: every alert in the cone",
                         _SCS_PARAMS, formats=("votable",), responses=VO_ERRORS, description=(
                             "SCS 1.03: one row per alert, nearest first; ID_MAIN is the alert's id (candid, "
                             "diaSourceId), POS_EQ_RA_MAIN and POS_EQ_DEC_MAIN its position."))
VO_SCS_OBJECTS = Endpoint("scs/objects", "IVOA Simple Cone Search over the objects: the newest alert of each",
                          _SCS_PARAMS, formats=("votable",), responses=VO_ERRORS, description=(
                              "SCS 1.03: the rows of conesearch (the newest alert of each object, nearest first); "
                              "ID_MAIN is the object's id (objectId, diaObjectId)."))
VO_SIA = Endpoint("sia", "IVOA Simple Image Access 1.0: the alerts' cutouts overlapping a region", (
    Param("POS", "string", "Centre of the region: 'ra,dec' in ICRS degrees", required=True, example="3.38,52.69",
          max_length=100),
    Param("SIZE", "string", f"Size of the region in degrees: one value (a square) or 'width,height' (at most "
                            f"{MAX_SIA_SIZE_DEG:g})", required=True, example="0.01", max_length=100),
    Param("FORMAT", "string", "Comma-separated: image/fits, image/png, ALL (both; default), GRAPHIC (png), "
                              "METADATA (no rows: the columns only)", "ALL", max_length=200),
    Param("INTERSECT", "choice", "OVERLAPS: images overlapping the region; CENTER: images whose centre is in it",
          "OVERLAPS", choices=("OVERLAPS", "CENTER")),
    Param("VERB", "int", "Accepted for SIA 1.0; every column is always returned", 1, minimum=0, maximum=3),
    _MAXREC,
), formats=("votable",), responses=VO_ERRORS, description=(
    "One row per cutout (Science, Template, Difference) of each alert and per format, its centre, shape, pixel "
    "scale and WCS from the stamp's FITS header; VOX:Image_AccessReference is the URL of the cutout route "
    "(output-format=fits or png)."))
VO_CAPABILITIES = Endpoint("capabilities", "VOSI capabilities: the VO services here, their URLs and limits", (),
                           formats=("xml",), methods=("GET",))
VO_AVAILABILITY = Endpoint("availability", "VOSI availability: whether the store answers", (),
                           formats=("xml",), methods=("GET",))
VO_ALL = (VO_SCS_ALERTS, VO_SCS_OBJECTS, VO_SIA, VO_CAPABILITIES, VO_AVAILABILITY)

# -- this documentation ------------------------------------------------------------------------
OPENAPI = Endpoint("openapi.json", "This API's OpenAPI 3 spec, made from these declarations", (), formats=("json",),
                   methods=("GET",))
DOCS = Endpoint("docs", "This API's documentation, a page (also at /api)", (), formats=("html",), methods=("GET",))

ALL = (OBJECTS, FP, CONESEARCH, EXPLORER, LATESTS, SSO, RESOLVER, TRACKLET, SKYMAP, CUTOUTS, XMATCH, CLASSES, SCHEMA,
       COLUMNS_OLD, STATISTICS, ANOMALY, RANDOM, HEALTH, FIT_VARSTAR, FIT_MULENS,
       FIT_SUPERNOVA, ANNOTATIONS, ANNOTATE, UNANNOTATE, METADATA, METADATA_GIVE, ANALYSIS_SERVICES, ANALYSIS_SERVICE_ADD,
       ANALYSIS_SERVICE_REMOVE, ANALYSES, ANALYSIS_START, ANALYSIS_DELETE, WEBHOOK, OPENAPI, DOCS)
