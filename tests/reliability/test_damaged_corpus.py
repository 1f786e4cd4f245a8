"""The damaged-data corpus: 80 real ZTF packets, most of them damaged on purpose (truncated
files, flipped bytes in headers, bodies and stamps, mistyped fields, old schemas), in one
folder. Every valid alert must be stored (0 lost), every packet accounted for (stored or
quarantined with a reason), and the night must complete. Its figures are in
docs/reliability.md.
"""
import json
import random
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conftest import make_config  # noqa: E402
from damaged import (candid, changed, flipped_stamp, mistyped, read, real_files, retype,  # noqa: E402
                     schema_33_without_candid, write)
from ingest.cli import EXIT_QUARANTINED, main as ingest_cli  # noqa: E402
from ingest.night import ingest  # noqa: E402
from store import open_store  # noqa: E402


def build_corpus(root: Path) -> dict:
    """The corpus under ``root``; returns {kind: (files, packets, valid candids)}."""
    files = real_files(80, start=100)
    rng = random.Random(17)
    kinds: dict = {}

    def add(kind, paths, n_packets, valid):
        f, p, v = kinds.get(kind, (0, 0, set()))
        kinds[kind] = (f + len(paths), p + n_packets, v | set(valid))

    good = files[:40]
    for f in good:
        shutil.copy(f, root / f.name)
    add("intact", good, 40, [candid(f) for f in good])
    for i, (f, cut) in enumerate(zip(files[40:44], (0.33, 0.5, 0.9, 0.02))):
        data = f.read_bytes()
        (root / f"truncated{i}.avro").write_bytes(data[: int(len(data) * cut)])
    add("truncated file", files[40:44], 4, [])
    for i, f in enumerate(files[44:46]):
        data = bytearray(f.read_bytes())
        for j in range(4, 40):
            data[j] ^= 0xFF
        (root / f"flipped_header{i}.avro").write_bytes(bytes(data))
    add("8+ bytes flipped in the Avro header", files[44:46], 2, [])
    for i, f in enumerate(files[46:50]):
        data = bytearray(f.read_bytes())
        start = rng.randrange(len(data) // 2, len(data) - 200)
        for j in range(start, start + 8):
            data[j] ^= 0xFF
        (root / f"flipped_body{i}.avro").write_bytes(bytes(data))
    add("8 bytes flipped in the Avro body", files[46:50], 4, [])
    for i, (f, kind) in enumerate(zip(files[50:53], ("cutoutScience", "cutoutTemplate", "cutoutDifference"))):
        flipped_stamp(f, root / f"flipped_stamp{i}.avro", kind)
    add("8 bytes flipped in a gzipped stamp", files[50:53], 3, [candid(f) for f in files[50:53]])
    for f, field in zip(files[53:57], ("jd", "ra", "dec", "magpsf")):
        mistyped(f, root / f"{field}_string.avro", field)
    mistyped(files[57], root / "prv_diffmaglim_string.avro", "diffmaglim", record="prv_candidates")
    add("mistyped field (string in a number)", files[53:58], 5, [])
    changed(files[58], root / "nan_dec.avro", lambda r: r["candidate"].update(dec=float("nan")))
    changed(files[59], root / "ra_negative.avro", lambda r: r["candidate"].update(ra=-0.1))
    changed(files[60], root / "no_candidate.avro", lambda r: r.update(candidate=None))
    add("NaN, out-of-range or missing value", files[58:61], 3, [])
    for f in files[61:65]:
        schema_33_without_candid(f, root / f"v33_{f.name}")
    for f in files[65:67]:
        changed(f, root / f"v33c_{f.name}", lambda r: r.update(schemavsn="3.3"))
    add("schema 3.3 (4 without top-level candid)", files[61:67], 6, [candid(f) for f in files[61:67]])
    changed(files[67], root / "v32.avro", lambda r: r.update(schemavsn="3.2"))
    changed(files[68], root / "v21.avro", lambda r: r.update(schemavsn="2.1"))
    add("schema older than 3.3 (3.2, 2.1)", files[67:69], 2, [])
    schema, records = read(files[69])
    for f in files[70:80]:
        records += read(f)[1]
    retype(schema, "candidate", "jd", ["double", "string", "null"])
    for i in (3, 7):
        records[i]["candidate"]["jd"] = str(records[i]["candidate"]["jd"])
    write(root / "container_union_jd.avro", schema, records)
    add("container of 11, jd as double-or-string, 2 strings", [root / "container_union_jd.avro"], 11,
        [r["candid"] for i, r in enumerate(records) if i not in (3, 7)])
    return kinds


def test_damaged_corpus_loses_no_valid_alert(tmp_path, monkeypatch, capsys):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    kinds = build_corpus(corpus)
    cfg = make_config("embedded", tmp_path)
    monkeypatch.setenv("NOCTURNE_DATA_DIR", str(cfg.data_dir))
    assert ingest_cli(["night", str(corpus), "--night", "20231018", "--no-progress"]) == EXIT_QUARANTINED
    summary = ingest(corpus, cfg, night="20231018", show_progress=False)  # a rerun completes the same way
    with open_store(cfg) as s:
        stored = {c["i:candid"] for _, c in s.table("main").scan(columns=["i:candid"])}
    valid = set().union(*(v for _, _, v in kinds.values()))
    packets = sum(p for _, p, _ in kinds.values())
    lines = [json.loads(x) for x in (cfg.data_dir / "quarantine" / "20231018" / "quarantine.jsonl")
             .read_text().splitlines()]
    lost = valid - stored
    assert not lost, f"valid alerts lost: {sorted(lost)}"
    assert summary.packets == packets == 80  # every packet read is counted: stored or quarantined
    unreadable = {"truncated file", "8+ bytes flipped in the Avro header", "8 bytes flipped in the Avro body"}
    extra = stored - valid  # only a flipped body may decode to (changed) values that pass every check
    assert len(extra) <= kinds["8 bytes flipped in the Avro body"][1]
    assert all(x["reason"] for x in lines)
    cutout_lines = {(x["source"], x["reason"]) for x in lines if "is damaged, stored without it" in x["reason"]}
    assert len(cutout_lines) == summary.cutouts_dropped
    sources = sorted(Path(src).name for src, _ in cutout_lines)
    assert sources[-3:] == [f"flipped_stamp{i}.avro" for i in range(3)]
    assert all(name.startswith("flipped_body") for name in sources[:-3])  # a flip that landed in a stamp
    figures = {kind: (f, p, len(v)) for kind, (f, p, v) in kinds.items()}
    print(json.dumps({"kinds": figures, "valid_expected": len(valid), "valid_stored": len(valid & stored),
                      "stored": len(stored), "cutouts_dropped": summary.cutouts_dropped, "extra": len(extra), "quarantined_per_run": summary.quarantined,
                      "alerts_stored_per_run": summary.alerts, "distinct_reasons": len({x["reason"] for x in lines}),
                      "unreadable_kinds": sorted(unreadable)}, indent=1))
