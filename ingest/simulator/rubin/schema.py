"""The shape of a simulated Rubin alert, written in code: Arrow for Parquet, Avro derived from it.

Rubin's alert schema (LSST alert schema 10.0) is published under GPL-3, so its
files are not shipped with Nocturne: the fields below are listed here, from
what the alerts carry (names and types), in the order of the alerts Fink
delivers.  Each sub-record is a compact spec ``name:code`` (``l`` int64,
``i`` int32, ``d`` double, ``f`` float, ``b`` bool, ``s`` string); every field
is nullable, as in Fink's Parquet.  ``alert_schema`` gives the Arrow schema
of Fink's Parquet files (LSST fields then Fink's added values);
``avro_schema`` derives an Avro writer schema from any Arrow schema (Fink's
convention: ``[type, "null"]`` unions, sub-records not nullable); and
``raw_avro_schema`` the plain LSST alert (no Fink values, nullable
sub-records, as Rubin's Kafka stream sends it).
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "lsst.v10_0"
#: Confluent schema-registry id written before each wire-format message (10.0 -> 1000)
SCHEMA_ID = 1000

_TYPES = {"l": pa.int64(), "i": pa.int32(), "d": pa.float64(), "f": pa.float32(), "b": pa.bool_(),
          "s": pa.string()}

DIA_SOURCE = """
diaSourceId:l visit:l detector:i diaObjectId:l ssObjectId:l parentDiaSourceId:l midpointMjdTai:d
ra:d raErr:f dec:d decErr:f ra_dec_Cov:f x:f xErr:f y:f yErr:f centroid_flag:b apFlux:f apFluxErr:f
apFlux_flag:b apFlux_flag_apertureTruncated:b isNegative:b snr:f psfFlux:f psfFluxErr:f psfLnL:f
psfChi2:f psfNdata:i psfFlux_flag:b psfFlux_flag_edge:b psfFlux_flag_noGoodPixels:b trailFlux:f
trailFluxErr:f trailRa:d trailRaErr:f trailDec:d trailDecErr:f trailLength:f trailLengthErr:f
trailAngle:f trailAngleErr:f trailChi2:f trailNdata:i trail_flag_edge:b dipoleMeanFlux:f
dipoleMeanFluxErr:f dipoleFluxDiff:f dipoleFluxDiffErr:f dipoleLength:f dipoleAngle:f dipoleChi2:f
dipoleNdata:i scienceFlux:f scienceFluxErr:f forced_PsfFlux_flag:b forced_PsfFlux_flag_edge:b
forced_PsfFlux_flag_noGoodPixels:b templateFlux:f templateFluxErr:f ixx:f iyy:f ixy:f ixxPSF:f
iyyPSF:f ixyPSF:f shape_flag:b shape_flag_no_pixels:b shape_flag_not_contained:b
shape_flag_parent_source:b extendedness:f reliability:f band:s isDipole:b dipoleFitAttempted:b
timeProcessedMjdTai:d timeWithdrawnMjdTai:d bboxSize:i pixelFlags:b pixelFlags_bad:b pixelFlags_cr:b
pixelFlags_crCenter:b pixelFlags_edge:b pixelFlags_nodata:b pixelFlags_nodataCenter:b
pixelFlags_interpolated:b pixelFlags_interpolatedCenter:b pixelFlags_offimage:b
pixelFlags_saturated:b pixelFlags_saturatedCenter:b pixelFlags_suspect:b pixelFlags_suspectCenter:b
pixelFlags_streak:b pixelFlags_streakCenter:b pixelFlags_injected:b pixelFlags_injectedCenter:b
pixelFlags_injected_template:b pixelFlags_injected_templateCenter:b glint_trail:b
"""

DIA_FORCED_SOURCE = """
diaForcedSourceId:l diaObjectId:l ra:d dec:d visit:l detector:i psfFlux:f psfFluxErr:f
midpointMjdTai:d scienceFlux:f scienceFluxErr:f band:s timeProcessedMjdTai:d timeWithdrawnMjdTai:d
"""

BANDS = "ugrizy"


def _dia_object() -> str:
    per_band = " ".join(f"{b}_psfFluxMean:f {b}_psfFluxMeanErr:f {b}_psfFluxSigma:f {b}_psfFluxNdata:i "
                        f"{b}_fpFluxMean:f {b}_fpFluxMeanErr:f" for b in BANDS)
    science = " ".join(f"{b}_scienceFluxMean:f {b}_scienceFluxMeanErr:f" for b in BANDS)
    extremes = " ".join(f"{b}_psfFluxMin:f {b}_psfFluxMax:f {b}_psfFluxMaxSlope:f {b}_psfFluxErrMean:f"
                        for b in BANDS)
    return (f"diaObjectId:l validityStartMjdTai:d ra:d raErr:f dec:d decErr:f ra_dec_Cov:f {per_band} "
            f"{science} {extremes} firstDiaSourceMjdTai:d lastDiaSourceMjdTai:d nDiaSources:i")


DIA_OBJECT = _dia_object()

SS_SOURCE = """
diaSourceId:l ssObjectId:l designation:s eclLambda:d eclBeta:d galLon:d galLat:d elongation:f
phaseAngle:f topoRange:f topoRangeRate:f helioRange:f helioRangeRate:f ephRa:d ephDec:d ephVmag:f
ephRate:f ephRateRa:f ephRateDec:f ephOffset:f ephOffsetRa:d ephOffsetDec:d ephOffsetAlongTrack:f
ephOffsetCrossTrack:f helio_x:f helio_y:f helio_z:f helio_vx:f helio_vy:f helio_vz:f helio_vtot:f
topo_x:f topo_y:f topo_z:f topo_vx:f topo_vy:f topo_vz:f topo_vtot:f diaDistanceRank:i
"""

MPC_ORBITS = """
id:i designation:s packed_primary_provisional_designation:s unpacked_primary_provisional_designation:s
mpc_orb_jsonb:s created_at:l updated_at:l orbit_type_int:i u_param:i nopp:i arc_length_total:d
arc_length_sel:d nobs_total:i nobs_total_sel:i a:d q:d e:d i:d node:d argperi:d peri_time:d
yarkovsky:d srp:d a1:d a2:d a3:d dt:d mean_anomaly:d period:d mean_motion:d a_unc:d q_unc:d e_unc:d
i_unc:d node_unc:d argperi_unc:d peri_time_unc:d yarkovsky_unc:d srp_unc:d a1_unc:d a2_unc:d
a3_unc:d dt_unc:d mean_anomaly_unc:d period_unc:d mean_motion_unc:d epoch_mjd:d h:d g:d
not_normalized_rms:d normalized_rms:d earth_moid:d fitting_datetime:l
"""

# ---- Fink's added values (fink-broker 4.x on LSST)
CLF = ("snnSnVsOthers_score:f cats_class:i cats_score:f earlySNIa_score:d elephant_kstest_science:f "
       "elephant_kstest_template:f")
XM = """
simbad_otype:s gaiadr3_DR3Name:s gaiadr3_Plx:f gaiadr3_e_Plx:f gaiadr3_VarFlag:i legacydr8_zphot:f
legacydr8_e_zphot:f legacydr8_pstar:f legacydr8_fqual:i tns_fullname:s tns_type:s tns_redshift:f
gcvs_type:s x3hsp_type:s x4lac_type:s vsx_Type:s spicy_class:s mangrove_HyperLEDA_name:s
mangrove_2MASS_name:s mangrove_lum_dist:f mangrove_ang_dist:f
"""
PRED = "is_sso:b is_first:b is_cataloged:b main_label_classifier:i main_label_crossmatch:s"
MISC = "firstDiaSourceMjdTaiFink:d"
LC_FEATURES = """
mean weighted_mean standard_deviation median amplitude beyond_1_std cusum inter_percentile_range_10
kurtosis linear_trend linear_trend_sigma linear_trend_noise linear_fit_slope linear_fit_slope_sigma
linear_fit_reduced_chi2 magnitude_percentage_ratio_40_5 magnitude_percentage_ratio_20_10
maximum_slope median_absolute_deviation median_buffer_range_percentage_10 percent_amplitude
mean_variance anderson_darling_normal chi2 skew stetson_K
""".split()


def fields(spec: str) -> list[tuple[str, str]]:
    """``[(name, code)]`` of a compact spec."""
    return [tuple(item.split(":")) for item in spec.split()]


def struct(spec: str) -> pa.StructType:
    return pa.struct([pa.field(n, _TYPES[c]) for n, c in fields(spec)])


LC_STRUCT = pa.struct([pa.field(n, pa.float64()) for n in LC_FEATURES])


def lsst_fields() -> list[pa.Field]:
    """The LSST alert's own fields, in order."""
    src = struct(DIA_SOURCE)
    return [
        pa.field("diaSourceId", pa.int64()), pa.field("observation_reason", pa.string()),
        pa.field("target_name", pa.string()), pa.field("diaSource", src),
        pa.field("prvDiaSources", pa.list_(pa.field("element", src))),
        pa.field("prvDiaForcedSources", pa.list_(pa.field("element", struct(DIA_FORCED_SOURCE)))),
        pa.field("diaObject", struct(DIA_OBJECT)), pa.field("ssSource", struct(SS_SOURCE)),
        pa.field("mpc_orbits", struct(MPC_ORBITS)),
        pa.field("cutoutDifference", pa.binary()), pa.field("cutoutScience", pa.binary()),
        pa.field("cutoutTemplate", pa.binary()),
    ]


