"""The night's upper-limit and bad-quality counts (ingest/statistics._history_rows): read as a
few merged ranges, keys only, they give the count of one range an object, whatever lies
between the night's objects in the store (other objects, other dates)."""
import pytest

from ingest import statistics
from store.keys import format_jd

LO, HI = 2460200.5, 2460233.5  # the window a night counts: 31 days before it to the day after


def _fill(table, n_objects: int, rows_each: int) -> list[str]:
    """``n_objects`` objects, each with rows every other day from 40 days before the window's
    end, so some fall outside it; returns the object ids in insertion order."""
    ids = [f"ZTF23a{i:06d}" for i in range(n_objects)]
    with table.batch() as b:
        for oid in ids:
            for k in range(rows_each):
                jd = HI + 5.0 - 2.0 * k
                b.put(table.keys.build(oid, jd), {"i:objectId": oid, "i:jd": jd, "i:fid": 1 + k % 2})
    return ids


def _one_range_an_object(table, objects) -> int:
    """The count as it was made before: one range an object, ``i:jd`` read."""
    start, stop = format_jd(LO), format_jd(HI)
    ranges = [(p + start, p + stop) for p in table.keys.first_prefixes(objects)]
    return len(table.read(ranges=ranges, columns=["i:jd"]))


@pytest.mark.parametrize("group_rows", [4096, 7])  # 7: every merged scan stops early
def test_merged_key_only_reads_count_what_one_range_an_object_counts(store, monkeypatch, group_rows):
    monkeypatch.setattr(statistics, "GROUP", 8)
    monkeypatch.setattr(statistics, "GROUP_ROWS", group_rows)
    table = store.table("upper")
    ids = _fill(table, 60, 25)
    night = ids[::3] + ids[7:9] + ["ZTF23a999999"]  # scattered, two adjacent, one without rows
    expected = _one_range_an_object(table, night)
    # 25 rows each, every other day from HI + 5 down: the 17 with LO <= jd < HI are counted
    assert expected == 17 * (len(set(night)) - 1)
    assert statistics._history_rows(table, night, LO, HI) == expected
    assert statistics._history_rows(table, night[:1], LO, HI) == 17
    assert statistics._history_rows(table, [], LO, HI) == 0


@pytest.mark.parametrize("page", [50_000, 7, 1])  # 7: pages end inside the night, 1: a row a page
def test_the_night_read_a_page_at_a_time_counts_every_alert_once(store, monkeypatch, page):
    monkeypatch.setattr(statistics, "PAGE", page)
    table = store.table("jd")
    night = "20231018"
    lo, _ = statistics.night_span(night)
    with table.batch() as b:
        for i in range(30):  # 30 alerts of 11 objects, a third unclassified, and one the day after
            jd = lo + 0.01 * i + (1.0 if i == 29 else 0.0)
            cells = {"i:objectId": f"ZTF23a{i % 11:06d}", "i:fid": 1 + i % 3, "i:jd": jd}
            if i % 3:
                cells["d:classification"] = "SN candidate" if i % 2 else "Unknown"
            b.put(table.keys.build(jd, cells["i:objectId"], 1000 + i), cells)
    cells = statistics.night_counts(store, night)
    assert (cells["basic:sci"], cells["basic:n_objects"]) == (29, 11)
    assert (cells["basic:n_g"], cells["basic:n_r"], cells["basic:n_i"]) == (10, 10, 9)
    assert (cells["class:SN candidate"], cells["class:Unknown"]) == (9, 10)
