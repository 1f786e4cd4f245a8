"""The growth benchmark's night-by-night build and its report (issue 22), on a tiny store."""
import json
import shutil
from collections import namedtuple

from bench import bench_growth
from settings import Config
from store import open_store


def test_a_store_built_night_by_night_holds_every_night_and_keeps_no_night_files(tmp_path):
    folder, nights = bench_growth.build_streamed(2_000, tmp_path)
    sim = json.loads((tmp_path / "api-sim-2000" / "simulation.json").read_text())
    assert [n["night"] for n in nights] == sim["nights"]
    assert [n["alerts"] for n in nights] == [sim["alerts_per_night"][d] for d in sim["nights"]]
    assert not [p for p in (tmp_path / "api-sim-2000").iterdir() if p.is_dir()]  # each night removed after
    assert all(n["seconds"] > 0 for n in nights)
    assert [n["store_bytes"] for n in nights] == sorted(n["store_bytes"] for n in nights)
    with open_store(Config().replace(data_dir=folder / "store")) as s:
        stats = s.table("statistics")
        per_night = {stats.keys.parse(k)["night"]: c["basic:sci"] for k, c in stats.scan(columns=["basic:sci"])}
    for d in sim["nights"]:
        assert per_night[d] == sim["alerts_per_night"][d]
    assert (folder / "READY").exists()
    assert bench_growth.build_streamed(2_000, tmp_path) == (folder, nights)  # built once


def test_a_store_built_night_by_night_can_stop_after_its_first_nights(tmp_path):
    _, nights = bench_growth.build_streamed(1_000, tmp_path, max_nights=2)
    sim = json.loads((tmp_path / "api-sim-1000" / "simulation.json").read_text())
    assert [n["night"] for n in nights] == sim["nights"][:2]
    left = sorted(p.name.rsplit("_", 1)[-1] for p in (tmp_path / "api-sim-1000").iterdir() if p.is_dir())
    assert left == sim["nights"][2:]  # the nights not stored are kept for a later build


def test_streaming_is_chosen_when_the_simulation_and_the_store_would_not_fit(monkeypatch, tmp_path):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(0, 0, 60e9))
    assert not bench_growth.needs_streaming(1_000_000, tmp_path)
    assert bench_growth.needs_streaming(10_000_000, tmp_path)


def test_the_report_gives_each_query_its_growth_in_both_layers():
    def result(size, ms, http_ms, nights=()):
        return {"size": size, "alerts": size + 1500, "bytes_per_alert": 2400.0, "nights": list(nights),
                "query": {"cone 1°": {"p50": ms}, "xmatch": {"p50": None, "error": "boom"}},
                "http": {"cone 1°": {"p50": http_ms}, "xmatch": {"p50": 10.0}}}
    nights = [{"night": "20250101", "alerts": 1_000_000, "seconds": 250.0, "store_bytes": 2.4e9}]
    text = bench_growth.report([result(1_000_000, 50.0, 80.0), result(10_000_000, 60.0, 100.0, nights)], "cmd")
    assert "| cone 1° | 50.0 | 60.0 | 1.20× | 80.0 | 100.0 | 1.25× |" in text
    assert "| xmatch | failed | failed | – | 10.0 | 10.0 | 1.00× |" in text
    assert "| 20250101 | 1,000,000 | 250 | 4,000 | 2.4 |" in text
    assert "| 10,000,000 | 1 | 10,001,500 | 2,400 |" in text  # one night stored of ten
    assert "| 1,000,000 | 10 | 1,001,500 | 2,400 |" in text
