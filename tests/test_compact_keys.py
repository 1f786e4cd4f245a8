"""The ZTF writer's compact record of the keys it met (``ingest.compact_keys``, issue 22): exact
in the dict and in the arrays (a key is never taken for another, so no row and no change of a
row is lost), bounded by its limit, and an ingest whose every key went to the arrays stores
and counts what a run with the whole night in the dict does."""
from __future__ import annotations

import random
import shutil

import numpy as np
import pytest

from conftest import comparable, make_config, shared_data
from ingest.compact_keys import CompactKeys
from ingest.night import ingest
from ingest.prepare import Prepared
from ingest.unit_encoding import Alert
from ingest.write import Writer
from store import open_store


def test_values_are_exact_in_the_dict_and_in_the_arrays():
    k = CompactKeys(limit=100, buffer=2)
    k["ZTF1_1"], k["ZTF1_2"] = 10, 20
    k.compact()  # both into the arrays
    k["ZTF1_3"] = 30
    k.compact()  # one key: stays in the dict
    assert len(k.keys) == 2 and list(k.recent) == ["ZTF1_3"]
    assert [k.get(x) for x in ("ZTF1_1", "ZTF1_2", "ZTF1_3", "ZTF1_4")] == [10, 20, 30, None]
    # a prefix of a held key, a longer key and a key that sorts between them are not held
    assert [x in k for x in ("ZTF1_", "ZTF1_10", "ZTF1_1x", "ZTF1_15")] == [False] * 4
    assert k.older(["ZTF1_2", "ZTF1_3", "ZTF1_9", "ZTF1_22222222"]) == {"ZTF1_2": 20}
    k["ZTF1_1"] = 11  # a newer value of a key the arrays hold: the dict's wins, then the arrays take it
    assert k.get("ZTF1_1", k.older(["ZTF1_1"])) == 11
    k.compact()
    assert k.recent == {} and len(k) == 3 and k.get("ZTF1_1") == 11 and k.get("ZTF1_3") == 30
    k["a-much-longer-key-than-the-others"] = -1  # the arrays widen; no key is cut
    k["ZTF1_0"] = 0
    k.compact()
    assert k.keys.dtype.itemsize == len("a-much-longer-key-than-the-others")
    assert [k.get(x) for x in ("a-much-longer-key-than-the-others", "ZTF1_0", "ZTF1_1", "ZTF1_2", "ZTF1_3")] == \
        [-1, 0, 11, 20, 30]
    assert list(k.keys) == sorted(k.keys)


def test_the_limit_forgets_the_older_keys_and_bounds_the_memory():
    limit, buffer = 1_000, 100
    k = CompactKeys(limit=limit, buffer=buffer)
    width = len("ZTF25aaaaaaa_2460676.1234567")
    for i in range(20_000):
        k[f"ZTF25a{i:06d}_2460676.1234567"] = i
        k.compact()
        assert len(k.recent) < buffer and len(k.keys) <= limit
    assert k.keys.dtype.itemsize == width and k.keys.nbytes + k.values.nbytes <= limit * (width + 8)
    assert k.get("ZTF25a019999_2460676.1234567") == 19_999  # the newest are held
    assert "ZTF25a000000_2460676.1234567" not in k      # the oldest were forgotten (written again if met)


class Batch:
    def __init__(self, puts):
        self.puts = puts

    def put_encoded(self, key, payload):
        self.puts.append((key, payload))


def _writer(tmp_path, puts) -> Writer:
    batches = {t: Batch(puts[t]) for t in ("main", "upper", "uppervalid", "fp")}
    return Writer(batches, "20250101", tmp_path / "q", tmp_path / "r")


def _alert(candid, upper, badquality, forced) -> Alert:
    return Alert("20250101", "ZTF25aaaaaaa", candid, 1, "Unknown", [("main", f"m{candid}", ((), (b"m",)))],
                 upper, badquality, forced)


