"""Read-side queries shared by the API and the portal (called in-process by both).

Each takes an open :class:`store.Store` and plain parameters, and returns a pandas
DataFrame (or plain data) with Fink's column names. No Flask, no Dash here.
"""
from .budget import QueryTooLarge, time_budget
from .cone import angular_distance, cone_rows, conesearch, xmatch, xmatch_catalog
from .cutouts import KINDS as CUTOUT_KINDS, CutoutUnreadable, decode_or_none, decode_stamp, find_alert, fits_bytes
from .fits import fit, lightcurve
from .forced import forced_photometry, forced_points
from .frame import V_COLUMNS, as_fink_text_columns, column_types, to_frame
from .examples import example_targets
from .listing import anomalies, class_index, count_window, full_rows, latests, sso, time_window
from .sample import random_alerts
from .objects import alert_rows, object_ids_starting_with, objects
from .stats import known_classes, old_columns, schema_columns, statistics, statistics_schema
from .trends import BLAZAR_CLASS, BLAZAR_TRENDS, TRENDS

__all__ = ["QueryTooLarge", "time_budget", "angular_distance", "cone_rows", "conesearch", "xmatch", "xmatch_catalog",
           "CUTOUT_KINDS", "CutoutUnreadable", "decode_or_none", "decode_stamp",
           "find_alert", "fits_bytes", "fit", "lightcurve", "forced_photometry", "forced_points", "V_COLUMNS", "as_fink_text_columns", "column_types",
           "to_frame", "full_rows", "latests", "count_window", "example_targets",
           "random_alerts", "sso", "time_window", "alert_rows", "object_ids_starting_with", "objects",
           "known_classes", "old_columns", "schema_columns", "statistics", "statistics_schema", "anomalies", "class_index",
           "BLAZAR_CLASS", "BLAZAR_TRENDS", "TRENDS"]
