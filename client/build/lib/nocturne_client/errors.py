"""What the client raises and warns."""
from __future__ import annotations


class APIError(Exception):
    """The API refused or failed a request: ``status`` (HTTP), ``message`` (the API's own
    sentence, from its JSON error ``{"status": "error", "message": ..., "text": ...}``; Fink
    puts it under ``text``), ``url``."""

    def __init__(self, status: int, message: str, url: str):
        super().__init__(f"HTTP {status} from {url}: {message}")
        self.status = status
        self.message = message
        self.url = url


class APIWarning(UserWarning):
    """What the API said it ignored or changed in a request (its ``Warning`` header)."""
