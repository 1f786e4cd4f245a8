"""Annotations: what people record about an object (text, tags, an internal name), beside
the alert tables: their validation and their rows. The API's routes are in
:mod:`api.routes_annotations`, declared in :mod:`api.endpoints`.

Table ``annotations`` is keyed ``objectId_time_id`` (time as a Julian Date, so an object's
annotations sort by time; ``id`` is random), ``annotation_tag`` indexes them by
``tag_objectId_time_id`` and ``internal_name`` maps a name (lower case) to its object, as
Fink's ``metadata`` endpoint does. A name is unique without regard to case: it designates one
object and is credited to the user who gave it first; another object, or another user giving it
to the same object (in any case), gets a 409. (Fink keeps one metadata row per object, which
its last writer replaces, and finds a name by exact match; it checks no uniqueness.)

Endpoints (under /api/v1, see :mod:`api.routes_annotations`):

* ``GET annotations?objectId=`` or ``?tag=``: newest first; anyone may read.
* ``POST annotations`` (objectId, text, tags, internal_name): a token with scope ``annotate``.
* ``DELETE annotations?id=``: its author (scope ``annotate``) or a token with scope ``admin``.
* ``GET|POST metadata`` with ``objectId`` (or ``all``), ``internal_name`` or
  ``internal_name_encoded`` (the name without spaces): Fink's rows (``i:objectId``,
  ``d:internal_name``, ``d:internal_name_encoded``, ``d:comments``, ``d:username``) of an
  object, of the object of a name, or of every named object; a POST with ``objectId`` and
  ``internal_name`` (and ``comments``) gives a name, with a token.

Text is stored as typed and is never HTML: the JSON API returns it as a string and the
portal renders it as a text node.
"""
from __future__ import annotations

import re
import secrets
import time

from science.identifiers import OBJECT_ID
from store import Store, TableMissing

from . import auth
from .errors import ApiError
from .permits import check_write_rate  # noqa: F401  (the portal's writes, through api.portal_gateway)

MAX_TEXT = 2000
MAX_TAGS = 10
MAX_LIST = 1000
TAG = re.compile(r"^[a-z0-9][a-z0-9._+-]{0,39}$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+\-:/()#]{0,63}$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# -- validation ------------------------------------------------------------------------------
def check_object_id(value: str) -> str:
    if not OBJECT_ID.match(value or ""):
        raise ApiError(400, f"parameter 'objectId' = {str(value)[:40]!r} is invalid: expected a ZTF objectId "
                            f"such as ZTF23abjexnw")
    return value


def clean_text(text: str | None) -> str:
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) > MAX_TEXT:
        raise ApiError(400, f"parameter 'text' is longer than {MAX_TEXT} characters")
    if CONTROL.search(text):
        raise ApiError(400, "parameter 'text' holds control characters")
    return text


def clean_tags(tags) -> list[str]:
    tags = list(dict.fromkeys(str(t).strip().lower().lstrip("#") for t in (tags or []) if str(t).strip()))
    if len(tags) > MAX_TAGS:
        raise ApiError(400, f"parameter 'tags': at most {MAX_TAGS} tags")
    bad = [t for t in tags if not TAG.match(t)]
    if bad:
        raise ApiError(400, f"tag {bad[0][:40]!r} is invalid: 1 to 40 letters, digits, '.', '_', '+' or '-'")
    return tags


def clean_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    if not name:
        return None
    if not NAME.match(name):
        raise ApiError(400, f"parameter 'internal_name' = {name[:40]!r} is invalid: 1 to 64 letters, digits, "
                            f"spaces or . _ + - : / ( ) #, starting with a letter or digit")
    return name


def name_key(name: str) -> str:
    return name.lower()


# -- the store -------------------------------------------------------------------------------
def _jd(unix: float) -> float:
    return unix / 86400.0 + 2440587.5


def _record(key: str, cells: dict) -> dict:
    return {"id": key, "objectId": cells.get("a:objectId"), "author": cells.get("a:author"),
            "time": cells.get("a:time"), "text": cells.get("a:text", ""), "tags": cells.get("a:tags") or [],
            "internal_name": cells.get("a:internal_name")}


