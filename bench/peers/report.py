"""The peers section of docs/benchmarks.md, from one run's results (``bench_peers.py``
saves them in ``bench/out/peers-run.json``; ``--report-from`` rewrites the section from
that file without measuring again)."""
from __future__ import annotations

import re

from bench.bench_api import FINK_MS

LABELS = {"embedded": "Nocturne embedded", "hbase": "Nocturne HBase", "pg": "PostgreSQL + q3c"}
GROWTH_QUERIES = ("objects, 20-alert object", "objects, 1,500-alert object", "cone 5″ on an object")


def _ms(cell: dict | None) -> str:
    if not cell:
        return "—"
    if cell.get("p50") is None:
        return "failed"
    return f"{cell['p50']:,.1f} / {cell['p95']:,.1f}"


def _ratio(cell: dict | None, base: dict | None) -> str:
    if not cell or not base or cell.get("p50") is None or base.get("p50") is None or base["p50"] <= 0:
        return "—"
    r = cell["p50"] / base["p50"]
    return f"{r:,.1f}×" if r >= 1 else f"{r:.2f}×"


def _rows(cells: dict, backends) -> str:
    return " / ".join("—" if not cells.get(b) or cells[b].get("rows") is None else f"{cells[b]['rows']:,}"
                      for b in backends)


def layer_table(result: dict, layer: str, backends: list[str]) -> list[str]:
    head = ["query", "rows (" + " / ".join(LABELS[b].replace("Nocturne ", "") for b in backends) + ")"]
    head += [f"{LABELS[b]} p50 / p95 ms" for b in backends]
    head += ["PG ÷ embedded"] + (["HBase ÷ embedded"] if "hbase" in backends else [])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, cells in result["layers"][layer].items():
        row = [name, _rows(cells, backends)] + [_ms(cells.get(b)) for b in backends]
        row += [_ratio(cells.get("pg"), cells.get("embedded"))]
        if "hbase" in backends:
            row += [_ratio(cells.get("hbase"), cells.get("embedded"))]
        lines.append("| " + " | ".join(row) + " |")
    return lines


def report(results: dict, ingest: list[dict], main_size: int, backends: list[str], versions: dict,
           date: str, machine: str) -> str:
    main = results[main_size]
    n = main["alerts"]
    wins = {b: 0 for b in backends if b != "embedded"}
    total = {b: 0 for b in wins}
    for layer in ("query", "http"):
        for cells in main["layers"][layer].values():
            for b in wins:
                if cells.get(b, {}).get("p50") is not None and cells.get("embedded", {}).get("p50") is not None:
                    total[b] += 1
                    wins[b] += cells["embedded"]["p50"] < cells[b]["p50"]
    out = [
        "## Peers: Nocturne vs HBase with index tables (Fink's design) vs PostgreSQL + q3c (ALeRCE's design) "
        "(`bench/bench_peers.py`)", "",
        f"Run {date} on {machine}. One run, same data, same machine: simulated stores at about 10,000 "
        f"alerts/deg² around (150°, +30°) (`bench_api.build_store`), main size N = {n:,} alerts"
        + ("; also " + ", ".join(f"{results[s]['alerts']:,}" for s in sorted(results) if s != main_size)
           + " for the plot" if len(results) > 1 else "") + ".",
        "Backends: " + ", ".join(LABELS[b] + (f" ({versions[b]})" if versions.get(b) else "") for b in backends) + ".",
        "Figures are p50 / p95 in ms over warm repeats from one client (xmatch: fewer repeats). "
        "Ratios are peer p50 ÷ Nocturne-embedded p50: above 1× Nocturne is faster.", "",
        f"Nocturne embedded was faster at p50 in " + ", ".join(f"{wins[b]} of {total[b]} figures against {LABELS[b]}"
                                                               for b in wins) + f" (N = {n:,}).", "",
    ]
    out += targets(results, main_size, backends)
    for size in sorted(results, key=lambda s: (s != main_size, s)):
        r = results[size]
        for layer, title in (("query", "Query layer alone, in-process: `api.queries` on the store vs SQL through "
                                        "psycopg, both answering the same DataFrame"),
                             ("http", "Full HTTP path: gunicorn, 4 workers, keep-alive client; Nocturne's API vs "
                                      "the same Flask parsing and rendering over PostgreSQL")):
            out += [f"### {title} — N = {r['alerts']:,}", ""] + layer_table(r, layer, backends) + [""]
    out += ["### Ingest throughput (one simulated night into an empty store; alerts/s)", "",
            "| input | alerts | " + " | ".join(LABELS[b] for b in backends) + " |",
            "|" + "---|" * (2 + len(backends))]
    for row in ingest:
        out.append(f"| {row['input']} | {row['alerts']:,} | "
                   + " | ".join(f"{row[b]:,.0f}" if row.get(b) else "—" for b in backends) + " |")
    out += ["", "### Bytes on disk per alert", "",
            "| N alerts | " + " | ".join(LABELS[b] for b in backends) + " | load of the peer copy (s) |",
            "|" + "---|" * (2 + len(backends))]
    for size in sorted(results):
        r = results[size]
        load = ", ".join(f"{LABELS[b]} {s:,.0f}" for b, s in r["load_s"].items())
        out.append(f"| {r['alerts']:,} | " + " | ".join(f"{r['bytes'][b]:,.0f}" if b in r["bytes"] else "—"
                                                      for b in backends) + f" | {load} |")
    out += ["", f"![p50 latency against store size](benchmarks_latency.png)", "",
            "How each side is set up:",
            "- **Nocturne embedded**: the store as `bench_api.build_store` ingested it (SQLite file; bytes = the "
            "file with its WAL). **Nocturne HBase**: the local standalone HBase 2.6 (`hbase_schema/local`), "
            "every table copied from the embedded store through the store API under a fresh prefix; bytes = the "
            "tables' HFiles after a flush (GZ, as `store/hbase.py` creates them); started (unless one runs "
            "already) once the embedded store's and PostgreSQL's figures are taken, so that no JVM runs beside "
            "them.",
            "- **PostgreSQL + q3c** (`bench/peers/pg.py`): `detections` (every candidate field and added value "
            "as a typed column, PK (candid, objectid), B-trees on (objectid, jd), CLUSTERed on it, on (jd) and on "
            "(classification, jd)), "
            "`objects` (mean position, first/last MJD, ndet, class of the latest alert; q3c index on "
            "(meanra, meandec), CLUSTERed on it; B-tree on (class, lastmjd)), `non_detections`, `cutouts` "
            "(bytea); loaded with COPY, VACUUM ANALYZE. Private cluster: shared_buffers 1 GB, work_mem 64 MB, "
            "random_page_cost 1.1, JIT off. Bytes = sum of pg_total_relation_size (tables, TOAST, indexes).",
            "- Queries on PostgreSQL, as ALeRCE's API does them: objects = detections by objectid ORDER BY jd; "
            "cone = q3c_radial_query on objects, nearest first, then the latest detection of each (LATERAL); "
            "latests = detections of the class ORDER BY jd DESC LIMIT n on a B-tree (classification, jd) (the "
            "same answer as Nocturne's; ALeRCE's own listing, objects by class ORDER BY lastmjd, is "
            "`PgQueries.latest_objects`); time "
            "window = detections WHERE jd in [start, stop) ORDER BY jd LIMIT n; cutout = the bytea, decoded and "
            "rendered to PNG by the same code; xmatch = the sources COPYed into a temporary table, one SQL with "
            "q3c_join to objects and the latest detection of each match. Every answer carries the same columns "
            "(all i: and d: columns plus the v: ones), so rendering costs the same.",
            "- Semantics differ where the designs do: PostgreSQL cones and xmatch test the object's mean "
            "position (ALeRCE), Nocturne each alert's position. Row counts are shown so that like is compared "
            "with like. Query parameters are `bench_api.pick_queries`', except that the 5″ cone is centred on a "
            "stored object and the 10-minute window starts a minute before the first exposure, so both return "
            "rows.",
            "- Ingest, timed from outside the process (start-up included): `python -m ingest night` (2 workers) "
            "into an empty store for Nocturne; for PostgreSQL (`python -m bench.peers.pg ingest`) the same reader, validation and row builder in 2 worker processes, COPY into staging tables, INSERT … "
            "ON CONFLICT DO NOTHING into detections / non_detections / cutouts and an upsert of the objects "
            "touched, with every index in place, one transaction per unit."]
    return "\n".join(out)


