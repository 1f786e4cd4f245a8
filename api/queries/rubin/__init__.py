"""Read-side queries on the Rubin/LSST tables (hbase_schema/rubin.yml), shaped as Fink's
LSST API answers: ``r:`` Rubin's fields, ``f:`` Fink's added values. Each takes a store
opened with the Rubin schema and plain parameters; no Flask here."""
from .cone import KINDS as CONE_KINDS, conesearch
from .examples import example_targets
from .fits import fit
from .frame import column_types, unknown_columns
from .lookup import (CUTOUT_KINDS, SCHEMA_TABLES, cutout_sources, find_cutouts, resolve, schema, schema_route, sso, statistics, statistics_schema, tag_list,
                     tagged)
from .objects import history, history_columns, object_ids, objects, objects_columns
from .skymap import event_mjd_tai, skymap_alerts

__all__ = ["CONE_KINDS", "conesearch", "example_targets", "fit", "column_types", "unknown_columns", "CUTOUT_KINDS", "cutout_sources", "find_cutouts",
           "SCHEMA_TABLES", "resolve", "schema", "schema_route", "sso", "statistics", "statistics_schema", "tag_list", "tagged", "history", "history_columns", "objects_columns",
           "object_ids", "objects", "event_mjd_tai", "skymap_alerts"]