@pytest.mark.parametrize("buffer", [1, 10_000])
def test_rows_whose_payloads_all_look_alike_are_told_apart_by_their_keys_alone(tmp_path, monkeypatch, buffer):
    """Random units of history rows with only three distinct payloads (so a key taken for
    another would hide a row or a change): what the writer sends and counts is what the rule over
    a plain dict gives, whether the keys sit in the dict (buffer 10,000) or in the arrays (1)."""
    monkeypatch.setattr("ingest.compact_keys.BUFFER", buffer)
    rng = random.Random(5)
    payloads = [((1,), (b"A",)), ((1,), (b"B",)), ((1,), (b"A", b"A"))]
    keys = [f"ZTF25a{i:06d}_2460676.{j:07d}" for i in range(40) for j in range(5)]
    units = [[[[(rng.choice(keys), rng.choice(payloads)) for _ in range(rng.randrange(6))] for _ in range(3)]
              for _ in range(rng.randrange(1, 8))] for _ in range(30)]
    puts = {t: [] for t in ("main", "upper", "uppervalid", "fp")}
    writer = _writer(tmp_path, puts)
    last, expected, new = {}, {t: [] for t in puts}, {"upper": 0, "uppervalid": 0, "fp": 0}
    candid = 0
    for unit in units:
        alerts = []
        for rows in unit:
            candid += 1
            alerts.append(_alert(candid, *rows))
            for (prefix, table), table_rows in zip((("", "upper"), ("b", "uppervalid"), ("f", "fp")), rows):
                for key, payload in table_rows:  # the rule as a plain dict keeps it
                    if last.get(prefix + key) != payload:
                        new[table] += prefix + key not in last
                        last[prefix + key] = payload
                        expected[table].append((key, payload))
        writer.take(Prepared(alerts))
    assert buffer > 1 or len(writer.written.keys) > 100  # the arrays were used
    for table in ("upper", "uppervalid", "fp"):
        assert puts[table] == expected[table] and len(puts[table]) > 50
    c = writer.counts["20250101"]
    assert (c.upper, c.badquality, c.forced) == (new["upper"], new["uppervalid"], new["fp"])
    assert c.sci == candid and c.duplicates == 0


def test_a_repeated_candid_is_a_duplicate_also_once_in_the_arrays(tmp_path, monkeypatch):
    monkeypatch.setattr("ingest.compact_keys.BUFFER", 1)
    writer = _writer(tmp_path, {t: [] for t in ("main", "upper", "uppervalid", "fp")})
    for candid in (1, 2, 3, 2, 1, 4):
        writer.take(Prepared([_alert(candid, [], [], [])]))
    assert len(writer.seen.keys) >= 3
    c = writer.counts["20250101"]
    assert (c.sci, c.duplicates, c.raw) == (4, 2, 6)


def test_a_night_with_every_key_in_the_arrays_ends_as_a_run_with_them_in_the_dict(tmp_path, monkeypatch):
    """The real night, units of 16 files: every history key and candid moved to the arrays after
    each unit, the sky index's ranks forgotten after every unit (read from the store again)."""
    night = shared_data() / "ztf-night-2023-10-18"
    reference = make_config("embedded", tmp_path / "reference")
    clean = ingest(night, reference, workers=1, show_progress=False)
    monkeypatch.setattr("ingest.plan.UNIT_FILES", 16)
    monkeypatch.setattr("ingest.compact_keys.BUFFER", 1)
    monkeypatch.setattr("ingest.newest.LIMIT", 1)
    compact = make_config("embedded", tmp_path / "compact")
    summary = ingest(night, compact, workers=1, show_progress=False)

    def counts(s):
        return [(n, c.raw, c.sci, c.duplicates, c.upper, c.badquality, c.forced) for n, c in sorted(s.nights.items())]

    assert counts(summary) == counts(clean) and clean.nights[min(clean.nights)].upper > 0
    with open_store(reference) as a, open_store(compact) as b:
        assert comparable(b) == comparable(a)
