"""The object page's science tabs; each module exposes ``layout(object_id) -> component``."""
