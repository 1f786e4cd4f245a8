"""The OpenAPI 3 spec, generated from the endpoint declarations, and a docs page.

``/api/v1/openapi.json`` is the machine-readable spec; ``/api`` a readable page with every
endpoint, its parameters and runnable example links, served without any CDN asset. Both list
exactly the rules :func:`api.routes.route` registered (``routes.DECLARED``), each from its
declaration: methods, parameters, formats, access (the token's security scheme) and status codes.
"""
from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from flask import Response, jsonify, request

from . import endpoints as E
from . import rubin_endpoints as R
from .params import READ_METHODS, Endpoint, Param
from .routes import api_rules, route

_SCHEMA = {
    "string": {"type": "string"}, "int": {"type": "integer"}, "float": {"type": "number"},
    "bool": {"type": "boolean"}, "list": {"type": "string", "description": "comma-separated"},
    "columns": {"type": "string", "description": "comma-separated family:qualifier names"},
    "date": {"type": "string", "description": "ISO date (UTC), Julian Date or MJD"},
    "ra": {"type": "string", "description": "degrees or sexagesimal hours"},
    "dec": {"type": "string", "description": "degrees or sexagesimal"},
    "json": {"description": "any JSON value"},
}
_MEDIA = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet",
          "votable": "application/x-votable+xml", "png": "image/png", "fits": "application/fits",
          "array": "application/json", "html": "text/html", "xml": "text/xml"}
TOKEN = {"type": "apiKey", "in": "header", "name": "Authorization",
         "description": "'token <token>': issued by `python -m api.tokens_cli token issue USER --scope annotate`"}
SESSION = {"type": "apiKey", "in": "cookie", "name": "nocturne_session",
           "description": "a signed-in portal session; its CSRF token in the header X-CSRF-Token"}
ACCESS_CODES = {"401": "No token, or an invalid or revoked one", "403": "The token lacks the scope"}
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
    op = {"summary": ep.summary, "operationId": f"{ep.name}_{method}", "responses": responses}
    if ep.description:
        op["description"] = ep.description
    in_path = set(re.findall(r"<(\w+)>", ep.name))  # a path's <part>, as OpenAPI's {part}
    if in_path:
        op["parameters"] = [{"name": p.name, "in": "path", "required": True, "description": p.description,
                             "schema": _param_schema(p)} for p in params if p.name in in_path]
        params = [p for p in params if p.name not in in_path]
    if method in ("get", "delete"):
        op["parameters"] = op.get("parameters", []) + [{"name": p.name, "in": "query", "required": p.required,
                             "description": p.description, "schema": _param_schema(p)} for p in params]
    else:
        op["requestBody"] = {"required": any(p.required for p in params), "content": {"application/json": {
            "schema": {"type": "object", "additionalProperties": True,
                       "required": [p.name for p in params if p.required],
                       "properties": {p.name: {**_param_schema(p), "description": p.description} for p in params}}}}}
    return op


def openapi_spec() -> dict:
    paths, schemes = {}, {"token": TOKEN}
    for d in api_rules():
        rubin = d.path.startswith(R.PREFIX)
        for method in (m.lower() for m in d.endpoint.methods):
            op = _declared_operation(d.endpoint, method)
            op["operationId"] = ("lsst_" if rubin else "") + re.sub(r"[^A-Za-z0-9_]", "", d.name.strip('/').replace('/', '_')) + f"_{method}"
            if rubin:
                op["tags"] = ["Rubin/LSST"]
            paths.setdefault(re.sub(r"<(\w+)>", r"{\1}", d.path), {})[method] = op
        if d.endpoint.access.via == "session":
            schemes["session"] = SESSION
    return {"openapi": "3.0.3",
            "info": {"title": "Nocturne API", "version": "1",
                     "description": "Alerts of astronomical surveys. Compatible with Fink's REST API: "
                                    "same endpoints, parameters and column names. ZTF under /api/v1; "
                                    "Rubin/LSST under /lsst/api/v1 (Fink's LSST API, base URL http://HOST/lsst)."},
            "paths": paths, "components": {"schemas": {"Error": ERROR}, "securitySchemes": schemes}}


def _access_text(ep: Endpoint) -> str:
    access = ep.access
    if access.via == "anyone":
        return ""
    what = "a token: header `Authorization: token <token>`" if access.via == "token" else \
        "a signed-in portal session (its CSRF token in the header X-CSRF-Token)"
    who = f"{access.when[0].upper()}{access.when[1:]} needs" if access.when else "needs"
    return f"{who} {what} with scope {' or '.join(access.scopes)}"


