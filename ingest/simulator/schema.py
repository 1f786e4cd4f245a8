"""The ZTF alert schema (version 4.02) and Fink's added values, written as code.

The field names, types and order follow the ZTF alert packets that a nightly
archive delivers, as re-serialised by Spark (Fink's archive): every field is a
union ``[type, "null"]`` except ``prv_candidates[].jd``, and record names are
``topLevelRecord.<field>``.  Readers must therefore address fields by name,
never by record name.  ``alert_schema(with_fink=True)`` appends the top-level
fields that Fink 4.1 adds to each packet; ``parquet_schema()`` is the Arrow
schema of Fink's Parquet archive (nested ``candidate`` and ``prv_candidates``,
structs sorted alphabetically, floats widened to double as pandas writes them).
"""

from __future__ import annotations

import pyarrow as pa

from science.lc_features import LC_FEATURES  # the features Fink computes per band (lc_features_g / _r)

SCHEMA_VERSION = "4.02"
RECORD = "topLevelRecord"

#: candidate record: (name, avro primitive type), in packet order.
CANDIDATE_FIELDS: list[tuple[str, str]] = [
    (f.split(":")[0], f.split(":")[1]) for f in """
    jd:double fid:int pid:long diffmaglim:float pdiffimfilename:string programpi:string
    programid:int candid:long isdiffpos:string tblid:long nid:int rcid:int field:int
    xpos:float ypos:float ra:double dec:double magpsf:float sigmapsf:float chipsf:float
    magap:float sigmagap:float distnr:float magnr:float sigmagnr:float chinr:float
    sharpnr:float sky:float magdiff:float fwhm:float classtar:float mindtoedge:float
    magfromlim:float seeratio:float aimage:float bimage:float aimagerat:float
    bimagerat:float elong:float nneg:int nbad:int rb:float ssdistnr:float ssmagnr:float
    ssnamenr:string sumrat:float magapbig:float sigmagapbig:float ranr:double
    decnr:double sgmag1:float srmag1:float simag1:float szmag1:float sgscore1:float
    distpsnr1:float ndethist:int ncovhist:int jdstarthist:double jdendhist:double
    scorr:double tooflag:int objectidps1:long objectidps2:long sgmag2:float srmag2:float
    simag2:float szmag2:float sgscore2:float distpsnr2:float objectidps3:long
    sgmag3:float srmag3:float simag3:float szmag3:float sgscore3:float distpsnr3:float
    nmtchps:int rfid:long jdstartref:double jdendref:double nframesref:int
    rbversion:string dsnrms:float ssnrms:float dsdiff:float magzpsci:float
    magzpsciunc:float magzpscirms:float nmatches:int clrcoeff:float clrcounc:float
    zpclrcov:float zpmed:float clrmed:float clrrms:float neargaia:float
    neargaiabright:float maggaia:float maggaiabright:float exptime:float drb:float
    drbversion:string
    """.split()
]

_CAND_TYPES = dict(CANDIDATE_FIELDS)

#: prv_candidates items: a subset of the candidate fields, in packet order.
PRV_FIELD_NAMES: list[str] = """
    jd fid pid diffmaglim pdiffimfilename programpi programid candid isdiffpos tblid
    nid rcid field xpos ypos ra dec magpsf sigmapsf chipsf magap sigmagap distnr magnr
    sigmagnr chinr sharpnr sky magdiff fwhm classtar mindtoedge magfromlim seeratio
    aimage bimage aimagerat bimagerat elong nneg nbad rb ssdistnr ssmagnr ssnamenr
    sumrat magapbig sigmagapbig ranr decnr scorr magzpsci magzpsciunc magzpscirms
    clrcoeff clrcounc rbversion
    """.split()
PRV_FIELDS: list[tuple[str, str]] = [(n, _CAND_TYPES[n]) for n in PRV_FIELD_NAMES]
#: prv_candidates fields that are not nullable.
PRV_REQUIRED = frozenset({"jd"})
#: prv_candidates fields set for a non-detection (upper limit); all others are null.
NONDET_FIELDS = frozenset(
    "jd fid pid diffmaglim pdiffimfilename programpi programid nid rcid field "
    "magzpsci magzpsciunc magzpscirms clrcoeff clrcounc rbversion".split()
)

