"""The Rubin/LSST routes' parameters, declared once (validation, errors, OpenAPI, docs page).

Names, defaults and meanings follow Fink's LSST API (astrolabsoftware/fink-object-api,
``apps/routes/v1/lsst/*``), so that a script written for ``https://api.lsst.fink-portal.org``
runs against ``http://HOST/lsst`` unchanged. Columns are ``r:`` (Rubin's fields) and ``f:``
(Fink's added values); ``/lsst/api/v1/schema`` lists them per route.
"""
from __future__ import annotations

from .endpoints import (CUTOUT_404, CUTOUT_FORMATS, CUTOUT_KIND, FIT_404, FIT_LIMITS, MAX_N, MAX_OBJECTS,
                        MAX_RADIUS_ARCSEC, MAX_RESOLVER, PNG_PARAMS, SKYMAP as ZTF_SKYMAP, VARSTAR_PARAMS)
from .params import Endpoint, Param

PREFIX = "/lsst/api/v1"
OBJECT_ID = Param("diaObjectId", "list", f"Rubin diaObjectId, or a comma-separated list of up to {MAX_OBJECTS}",
                  required=True, example="170028500562477066", max_length=MAX_OBJECTS * 24)


def columns(table: str, example: str) -> Param:
    return Param("columns", "list", f"Comma-separated columns to return (r:..., f:...; see /lsst/api/v1/schema, "
                                    f"table {table}); * (or nothing) for all", example=example)


OBJECTS = Endpoint("objects", "The newest diaObject (aggregated data) of one or several objects", (
    OBJECT_ID, columns("diaObject", "r:diaObjectId,r:nDiaSources,r:firstDiaSourceMjdTai")),
    description="One row per object held: the diaObject of its newest alert, with r:diaSourceId and "
                "r:midpointMjdTai naming that alert, and Fink's values of it (f:). An unknown id gives no row.")
SOURCES = Endpoint("sources", "Every diaSource of one or several objects, newest first", (
    OBJECT_ID,
    Param("midpointMjdTai", "float", "Only the source(s) at this time [MJD TAI, to 1e-7 day]", minimum=0,
          maximum=99999),
    columns("diaSource", "r:midpointMjdTai,r:psfFlux,r:band")),
    description="The alerts' own sources (with Fink's f: values) and the previous sources the alerts carried, "
                "each once.")
FP = Endpoint("fp", "The forced photometry (diaForcedSources) of one or several objects, newest first", (
    OBJECT_ID, columns("diaForcedSource", "r:midpointMjdTai,r:psfFlux,r:band")))

CONESEARCH = Endpoint("conesearch", "The newest alert of each object in a cone, nearest first", (
    Param("ra", "ra", "Right ascension: degrees, or sexagesimal hours (03:33:00.33, 03h33m00.33s)", required=True,
          minimum=0, maximum=360, example="53.2514"),
    Param("dec", "dec", "Declination: degrees, or sexagesimal (-27:51:39.74, -27d51m39.74s)", required=True,
          minimum=-90, maximum=90, example="-27.861"),
    Param("radius", "float", f"Radius in arcseconds (at most {MAX_RADIUS_ARCSEC})", required=True, minimum=0,
          maximum=MAX_RADIUS_ARCSEC, example=5),
    Param("n", "int", f"Maximum number of objects (larger values: {MAX_N})", 1000, minimum=1, maximum=MAX_N,
          clamp=True),
    Param("startdate", "date", "Start of the window (UTC ISO, JD or MJD, read as MJD TAI as Fink does)"),
    Param("stopdate", "date", "End of the window, included as in Fink (UTC ISO, JD or MJD)"),
    Param("window", "float", "Days after startdate (instead of stopdate)", minimum=0, maximum=36500),
    Param("kind", "choice", "How the window applies: within (objects first detected in it whose newest alert is "
                            "in it too: the whole variation within the window) or across (objects with an alert "
                            "in the window)", "within", choices=("within", "across")),
    columns("diaSource", "r:diaObjectId,r:midpointMjdTai,r:psfFlux"),
), description="Read from the sky index of the alerts (light columns; any other diaSource column is read for the "
               "alerts kept). With columns, r:ra, r:dec, r:midpointMjdTai and v:separation_degree are added, "
               "as Fink adds them.")

CUTOUTS = Endpoint("cutouts", "A cutout of an object's alert, as PNG, FITS or array", (
    Param("diaObjectId", "string", "Rubin diaObjectId (ssObjectId for a solar-system source)", required=True,
          example="170028500562477066", max_length=24),
    CUTOUT_KIND,
    Param("diaSourceId", "int", "The alert's diaSourceId; default the object's newest alert", minimum=0),
    *PNG_PARAMS,
), formats=CUTOUT_FORMATS, responses=CUTOUT_404)

