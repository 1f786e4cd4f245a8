"""Errors the store raises. Every one carries a message a user can act on."""


class StoreError(Exception):
    """Base class of every store error."""


class DataDirError(StoreError):
    """The embedded store's data directory is missing, unreadable or not a store."""


class SchemaVersionError(StoreError):
    """The store was created with another schema version than the configuration expects."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached (e.g. HBase down); worth retrying later."""


class TableMissing(StoreError):
    """A table the schema declares does not exist in the store yet."""
