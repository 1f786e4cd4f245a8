"""Avro datums of whole alert packets, from the encoded parts of a unit.

A packet is: the top-level fields, the ``candidate`` record, the
``prv_candidates`` array (one item per observation of the object in the 30
previous days: the encoded detection of an earlier alert, or the encoded
upper limit of an exposure's quadrant, shared by every object there), the
three cutouts, and optionally Fink's added values.  Each piece is encoded once
for the whole unit (``encoding.encode_records``); a packet is then the
concatenation of byte strings, so a detection reappearing in the history of
30 later alerts is encoded only once.
"""

from __future__ import annotations

import numpy as np

from .encoding import encode_records, split, zigzag_varint
from .schema import CANDIDATE_FIELDS, NONDET_FIELDS, PRV_FIELDS, PRV_REQUIRED, SCHEMA_VERSION, TOP_FIELDS

PUBLISHER = "Nocturne simulator"
_NO_CUTOUTS = b"\x02\x02\x02"


def _cutout_part(name: str, data: bytes) -> bytes:
    nb = name.encode()
    return b"".join([b"\x00\x00", zigzag_varint(len(nb)), nb,
                     b"\x00", zigzag_varint(len(data)), data])


def cutout_names(candid: int, pid: int) -> tuple[str, str, str]:
    return (f"candid{candid}_pid{pid}_targ_sci.fits.gz", f"candid{candid}_ref.fits.gz",
            f"candid{candid}_pid{pid}_targ_scimref.fits.gz")


def datums(unit, alerts, stamps=None, fink_tail=None, fp_hists=None) -> list[bytes]:
    """Encoded alert packets (schemaless Avro datums), in ``alerts`` order; ``fp_hists``:
    each alert's encoded fp_hists field (``forced.fp_parts``), written after prv_candidates."""
    n = alerts.n
    if n == 0:
        return []
    c = alerts.cand
    head = split(*encode_records(TOP_FIELDS, {
        "candid": c["candid"], "schemavsn": SCHEMA_VERSION, "publisher": PUBLISHER,
        "objectId": alerts.objectId.astype("S")}, n))
    cand = split(*encode_records(CANDIDATE_FIELDS, c, n, prefix=b"\x00"))
    prv_det = split(*encode_records(PRV_FIELDS, alerts.prv_det, n, required=PRV_REQUIRED, prefix=b"\x00"))
    eq = alerts.eq
    nd_cols = {k: eq[k] for k in NONDET_FIELDS if k in eq}
    nd_cols.update(pdiffimfilename=eq["prv_pdiffimfilename"], programpi="Kulkarni", programid=1,
                   rbversion="t17_f5_c3")
    n_eq = len(eq["jd"])
    nondet = split(*encode_records(PRV_FIELDS, nd_cols, n_eq, required=PRV_REQUIRED, prefix=b"\x00"))
    counts = alerts.rows - alerts.lo
    cnt = split(*encode_records([("n", "long")], {"n": counts}, n, nullable=False, prefix=b"\x00"))
    # one encoded prv item per unit row: the detection's, else the exposure's upper limit
    items = np.array(nondet, dtype=object)[alerts.eq_of_row]
    items[alerts.rows] = prv_det
    items = items.tolist()
    rows, lo = alerts.rows.tolist(), alerts.lo.tolist()
    candid, pid = c["candid"].tolist(), c["pid"].tolist()
    out = []
    for a in range(n):
        parts = [head[a], cand[a], cnt[a]]
        r, l0 = rows[a], lo[a]
        if r > l0:
            parts += items[l0:r]
            parts.append(b"\x00")
        if fp_hists is not None:
            parts.append(fp_hists[a])
        if stamps is None:
            parts.append(_NO_CUTOUTS)
        else:
            names = cutout_names(candid[a], pid[a])
            parts += [_cutout_part(nm, st) for nm, st in zip(names, stamps[a])]
        if fink_tail is not None:
            parts.append(fink_tail[a])
        out.append(b"".join(parts))
    return out
