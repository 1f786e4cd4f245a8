"""The OpenAPI 3 spec, generated from the endpoint declarations, and a docs page.

``/api/v1/openapi.json`` is the machine-readable spec; ``/api`` a readable page with every
endpoint, its parameters and runnable example links, served without any CDN asset.
"""
from __future__ import annotations

import html
from urllib.parse import urlencode

from flask import Blueprint, Response, jsonify, request

from . import endpoints as E
from . import rubin_endpoints as R
from .annotations import OPERATIONS
from .params import Endpoint, Param

docs_bp = Blueprint("api_docs", __name__)

_SCHEMA = {
    "string": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
    "bool": {"type": "boolean"}, "list": {"type": "string", "description": "comma-separated"},
    "columns": {"type": "string", "description": "comma-separated family:qualifier names"},
    "date": {"type": "string", "description": "ISO date (UTC), Julian Date or MJD"},
    "ra": {"type": "string", "description": "degrees or sexagesimal hours"},
    "dec": {"type": "string", "description": "degrees or sexagesimal"},
}
_MEDIA = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet",
          "votable": "application/x-votable+xml", "png": "image/png", "fits": "application/fits",
          "array": "application/json"}
TOKEN = {"type": "apiKey", "in": "header", "name": "Authorization",
         "description": "'token <token>': issued by `python -m api.tokens_cli token issue USER --scope annotate`"}
ERROR = {"type": "object", "required": ["status", "message", "text"],
         "properties": {"status": {"type": "string", "enum": ["error"]}, "message": {"type": "string"},
                        "text": {"type": "string", "description": "the same as message, where Fink's clients read it"}}}
WARNING = {"description": "What the request asked that was ignored or changed (unknown parameters, a value "
                          "above its maximum, an empty date range), as RFC 7234 warnings: 299 - \"...\"",
           "schema": {"type": "string"}}


def _param_schema(p: Param) -> dict:
    schema = dict(_SCHEMA.get(p.kind, {"type": "string"}))
    if p.kind == "choice":
        schema = {"type": "string", "enum": list(p.choices)}
    if p.minimum is not None and p.kind in ("int", "float"):
        schema["minimum"] = p.minimum
    if p.maximum is not None and p.kind in ("int", "float") and not p.clamp:
        schema["maximum"] = p.maximum
    if p.default is not None:
        schema["default"] = p.default
    if p.kind == "string":
        schema["maxLength"] = p.max_length
    return schema