def object_exists(store: Store, object_id: str) -> bool:
    main = store.table("main")
    return any(True for _ in main.scan(row_prefix=main.keys.prefix(object_id), columns=["i:objectId"], limit=1))


def check_name_free(held: dict, name: str, object_id: str, author: str) -> None:
    """ApiError 409 unless ``author`` may give ``name`` to ``object_id``: names are compared
    without case, and a name held by someone designates one object and is credited to its
    first author (its author may give it again, e.g. in another case)."""
    if not held.get("n:objectId"):
        return
    if held["n:objectId"] != object_id:
        raise ApiError(409, f"the internal name {name!r} already designates {held['n:objectId']} "
                            f"(as {held.get('n:name')!r}; names are compared without case)")
    if held.get("n:author") != author:
        raise ApiError(409, f"the internal name {name!r} was already given to {object_id} by {held.get('n:author')} "
                            f"(as {held.get('n:name')!r}; names are compared without case)")


def annotate(store: Store, author: str, object_id: str, text: str = "", tags=(), internal_name: str | None = None) -> dict:
    """Store an annotation of ``object_id`` by ``author``; return it. ApiError 400/404/409."""
    check_object_id(object_id)
    text, tags, internal_name = clean_text(text), clean_tags(tags), clean_name(internal_name)
    if not (text or tags or internal_name):
        raise ApiError(400, "an annotation needs a text, tags or an internal name")
    if not object_exists(store, object_id):
        raise ApiError(404, f"no alert for objectId {object_id!r}: only stored objects can be annotated")
    names = auth.writable(store, "internal_name")
    if internal_name:
        check_name_free(names.row(names.keys.build(name_key(internal_name))), internal_name, object_id, author)
    now = time.time()
    when = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(now))
    ann = auth.writable(store, "annotations")
    jd, aid = _jd(now), secrets.token_hex(4)
    key = ann.keys.build(object_id, jd, aid)
    cells = {"a:objectId": object_id, "a:author": author, "a:time": when, "a:text": text, "a:tags": tags,
             "a:internal_name": internal_name}
    ann.put(key, cells)
    index = auth.writable(store, "annotation_tag")
    with index.batch() as b:
        for tag in tags:
            b.put(index.keys.build(tag, object_id, jd, aid), {"a:objectId": object_id, "a:author": author, "a:time": when})
    if internal_name:
        names.put(names.keys.build(name_key(internal_name)), {"n:name": internal_name, "n:objectId": object_id,
                                                              "n:annotation": key, "n:author": author, "n:time": when})
    return _record(key, cells)


def get_annotation(store: Store, key: str) -> dict | None:
    ann = store.table("annotations")
    try:
        ann.keys.parse(key)
    except ValueError:
        raise ApiError(400, f"parameter 'id' = {key[:60]!r} is not an annotation id") from None
    cells = ann.row(key)
    return _record(key, cells) if cells else None


def delete_annotation(store: Store, key: str) -> None:
    """Remove the annotation, its tag index rows and the name it gave (handed to an older
    annotation of the object that gave the same name, if there is one)."""
    ann = auth.writable(store, "annotations")
    record = get_annotation(store, key)
    if record is None:
        return
    parts = ann.keys.parse(key)
    index = auth.writable(store, "annotation_tag")
    with index.batch() as b:
        for tag in record["tags"]:
            b.delete(index.keys.build(tag, parts["objectId"], parts["time"], parts["id"]))
    ann.delete(key)
    if record["internal_name"]:
        names = auth.writable(store, "internal_name")
        nkey = names.keys.build(name_key(record["internal_name"]))
        if names.row(nkey).get("n:annotation") == key:
            heir = next((a for a in for_object(store, parts["objectId"])
                         if a["internal_name"] and name_key(a["internal_name"]) == name_key(record["internal_name"])), None)
            if heir is None:
                names.delete(nkey)
            else:
                names.put(nkey, {"n:name": heir["internal_name"], "n:annotation": heir["id"], "n:author": heir["author"],
                                 "n:time": heir["time"]})


