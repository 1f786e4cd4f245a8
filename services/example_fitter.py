"""A tiny external analysis service for Nocturne: fits a straight line (or a parabola) to
each band's magnitudes against time and sends back the fit and an SVG plot.

Run: ``python -m services.example_fitter --port 8765``, then register it (see README,
"Writing an analysis service"). Standard library only. Paths:
``/analyse`` answers 202 at once and calls back from a thread; ``/silent`` accepts and never
calls back (for tests of the timeout); ``/hang`` never answers at all.
"""
from __future__ import annotations

import argparse
import base64
import json
import math
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def fit(points: list[dict], degree: int) -> dict:
    """Least squares of mag = a + b t (+ c t²), t in days from the first point, per band."""
    out = {}
    for band in sorted({p["band"] for p in points}):
        pts = [(p["jd"], p["magpsf"]) for p in points if p["band"] == band and p.get("magpsf") is not None]
        if len(pts) <= degree:
            continue
        t0 = pts[0][0]
        rows = [[(t - t0) ** k for k in range(degree + 1)] for t, _ in pts]
        y = [m for _, m in pts]
        n = degree + 1  # normal equations, solved by Gaussian elimination
        a = [[sum(r[i] * r[j] for r in rows) for j in range(n)] + [sum(r[i] * v for r, v in zip(rows, y))]
             for i in range(n)]
        for i in range(n):
            pivot = max(range(i, n), key=lambda k: abs(a[k][i]))
            a[i], a[pivot] = a[pivot], a[i]
            if abs(a[i][i]) < 1e-12:
                break
            for k in range(n):
                if k != i:
                    f = a[k][i] / a[i][i]
                    a[k] = [x - f * z for x, z in zip(a[k], a[i])]
        else:
            coef = [a[i][n] / a[i][i] for i in range(n)]
            resid = [v - sum(c * x for c, x in zip(coef, r)) for r, v in zip(rows, y)]
            out[band] = {"n": len(pts), "t0_jd": t0, "coefficients": coef,
                         "rms": (sum(e * e for e in resid) / len(resid)) ** 0.5}
    return out


def svg(points: list[dict], fits: dict) -> str:
    jds = [p["jd"] for p in points] or [0, 1]
    mags = [p["magpsf"] for p in points if p.get("magpsf") is not None] or [0, 1]
    x0, x1, y0, y1 = min(jds), max(jds) + 1e-6, min(mags), max(mags) + 1e-6
    sx = lambda t: 20 + 360 * (t - x0) / (x1 - x0)  # noqa: E731
    sy = lambda m: 20 + 160 * (m - y0) / (y1 - y0)  # noqa: E731  (brighter up)
    colour = {"g": "#2a9d3a", "r": "#d62728", "i": "#8c564b"}
    dots = "".join(f'<circle cx="{sx(p["jd"]):.1f}" cy="{sy(p["magpsf"]):.1f}" r="3" fill="{colour.get(p["band"], "#333")}"/>'
                   for p in points if p.get("magpsf") is not None)
    lines = ""
    for band, f in fits.items():
        xs = [x0 + (x1 - x0) * k / 20 for k in range(21)]
        ys = [sum(c * (t - f["t0_jd"]) ** i for i, c in enumerate(f["coefficients"])) for t in xs]
        lines += ('<polyline fill="none" stroke="' + colour.get(band, "#333") + '" points="'
                  + " ".join(f"{sx(t):.1f},{sy(m):.1f}" for t, m in zip(xs, ys)) + '"/>')
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200">{dots}{lines}</svg>'


def magnitudes(points: list[dict]) -> list[dict]:
    """ZTF detections carry ``magpsf``; Rubin's diaSources a flux in nJy (``psfFlux``): its AB
    magnitude is 31.4 - 2.5 log10(flux), for a positive flux."""
    return [p if "magpsf" in p else {**p, "magpsf": 31.4 - 2.5 * math.log10(p["psfFlux"])
                                     if (p.get("psfFlux") or 0) > 0 else None} for p in points]


def analyse(request: dict) -> dict:
    points = magnitudes(request["data"]["photometry"]["detections"])
    degree = 2 if request["parameters"].get("model") == "quadratic" else 1
    fits = fit(points, degree)
    return {"status": "success", "message": f"fitted {len(fits)} band(s)", "results": {"model": "quadratic" if degree == 2
            else "linear", "bands": fits},
            "plots": [{"name": "light curve and fit", "format": "svg",
                       "data": base64.b64encode(svg(points, fits).encode()).decode()}]}


def call_back(request: dict) -> None:
    try:
        body = analyse(request)
    except Exception as exc:  # tell Nocturne rather than stay silent
        body = {"status": "error", "message": f"fit failed: {exc}"}
    req = urllib.request.Request(request["callback_url"], data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    urllib.request.urlopen(req, timeout=30).read()


class Handler(BaseHTTPRequestHandler):
    token = ""  # the header token Nocturne must send (empty: none checked)

    def do_POST(self):
        if self.token and self.headers.get("Authorization") != self.token:
            return self.answer(401, {"error": "bad token"})
        request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
        if self.path == "/hang":
            time.sleep(3600)
        if self.path == "/analyse" and request.get("callback_url"):
            threading.Thread(target=call_back, args=(request,), daemon=True).start()
        self.server.received.append(request)
        self.answer(202, {"accepted": request["analysis_id"]})

    def answer(self, code: int, body: dict):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve(port: int = 0, token: str = "") -> ThreadingHTTPServer:
    """Start the service in a thread (port 0: any free port); ``server.received`` lists the requests."""
    handler = type("TokenHandler", (Handler,), {"token": token})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", default="", help="the Authorization header value to require")
    args = parser.parse_args()
    serve(args.port, args.token)
    print(f"example fitter on http://127.0.0.1:{args.port}/analyse")
    threading.Event().wait()