def fink_fields() -> list[pa.Field]:
    """Fink's added values, in the order of Fink's data-transfer files."""
    s = pa.string()
    return [
        pa.field("brokerIngestMjd", pa.float64()), pa.field("lsst_schema_version", s),
        pa.field("brokerStartProcessTimestamp", s), pa.field("fink_broker_version", s),
        pa.field("fink_science_version", s), pa.field("publisher", s),
        pa.field("lc_features", pa.map_(s, pa.field("lc_features", LC_STRUCT))),
        pa.field("clf", struct(CLF)), pa.field("xm", struct(XM)), pa.field("pred", struct(PRED)),
        pa.field("misc", struct(MISC)), pa.field("brokerEndProcessTimestamp", s),
        pa.field("timestamp", s), pa.field("year", pa.int32()), pa.field("month", pa.int32()),
        pa.field("day", pa.int32()), pa.field("tns_type_recomputed", s),
    ]


def alert_schema(fink: bool = True) -> pa.Schema:
    return pa.schema(lsst_fields() + (fink_fields() if fink else []))


# ---------------------------------------------------------------- Avro
_AVRO = {pa.int64(): "long", pa.int32(): "int", pa.float64(): "double", pa.float32(): "float",
         pa.bool_(): "boolean", pa.string(): "string", pa.binary(): "bytes"}


