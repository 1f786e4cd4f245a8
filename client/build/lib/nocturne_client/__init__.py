"""Python client of the Nocturne alert API (and Fink's, which has the same routes)."""
from .client import Client
from .errors import APIError, APIWarning

__all__ = ["Client", "APIError", "APIWarning"]
__version__ = "0.1.0"