def _operation(ep: Endpoint, method: str) -> dict:
    params = list(ep.params) + [Param("output-format", "choice", "Output format", ep.formats[0], choices=ep.formats)]
    responses = {
        "200": {"description": "OK", "content": {_MEDIA[f]: {} for f in ep.formats},
                "headers": {"Warning": WARNING}},
        "400": {"description": "A parameter is missing or invalid",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "413": {"description": "The request is too large",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "422": {"description": "The query would exceed its time budget, or the data cannot be fitted",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "429": {"description": "Too many requests, or too many expensive ones at once, from this client; see Retry-After",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
        "503": {"description": "The store is unavailable, or the server runs all the expensive requests it can; see Retry-After",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    }
    if ep.name == "cutouts" or ep.name.startswith("fit/"):
        responses["404"] = {"description": "No such object or alert" + (
                                ", or the cutout is absent or damaged in the store" if ep.name == "cutouts" else ""),
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    op = {"summary": ep.summary, "operationId": f"{ep.name}_{method}", "responses": responses}
    if ep.description:
        op["description"] = ep.description
    if method in ("get", "delete"):
        op["parameters"] = [{"name": p.name, "in": "query", "required": p.required,
                             "description": p.description, "schema": _param_schema(p)} for p in params]
    else:
        op["requestBody"] = {"required": any(p.required for p in params), "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": True,
                       "required": [p.name for p in params if p.required],
                       "properties": {p.name: {**_param_schema(p), "description": p.description} for p in params}}}}}
    return op


def openapi_spec() -> dict:
    paths = {}
    for ep in E.ALL:
        names = [ep.name] + {"skymap": ["bayestar"]}.get(ep.name, [])
        for name in names:
            paths[f"/api/v1/{name}"] = {"get": _operation(ep, "get"), "post": _operation(ep, "post")}
            if name != ep.name:
                for method in ("get", "post"):
                    paths[f"/api/v1/{name}"][method]["operationId"] = f"{name}_{method}"
    for ep in R.ALL:
        paths[f"{R.PREFIX}/{ep.name}"] = {method: {**_operation(ep, method), "operationId": f"lsst_{ep.name}_{method}",
                                                   "tags": ["Rubin/LSST"]}
                                          for method in ("get", "post")}
    for name, method, ep, scopes, codes in OPERATIONS:
        paths.setdefault(f"/api/v1/{name}", {})[method] = _write_operation(ep, method, scopes, codes)
    return {"openapi": "3.0.3",
            "info": {"title": "Nocturne API", "version": "1",
                     "description": "Alerts of astronomical surveys. Compatible with Fink's REST API: "
                                    "same endpoints, parameters and column names. ZTF under /api/v1; "
                                    "Rubin/LSST under /lsst/api/v1 (Fink's LSST API, base URL http://HOST/lsst)."},
            "paths": paths, "components": {"schemas": {"Error": ERROR}, "securitySchemes": {"token": TOKEN}}}


def _write_operation(ep: Endpoint, method: str, scopes: tuple, codes: dict) -> dict:
    """An operation of the annotations API: its own status codes, and the token it needs."""
    op = _operation(ep, method)
    if "requestBody" in op:  # the annotations API refuses unknown fields (api.annotations: strict parsing)
        op["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"] = False
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for code, text in codes.items():
        op["responses"][code] = ({"description": text, "content": {"application/json": {}}} if code[0] == "2"
                                 else {"description": text, "content": error})
    if "401" in codes:
        op["responses"]["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
        op["responses"]["403"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if "200" not in codes:
        del op["responses"]["200"]
    op["operationId"] = f"{ep.name}_{method}"
    if scopes:
        op["security"] = [{}, {"token": []}] if scopes == ("optional",) else [{"token": []}]
        need = "writes need" if scopes == ("optional",) else "needs"
        op["description"] = (f"{need} a token: header `Authorization: token <token>`"
                             + (f" with scope {' or '.join(scopes)}" if scopes != ("optional",) else ""))
    return op


@docs_bp.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(openapi_spec())


def _example(ep: Endpoint, prefix: str = "/api/v1") -> str:
    args = {p.name: p.example for p in ep.params if p.example is not None and (p.required or p.name != "columns")}
    return f"{prefix}/{ep.name}" + (f"?{urlencode(args)}" if args else "")


def _section(parts: list, ep: Endpoint, base: str, prefix: str = "/api/v1") -> None:
    example = _example(ep, prefix)
    anchor = ("lsst-" if prefix != "/api/v1" else "") + ep.name.replace("/", "-")
    parts.append(f"<h2 id='{anchor}'>{prefix}/{ep.name}</h2><p>{html.escape(ep.summary)}. "
                 f"{html.escape(ep.description)} Formats: {', '.join(ep.formats)}.</p><table><tr><th>parameter</th>"
                 f"<th>kind</th><th>default</th><th>description</th></tr>")
    for p in ep.params:
        req = " <b>(required)</b>" if p.required else ""
        parts.append(f"<tr><td><code>{p.name}</code>{req}</td><td>{p.kind}</td>"
                     f"<td>{html.escape('' if p.default is None else str(p.default))}</td>"
                     f"<td>{html.escape(p.description)}</td></tr>")
    parts.append("</table>")
    parts.append(f"<p>Try it: <a href='{html.escape(example)}'>{html.escape(example)}</a></p>")
    parts.append(f"<pre>curl '{html.escape(base + example)}'</pre>")


@docs_bp.get("/api")
@docs_bp.get("/api/")
@docs_bp.get("/api/v1/docs")
def docs_page():
    base = request.host_url.rstrip("/")
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Nocturne API</title>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
             "color:#1b2430}code,pre{background:#f3f5f8;padding:.1rem .3rem;border-radius:3px}"
             "pre{padding:.6rem;overflow:auto}table{border-collapse:collapse;width:100%}"
             "td,th{border-bottom:1px solid #dde3ea;padding:.3rem;text-align:left;vertical-align:top}"
             "h2{margin-top:2.2rem;border-top:1px solid #dde3ea;padding-top:1rem}</style></head><body>",
             "<h1>Nocturne API</h1><p>Every endpoint takes GET with a query string or POST with a JSON body, "
             "and <code>output-format</code> (json, csv, parquet, votable). As in Fink's API, a parameter an "
             "endpoint does not know is ignored: the answer is 200 and its <code>Warning</code> header names "
             "what was ignored (with the closest known name). <code>columns=*</code> means every column. "
             "Errors are JSON: <code>{\"status\": \"error\", \"message\": \"...\", \"text\": \"...\"}</code> "
             "(<code>text</code> is where Fink's clients read the sentence). Machine-readable spec: "
             "<a href='/api/v1/openapi.json'>/api/v1/openapi.json</a>.</p>"]
    for ep in E.ALL:
        _section(parts, ep, base)
    parts.append("<h1 id='lsst'>Rubin/LSST</h1><p>Fink's LSST API, on the base URL <code>"
                 f"{html.escape(base)}/lsst</code> (a script written for https://api.lsst.fink-portal.org works by "
                 "changing its base URL): the same routes, parameters and columns (<code>r:</code> Rubin's fields, "
                 "<code>f:</code> Fink's added values). Fluxes are in nJy, times in MJD TAI.</p>")
    for ep in R.ALL:
        _section(parts, ep, base, R.PREFIX)
    parts.append("<h2 id='annotations'>Annotations and internal names</h2><p>Reads are open; writes need "
                 "<code>Authorization: token &lt;token&gt;</code> (401 without a valid token, 403 without the "
                 "scope).</p><table><tr><th>call</th><th>what</th><th>parameters</th></tr>")
    for name, method, ep, _, _ in OPERATIONS:
        names = ", ".join(p.name for p in ep.params)
        parts.append(f"<tr><td><code>{method.upper()} /api/v1/{name}</code></td><td>{html.escape(ep.summary)}</td>"
                     f"<td>{html.escape(names)}</td></tr>")
    parts.append("</table></body></html>")
    return Response("".join(parts), mimetype="text/html")