def _declared_operation(ep: Endpoint, method: str) -> dict:
    """An operation as declared: the common answers, the declaration's own status codes
    (``responses``), and for an access with a token or session the 401/403 and the security."""
    op = _operation(ep, method)
    if "requestBody" in op and ep.strict:  # unknown fields are refused (api.params.parse)
        op["requestBody"]["content"]["application/json"]["schema"]["additionalProperties"] = False
    codes = dict(ep.responses)
    if ep.access.via != "anyone":
        codes = {**codes, **{k: v for k, v in ACCESS_CODES.items() if k not in codes}}
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for code, text in codes.items():
        op["responses"][code] = ({"description": text, "content": {_MEDIA[f]: {} for f in ep.formats}}
                                 if code[0] == "2" else {"description": text, "content": error})
    if "401" in codes:
        op["responses"]["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}, "required": True}}
        op["responses"]["403"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    if any(code[0] == "2" for code in codes) and "200" not in codes:
        del op["responses"]["200"]
    if ep.access.via != "anyone":
        scheme = [{"token" if ep.access.via == "token" else "session": []}]
        op["security"] = [{}, *scheme] if ep.access.when else scheme
        op["description"] = " ".join(t for t in (ep.description, _access_text(ep)) if t)
    return op


@route(E.OPENAPI)
def openapi_json(v):
    return jsonify(openapi_spec())


def _example(ep: Endpoint, prefix: str = "/api/v1") -> str:
    args = {p.name: p.example for p in ep.params if p.example is not None and (p.required or p.name != "columns")}
    return f"{prefix}/{ep.name}" + (f"?{urlencode(args)}" if args else "")


def _section(parts: list, ep: Endpoint, base: str, prefix: str = "/api/v1") -> None:
    """The docs page's section of ``ep``: what it does, who may call it, its parameters, an example."""
    methods = "" if tuple(ep.methods) == READ_METHODS else " ".join(ep.methods) + " "
    anchor = (("lsst-" if prefix != "/api/v1" else "") + ep.name.replace("/", "-")
              + ("" if not methods else "-" + "-".join(ep.methods).lower()))
    access = _access_text(ep).replace("`", "")
    about = [f"{ep.summary}.", ep.description, f"{access[:1].upper()}{access[1:]}." if access else "",
             f"Formats: {', '.join(ep.formats)}."]
    parts.append(f"<h2 id='{html.escape(anchor)}'>{methods}{prefix}/{ep.name}</h2>"
                 f"<p>{html.escape(' '.join(t for t in about if t))}</p>"
                 f"<table><tr><th>parameter</th><th>kind</th><th>default</th><th>description</th></tr>")
    for p in ep.params:
        req = " <b>(required)</b>" if p.required else ""
        parts.append(f"<tr><td><code>{p.name}</code>{req}</td><td>{p.kind}</td>"
                     f"<td>{html.escape('' if p.default is None else str(p.default))}</td>"
                     f"<td>{html.escape(p.description)}</td></tr>")
    parts.append("</table>")
    if "GET" in ep.methods and ep.access.via == "anyone" and not ep.strict:
        example = _example(ep, prefix)
        parts.append(f"<p>Try it: <a href='{html.escape(example)}'>{html.escape(example)}</a></p>")
        parts.append(f"<pre>curl '{html.escape(base + example)}'</pre>")


@route(E.DOCS, "/api/")
def docs_page(v):
    base = request.host_url.rstrip("/")
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>Nocturne API</title>",
             "<meta name='viewport' content='width=device-width, initial-scale=1'>",
             "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
             "color:#1b2430}code,pre{background:#f3f5f8;padding:.1rem .3rem;border-radius:3px}"
             "pre{padding:.6rem;overflow:auto}table{border-collapse:collapse;width:100%}"
             "td,th{border-bottom:1px solid #dde3ea;padding:.3rem;text-align:left;vertical-align:top}"
             "h2{margin-top:2.2rem;border-top:1px solid #dde3ea;padding-top:1rem}</style></head><body>",
             "<h1>Nocturne API</h1><p>Every read endpoint takes GET with a query string or POST with a JSON body, "
             "and <code>output-format</code> (json, csv, parquet, votable). As in Fink's API, a parameter an "
             "endpoint does not know is ignored: the answer is 200 and its <code>Warning</code> header names "
             "what was ignored (with the closest known name). <code>columns=*</code> means every column. "
             "Errors are JSON: <code>{\"status\": \"error\", \"message\": \"...\", \"text\": \"...\"}</code> "
             "(<code>text</code> is where Fink's clients read the sentence). Machine-readable spec: "
             "<a href='/api/v1/openapi.json'>/api/v1/openapi.json</a>.</p>"
             "<p>Annotations and internal names: reads are open; writes need "
             "<code>Authorization: token &lt;token&gt;</code> (401 without a valid token, 403 without the "
             "scope, 429 past the write limit) and refuse a parameter they do not know (400).</p>"]
    shown = list(dict.fromkeys(d.endpoint for d in api_rules() if not d.path.startswith(R.PREFIX)))
    shown.sort(key=lambda ep: E.ALL.index(ep) if ep in E.ALL else len(E.ALL))  # once each, aliases aside
    for ep in shown:
        _section(parts, ep, base)
    parts.append("<h1 id='lsst'>Rubin/LSST</h1><p>Fink's LSST API, on the base URL <code>"
                 f"{html.escape(base)}/lsst</code> (a script written for https://api.lsst.fink-portal.org works by "
                 "changing its base URL): the same routes, parameters and columns (<code>r:</code> Rubin's fields, "
                 "<code>f:</code> Fink's added values). Fluxes are in nJy, times in MJD TAI.</p>")
    for ep in R.ALL:
        _section(parts, ep, base, R.PREFIX)
    parts.append("</body></html>")
    return Response("".join(parts), mimetype="text/html")