def _p50(cell: dict | None) -> float | None:
    return cell.get("p50") if cell else None


def fink_ms(name: str) -> float | None:
    """Fink's published figure for a query kind (the low end of a range), in ms."""
    text = FINK_MS.get(name) or FINK_MS.get(name.replace(" on an object", ""))
    if not text:
        return None
    m = re.match(r"~?([\d,]+)", text)
    return float(m.group(1).replace(",", "")) if m else None


def targets(results: dict, main_size: int, backends: list[str]) -> list[str]:
    """The issue's three targets, each figure with its verdict."""
    main = results[main_size]
    n = main["alerts"]
    out = [f"### Targets at N = {n:,}", ""]
    if "pg" in backends:
        out += ["**At least as fast as PostgreSQL + q3c on every query** (PG p50 ÷ embedded p50 ≥ 1):", "",
                "| query | query layer | HTTP |", "|---|---|---|"]
        for name in main["layers"]["http"]:
            marks = []
            for layer in ("query", "http"):
                cells = main["layers"][layer].get(name, {})
                e, pg = _p50(cells.get("embedded")), _p50(cells.get("pg"))
                marks.append("—" if e is None or pg is None else f"{pg / e:,.2f}× {'✓' if pg >= e else '✗'}")
            out.append(f"| {name} | " + " | ".join(marks) + " |")
        out.append("")
    out += ["**At least 10× faster than Fink's published figures** (HTTP p50; Fink's figure is the low end of "
            "what its documentation and papers give, see the API section):", "",
            "| query | Nocturne embedded ms | Fink ms | Fink ÷ Nocturne |", "|---|---|---|---|"]
    for name, cells in main["layers"]["http"].items():
        ours, fink = _p50(cells.get("embedded")), fink_ms(name)
        if ours is None or fink is None:
            continue
        out.append(f"| {name} | {ours:,.1f} | {fink:,.0f} | {fink / ours:,.0f}× {'✓' if fink >= 10 * ours else '✗'} |")
    sizes = sorted(results)
    if len(sizes) > 1 and sizes[0] != main_size:
        small = results[sizes[0]]
        out += ["", f"**Cone 5″ and objects grow less than 2× from {small['alerts']:,} to {n:,} alerts** "
                "(p50 at N ÷ p50 at the smaller store):", "",
                "| query | layer | " + " | ".join(LABELS[b] for b in backends) + " |",
                "|---|---|" + "---|" * len(backends)]
        for name in GROWTH_QUERIES:
            for layer in ("query", "http"):
                row = []
                for b in backends:
                    big = _p50(main["layers"][layer].get(name, {}).get(b))
                    little = _p50(small["layers"][layer].get(name, {}).get(b))
                    if big is None or little is None:
                        row.append("—")
                    else:
                        g = big / little
                        row.append(f"{g:.2f}×" + ((" ✓" if g < 2 else " ✗") if b == "embedded" else ""))
                out.append(f"| {name} | {layer} | " + " | ".join(row) + " |")
    return out + [""]
