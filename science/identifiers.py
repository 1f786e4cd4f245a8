"""Survey identifiers shared by the ingest, the API and the portal (one definition each).

A ZTF ``objectId`` is ``ZTF``, the two-digit year of the first detection, then seven
lower-case letters (``ZTF23abjexnw``). It lives here, in the package every layer may
import, so that the API's validation, the portal's search bar and its object page agree.
"""
from __future__ import annotations

import re

OBJECT_ID = re.compile(r"^ZTF\d{2}[a-z]{7}$")


def is_object_id(text) -> bool:
    """True when ``text`` is a complete ZTF objectId."""
    return isinstance(text, str) and OBJECT_ID.match(text) is not None
