"""The tags an object's alerts carry, in one order wherever the portal shows them."""
import numpy as np

from science.rubin_tags import TAGS, tags_of_alerts


def test_tags_in_the_catalogue_order_then_unknown_ones_alphabetically():
    per_alert = [["is_first"], None, float("nan"), "in_tns", np.str_("cataloged"), np.array(["in_simbad", "zz_new"]), ("aa_new", "is_first"), []]
    got = tags_of_alerts(per_alert)
    known = [t for t in TAGS if t in {"is_first", "in_simbad"}]
    assert got == known + ["aa_new", "zz_new"]
    assert got.index("in_simbad") < got.index("is_first")  # TAGS lists in_simbad before is_first


def test_no_alerts_or_no_tags_give_nothing():
    assert tags_of_alerts([]) == []
    assert tags_of_alerts([None, np.array([], dtype=object)]) == []