SSO = Endpoint("sso", "Every source of solar-system objects, by designation or ssObjectId", (
    Param("n_or_d", "list", "Designation(s) as Rubin gives them (2010 JO69, or 2010JO69), packed MPC designation(s) "
                            "(K10J69O), or ssObjectId(s), comma-separated; numbers and names need an online resolver "
                            "(quaero) and are looked up only as held", required=True, example="1975 ST"),
    Param("withEphem", "bool", "Add Miriade ephemerides: needs that online service, so true is refused (400)", False),
    Param("withResiduals", "bool", "Add sHG1G2 residuals: needs Miriade, so true is refused (400)", False),
    columns("diaSource", "r:midpointMjdTai,r:scienceFlux,r:band,r:ra,r:dec"),
), description="Each row is a solar-system diaSource (every r: and f: column) with f:sso_name, the name asked.")

TAGS = Endpoint("tags", "The newest alerts carrying a Fink tag; without tag, the tags and their descriptions", (
    Param("tag", "string", "A tag (see this route without parameters)", example="cataloged", max_length=100),
    Param("n", "int", f"Number of alerts (larger values: {MAX_N})", 10, minimum=1, maximum=MAX_N, clamp=True),
    Param("startdate", "date", "Oldest date (UTC ISO, JD or MJD)", "2019-11-01"),
    Param("stopdate", "date", "Newest date, exclusive (UTC ISO, JD or MJD); default now"),
    columns("diaSource", "r:diaObjectId,r:scienceFlux,r:midpointMjdTai"),
))

STATISTICS = Endpoint("statistics", "One row per ingested Rubin night (f:night, f:alerts, ...)", (
    Param("date", "string", "YYYY, YYYYMM or YYYYMMDD; empty for every night", "", example="2026"),
    Param("columns", "list", "Columns to return (f:night, f:alerts, ...); * (or nothing) for all"),
    Param("schema", "bool", "Return the column names instead of the rows", False),
))
SCHEMA = Endpoint("schema", "The columns a Rubin route answers with, by family, with type and description", (
    Param("endpoint", "string", "The route: /api/v1/sources (default), objects, fp, conesearch, tags, sso or "
                                "statistics (with or without /api/v1/)", "/api/v1/sources",
          example="/api/v1/objects", max_length=100),
), formats=("json",), description="As Fink's: {\"Rubin original fields (r:)\": {name: {type, doc}}, "
                                  "\"Fink added values (f:)\": {...}}, names without their prefix. The computed "
                                  "v:separation_degree of conesearch is not listed.")
RESOLVER = Endpoint("resolver", "Names of Rubin objects, and objects of names, from what this server holds", (
    Param("resolver", "choice", "tns: TNS names from Fink's cross-match; simbad: reverse only (a diaObjectId's "
                                "SIMBAD type); ssodnet: designation -> ssObjectId (reverse: ssObjectId -> designations)",
          required=True, choices=("tns", "simbad", "ssodnet"), example="ssodnet"),
    Param("name_or_id", "string", "The name or id to resolve (tns: a name prefix, any case, empty for all)", "",
          example="1975 ST", max_length=200),
    Param("name", "string", "Same as name_or_id (the older spelling)", max_length=200),
    Param("reverse", "bool", "Resolve an id into names instead", False),
    Param("nmax", "int", f"Maximum number of matches (at most {MAX_RESOLVER})", 10, minimum=1, maximum=MAX_RESOLVER),
))

SKYMAP = Endpoint("skymap", "The newest alert of each object inside a gravitational-wave credible region, around "
                            "the event's time (MJD TAI), with v:startgwMjdTai", ZTF_SKYMAP.params,
                  description="The window is midpointMjdTai in [event - n_day_before, event + n_day_after], the event "
                              "being the map's DATE-OBS in TAI; objects first detected (f:firstDiaSourceMjdTaiFink) "
                              "more than n_day_after days before their alert are left out. Columns: those of the sky "
                              "index (as conesearch's), newest first.", responses=ZTF_SKYMAP.responses)

FIT_OBJECT = Param("diaObjectId", "string", "Rubin diaObjectId", required=True, example="170028500562477066",
                   max_length=24)
WITH_FP = Param("withfp", "bool", "Add the object's forced photometry to its detections (each visit once)", False)
FLUXES = (" Fluxes (nJy) become AB magnitudes, m = 31.4 - 2.5 log10(f/nJy): scienceFlux (the source's total flux) "
          "for variable stars and microlensing, psfFlux (the difference flux) for supernovae; a flux that is not "
          "positive is left out")
FIT_VARSTAR = Endpoint("fit/varstar", "Multiband period fit of a Rubin object's light curve" + FLUXES + FIT_LIMITS, (
    FIT_OBJECT, WITH_FP, *VARSTAR_PARAMS,
), formats=("json",), responses=FIT_404)
FIT_MULENS = Endpoint("fit/mulens", "PSPL microlensing fit of a Rubin object" + FLUXES + FIT_LIMITS,
                      (FIT_OBJECT, WITH_FP), formats=("json",), responses=FIT_404)
FIT_SUPERNOVA = Endpoint("fit/supernova", "Bazin fit per band and g-r colour of a Rubin object" + FLUXES + FIT_LIMITS,
                         (FIT_OBJECT, WITH_FP), formats=("json",), responses=FIT_404)

ALL = (OBJECTS, SOURCES, FP, CONESEARCH, CUTOUTS, SSO, TAGS, STATISTICS, SCHEMA, RESOLVER, SKYMAP, FIT_VARSTAR, FIT_MULENS,
       FIT_SUPERNOVA)