#: fp_hists items (forced photometry of the 30 days before the alert), in ZTF 4.02's order.
FP_FIELDS: list[tuple[str, str]] = [
    (f.split(":")[0], f.split(":")[1]) for f in """
    field:int rcid:int fid:int pid:long rfid:long sciinpseeing:float scibckgnd:float
    scisigpix:float magzpsci:float magzpsciunc:float magzpscirms:float clrcoeff:float
    clrcounc:float exptime:float adpctdif1:float adpctdif2:float diffmaglim:float
    programid:int jd:double forcediffimflux:float forcediffimfluxunc:float procstatus:string
    distnr:float ranr:double decnr:double magnr:float sigmagnr:float chinr:float sharpnr:float
    """.split()
]
#: fp_hists fields that are not nullable (as in ZTF's schema 4.02).
FP_REQUIRED = frozenset({"fid", "pid", "rfid", "programid", "jd", "ranr", "decnr"})

TOP_FIELDS: list[tuple[str, str]] = [
    ("candid", "long"), ("schemavsn", "string"), ("publisher", "string"), ("objectId", "string"),
]
CUTOUTS = ("cutoutScience", "cutoutTemplate", "cutoutDifference")

#: Fink 4.1 added values, in packet order. Types: avro primitive, or "map:<type>"
#: (nullable map of nullable values), or "lc_features" (non-null record of doubles).
FINK_FIELDS: list[tuple[str, str]] = [
    ("brokerIngestTimestamp", "string"), ("brokerStartProcessTimestamp", "string"),
    ("fink_broker_version", "string"), ("fink_science_version", "string"),
    ("cdsxmatch", "string"), ("tns", "string"), ("DR3Name", "string"), ("Plx", "float"),
    ("e_Plx", "float"), ("gaiaVarFlag", "int"), ("gaiaClass", "string"), ("vsx", "string"),
    ("spicy_id", "int"), ("spicy_class", "string"), ("gcvs", "string"), ("x3hsp", "string"),
    ("x4lac", "string"), ("mangrove", "map:string"), ("roid", "int"),
    ("rf_snia_vs_nonia", "double"), ("snn_snia_vs_nonia", "double"),
    ("snn_sn_vs_all", "double"), ("mulens", "double"), ("nalerthist", "int"),
    ("rf_kn_vs_nonkn", "double"), ("anomaly_score", "double"),
    ("anomaly_score_beta", "double"), ("anomaly_score_anais", "double"),
    ("anomaly_score_emille", "double"), ("anomaly_score_julien", "double"),
    ("anomaly_score_maria", "double"), ("anomaly_score_emille_30days", "double"),
    ("anomaly_score_varvara", "double"), ("lc_features_g", "lc_features"),
    ("lc_features_r", "lc_features"), ("jd_first_real_det", "double"),
    ("jdstarthist_dt", "double"), ("mag_rate", "double"), ("sigma_rate", "double"),
    ("lower_rate", "double"), ("upper_rate", "double"), ("delta_time", "double"),
    ("from_upper", "boolean"), ("blazar_stats", "map:float"), ("is_transient", "boolean"),
    ("slsn_score", "double"), ("brokerEndProcessTimestamp", "string"),
    ("tracklet", "string"), ("timestamp", "string"), ("year", "int"), ("month", "int"),
    ("day", "int"), ("finkclass", "string"), ("tnsclass", "string"),
]

MANGROVE_KEYS = ("HyperLEDA_name", "2MASS_name", "lum_dist", "ang_dist")
BLAZAR_KEYS = ("m1", "m2", "m0")
T2_CLASSES = ("AGN", "EB", "KN", "M-dwarf", "Mira", "RRL", "SLSN-I", "SNII", "SNIa",
              "SNIa-91bg", "SNIax", "SNIbc", "TDE", "mu-Lens-Single")


def _nullable(t):
    return [t, "null"]


def _record(name: str, fields: list[tuple[str, str]], required=frozenset()) -> dict:
    return {
        "type": "record",
        "name": f"{RECORD}.{name}",
        "fields": [{"name": n, "type": t if n in required else _nullable(t)} for n, t in fields],
    }


def _fink_field(name: str, kind: str) -> dict:
    if kind.startswith("map:"):
        return {"name": name, "type": _nullable({"type": "map", "values": _nullable(kind[4:])})}
    if kind == "lc_features":
        return {"name": name, "type": _record(name, [(f, "double") for f in LC_FEATURES])}
    return {"name": name, "type": _nullable(kind)}


