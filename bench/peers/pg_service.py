"""The ALeRCE-like HTTP service over PostgreSQL + q3c, for the full-path comparison.

The same Flask app shape, parameter parsing (``api.params`` with ``api.endpoints``) and
rendering (``api.render.respond``, ``science.cutout_image.to_png``) as Nocturne's API,
with SQL through psycopg (one connection per gunicorn worker) instead of the store:

    NOCTURNE_PG_DSN="host=127.0.0.1 port=5432 user=postgres dbname=x" \
        gunicorn -w 4 bench.peers.pg_service:app
"""
from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
from flask import Flask, Response, jsonify, request

from api import endpoints as E
from api.errors import ApiError, error_response
from api.params import parse
from api.render import respond

from .pg import PgQueries

app = Flask(__name__)
_queries: PgQueries | None = None


def queries() -> PgQueries:
    global _queries
    if _queries is None:
        _queries = PgQueries(os.environ["NOCTURNE_PG_DSN"])
    return _queries


def params() -> dict:
    if request.method == "POST":
        return request.get_json(force=True) or {}
    return {k: ",".join(v) for k, v in request.args.to_dict(flat=False).items()}


@app.errorhandler(ApiError)
def api_error(exc: ApiError):
    return error_response(exc.status, exc.message)


@app.get("/api/v1/health")
def health():
    queries().conn.execute("SELECT 1")
    return jsonify(status="ok", backend="postgresql+q3c")


@app.route("/api/v1/objects", methods=["GET", "POST"])
def objects():
    v = parse(E.OBJECTS, params())
    frames = [queries().objects(oid) for oid in dict.fromkeys(v["objectId"])]
    df = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if df.empty:
        raise ApiError(404, f"no alert for objectId {v['objectId'][0]!r}")
    return respond(df if v["columns"] is None else df[[c for c in v["columns"] if c in df]], v["output-format"])


@app.route("/api/v1/conesearch", methods=["GET", "POST"])
def conesearch():
    v = parse(E.CONESEARCH, params())
    return respond(queries().conesearch(v["ra"], v["dec"], v["radius"], v["n"]), v["output-format"])


@app.route("/api/v1/latests", methods=["GET", "POST"])
def latests():
    v = parse(E.LATESTS, params())
    return respond(queries().latests(v["class"], v["n"], v["startdate"]), v["output-format"])


@app.route("/api/v1/explorer", methods=["GET", "POST"])
def explorer():
    v = parse(E.EXPLORER, params())
    if v.get("startdate") is None:
        raise ApiError(400, "this benchmark service answers the time-window group only")
    start = v["startdate"]
    return respond(queries().time_window(start, start + v["window"] / 1440, v["n"]), v["output-format"])


@app.route("/api/v1/cutouts", methods=["GET", "POST"])
def cutouts():
    v = parse(E.CUTOUTS, params())
    png = queries().cutout_png(v["objectId"], v["candid"], v["stretch"], v["colormap"], v["pmin"], v["pmax"],
                               v["convolution_kernel"])
    if png is None:
        raise ApiError(404, f"no cutout for alert {v['candid']} of {v['objectId']!r}")
    return Response(png, mimetype="image/png", headers={"Cache-Control": "public, max-age=86400"})


@app.route("/api/v1/xmatch", methods=["GET", "POST"])
def xmatch():
    v = parse(E.XMATCH, params())
    try:
        catalog = pd.read_csv(io.StringIO(v["catalog"]))
    except (ValueError, pd.errors.ParserError) as exc:
        raise ApiError(400, f"parameter 'catalog' is not CSV text with a header line: {exc}") from None
    names = v["header"][:3]
    sources = catalog[names].copy()
    sources.columns = ["ra", "dec", "id"]
    for col in ("ra", "dec"):
        sources[col] = pd.to_numeric(sources[col], errors="coerce")
    if not np.isfinite(sources[["ra", "dec"]].to_numpy()).all():
        raise ApiError(400, "catalog RA/Dec must be numbers in degrees")
    return respond(queries().xmatch(sources, v["radius"], v["columns"]), v["output-format"])