def for_object(store: Store, object_id: str, n: int = MAX_LIST) -> list[dict]:
    """The annotations of ``object_id``, newest first."""
    try:
        ann = store.table("annotations")
        return [_record(k, c) for k, c in ann.scan(row_prefix=ann.keys.prefix(object_id), reverse=True, limit=n)]
    except TableMissing:
        return []


def with_tag(store: Store, tag: str, n: int = MAX_LIST) -> list[dict]:
    """The annotations tagged ``tag``, newest object first."""
    tag = tag.strip().lower().lstrip("#")
    if not TAG.match(tag):
        return []
    try:
        index, ann = store.table("annotation_tag"), store.table("annotations")
        keys = [ann.keys.build(p["objectId"], p["time"], p["id"]) for p in
                (index.keys.parse(k) for k, _ in index.scan(row_prefix=index.keys.prefix(tag), columns=["a:objectId"],
                                                            limit=n))]
        found = [_record(k, c) for k, c in ann.rows(keys)] if keys else []
    except TableMissing:
        return []
    return sorted(found, key=lambda a: a["time"] or "", reverse=True)


def objects_with_tag(store: Store, tag: str, n: int = MAX_LIST) -> list[str]:
    return list(dict.fromkeys(a["objectId"] for a in with_tag(store, tag, n)))


def object_of_name(store: Store, name: str) -> dict | None:
    """``{"name", "objectId", "author", "time", "annotation"}`` of an internal name, or None."""
    name = " ".join((name or "").split())
    if not name or len(name) > 64:
        return None
    try:
        names = store.table("internal_name")
        cells = names.row(names.keys.build(name_key(name)))
    except TableMissing:
        return None
    return {k.split(":", 1)[1]: v for k, v in cells.items()} if cells.get("n:objectId") else None


def encoded_name(name: str) -> str:
    """Fink's ``internal_name_encoded``: the name without its spaces (usable in a URL path)."""
    return "".join(name.split())


def _metadata_row(object_id: str, name: str, comments: str, username: str, when: str | None) -> dict:
    return {"i:objectId": object_id, "d:internal_name": name, "d:internal_name_encoded": encoded_name(name),
            "d:comments": comments, "d:username": username, "d:time": when}


def _names(store: Store) -> list[dict]:
    """Every row of the internal_name table (one per name), as ``{"name", "objectId", ...}``."""
    try:
        names = store.table("internal_name")
        return [{k.split(":", 1)[1]: v for k, v in cells.items()} for _, cells in names.scan()
                if cells.get("n:objectId")]
    except TableMissing:
        return []


def metadata_rows(store: Store, object_id: str | None = None, internal_name: str | None = None,
                  internal_name_encoded: str | None = None) -> list[dict]:
    """Fink's metadata rows (``i:objectId``, ``d:internal_name``, ``d:internal_name_encoded``,
    ``d:comments``, ``d:username``; and ``d:time``, when the name was given): of an object,
    of the object a name designates (names compared without case; the encoded name is the
    name without spaces), or of every named object (``object_id="all"``, as Fink)."""
    if internal_name is not None:
        found = object_of_name(store, internal_name)
        held = [found] if found else []
    elif internal_name_encoded is not None:
        wanted = encoded_name(internal_name_encoded).lower()
        held = [n for n in _names(store) if encoded_name(n["name"]).lower() == wanted]
    elif object_id == "all":
        held = sorted(_names(store), key=lambda n: (n["objectId"], n["name"].lower()))
    else:
        return [_metadata_row(a["objectId"], a["internal_name"], a["text"], a["author"], a["time"])
                for a in for_object(store, object_id) if a["internal_name"]]
    rows = []
    for found in held:
        annotation = (get_annotation(store, found["annotation"]) or {}) if found.get("annotation") else {}
        rows.append(_metadata_row(found["objectId"], found["name"], annotation.get("text", ""), found.get("author"),
                                  found.get("time")))
    return rows