def alert_schema(with_fink: bool = False, with_fp: bool = False) -> dict:
    """Return the Avro schema (a plain dict) of one alert packet; ``with_fp``: with
    ``fp_hists`` after ``prv_candidates``, as raw ZTF 4.02 packets carry them (Fink's
    archive, which the default imitates, leaves them out)."""
    fields = [{"name": n, "type": _nullable(t)} for n, t in TOP_FIELDS]
    fields.append({"name": "candidate", "type": _nullable(_record("candidate", CANDIDATE_FIELDS))})
    fields.append({
        "name": "prv_candidates",
        "type": _nullable({
            "type": "array",
            "items": _nullable(_record("prv_candidates", PRV_FIELDS, PRV_REQUIRED)),
        }),
    })
    if with_fp:
        fields.append({"name": "fp_hists", "type": _nullable({
            "type": "array", "items": _nullable(_record("fp_hists", FP_FIELDS, FP_REQUIRED))})})
    for c in CUTOUTS:
        fields.append({"name": c, "type": _nullable(
            _record(c, [("fileName", "string"), ("stampData", "bytes")]))})
    if with_fink:
        fields.extend(_fink_field(n, k) for n, k in FINK_FIELDS)
    return {"type": "record", "name": RECORD, "fields": fields}


# --------------------------------------------------------------------------- Parquet
_ARROW = {"double": pa.float64(), "float": pa.float64(), "int": pa.int64(),
          "long": pa.int64(), "string": pa.string(), "boolean": pa.bool_()}
#: prv_candidates integer fields that can be null are stored as double (pandas NaN).
_PRV_INT_ALWAYS_SET = frozenset({"fid", "field", "nid", "pid", "programid", "rcid"})


def _prv_arrow_type(name: str, t: str) -> pa.DataType:
    if t in ("int", "long") and name not in _PRV_INT_ALWAYS_SET:
        return pa.float64()
    return _ARROW[t]


def parquet_schema() -> pa.Schema:
    """Arrow schema of Fink's Parquet alert archive (one row per alert)."""
    cand = pa.struct(sorted(((n, _ARROW[t]) for n, t in CANDIDATE_FIELDS)))
    prv = pa.struct(sorted(((n, _prv_arrow_type(n, t)) for n, t in PRV_FIELDS)))
    cut = pa.struct([("fileName", pa.string()), ("stampData", pa.binary())])
    feats = pa.struct(sorted((f, pa.float64()) for f in LC_FEATURES))
    f64, i64, s = pa.float64(), pa.int64(), pa.string()
    return pa.schema([
        ("candid", i64), ("schemavsn", s), ("publisher", s), ("objectId", s),
        ("candidate", cand), ("prv_candidates", pa.list_(prv)),
        ("cutoutScience", cut), ("cutoutTemplate", cut), ("cutoutDifference", cut),
        ("timestamp", s), ("cdsxmatch", s), ("DR3Name", s), ("Plx", f64), ("e_Plx", f64),
        ("vsx", s), ("spicy_id", i64), ("spicy_class", s), ("gcvs", s), ("x3hsp", s),
        ("x4lac", s),
        ("mangrove", pa.struct(sorted((k, s) for k in MANGROVE_KEYS))),
        ("roid", i64), ("rf_snia_vs_nonia", f64), ("snn_snia_vs_nonia", f64),
        ("snn_sn_vs_all", f64), ("mulens", f64), ("nalerthist", i64),
        ("rf_kn_vs_nonkn", f64), ("t2", pa.struct([(k, f64) for k in T2_CLASSES])),
        ("anomaly_score", f64), ("lc_features_g", feats), ("lc_features_r", feats),
        ("jd_first_real_det", f64), ("jdstarthist_dt", f64), ("mag_rate", f64),
        ("sigma_rate", f64), ("lower_rate", f64), ("upper_rate", f64),
        ("delta_time", f64), ("from_upper", pa.bool_()), ("fink_broker_version", s),
        ("fink_science_version", s), ("tracklet", s), ("year", i64), ("month", i64),
        ("day", i64), ("tnsclass", s), ("cmagpsf", pa.list_(f64)),
    ])