def _avro_type(t: pa.DataType, name: str, nullable: bool = False):
    if pa.types.is_struct(t):
        rec = {"type": "record", "name": name,
               "fields": [{"name": f.name, "type": _avro_type(f.type, f"{name}_{f.name}")} for f in t]}
        return ["null", rec] if nullable else rec
    if pa.types.is_map(t):
        return [{"type": "map", "values": _avro_type(t.item_type, f"{name}_value")}, "null"]
    if pa.types.is_list(t):
        return [{"type": "array", "items": _avro_type(t.value_type, f"{name}_item")}, "null"]
    return [_AVRO[t], "null"]


#: records a plain LSST alert may lack (an asteroid has no diaObject, a star no ssSource)
OPTIONAL_RECORDS = frozenset({"diaObject", "ssSource", "mpc_orbits"})


def avro_schema(schema: pa.Schema, name: str = "alert", namespace: str = SCHEMA_VERSION,
                nullable: frozenset = frozenset()) -> dict:
    """An Avro record schema for rows of ``schema``: every primitive a ``[T, "null"]`` union,
    lists and maps ``[..., "null"]``, records plain unless named in ``nullable`` (``["null", record]``)."""
    return {"type": "record", "name": name, "namespace": namespace,
            "fields": [{"name": f.name, "type": _avro_type(f.type, f.name, f.name in nullable)}
                       for f in schema]}


def raw_avro_schema() -> dict:
    """The plain LSST alert as Rubin streams it: no Fink values, absent sub-records are null."""
    return avro_schema(alert_schema(fink=False), nullable=OPTIONAL_RECORDS)
