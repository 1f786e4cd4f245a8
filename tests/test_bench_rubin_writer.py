"""The writer benchmark (``bench/bench_rubin_writer.py``) writes the real alerts into stores of
the page sizes it is given, and the page size changes no stored byte: every table holds the
same keys and blobs with 4 KB and 16 KB pages."""
from bench.bench_rubin_writer import prepare, write
from conftest import need, raw_tables, shared_data
from rubin_inputs import rubin_dir
from store.sqlite_file import Pragmas


def test_the_writer_bench_stores_the_same_rows_whatever_the_page_size(tmp_path):
    need((shared_data() / "rubin-fink-2026-03-10").is_dir(), "real Rubin alerts not available")
    units = prepare(rubin_dir(), 100)
    assert units
    small, big = tmp_path / "4k", tmp_path / "16k"
    a = write(units, 4096, small)
    b = write(units, 16384, big)
    assert (a["page_size"], b["page_size"]) == (4096, 16384)
    assert a["alerts"] == b["alerts"] == 107
    assert a["cpu_s"] > 0 and a["writes"] > 0 and a["bytes"] > 0
    assert Pragmas.page_bytes == 16384  # the store's own setting, back after the runs
    want, got = raw_tables(small), raw_tables(big)
    assert sum(len(rows) for rows in want.values()) > 10 * 107  # the history rows are there
    assert got == want
