"""One definition of the ZTF band map (science/bands.py) and of the objectId pattern
(science/identifiers.py): no other module of the server, ingest or benchmarks spells them out."""
import ast
from pathlib import Path

import pytest

from science.bands import ZTF_FID
from science.identifiers import OBJECT_ID, is_object_id

ROOT = Path(__file__).resolve().parents[1]
OWNERS = {"science/bands.py", "science/identifiers.py"}
SOURCES = sorted(p for d in ("api", "apps", "ingest", "science", "store", "bench") for p in (ROOT / d).rglob("*.py")
                 if str(p.relative_to(ROOT)) not in OWNERS)


def _band_maps(tree) -> list[int]:
    """Lines of dict literals that map the ZTF fids 1, 2, 3 to 'g', 'r', 'i' (or back)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys if k is not None):
            pairs = {(k.value, getattr(v, "value", None)) for k, v in zip(node.keys, node.values) if k is not None}
            if {(1, "g"), (2, "r")} <= pairs or {("g", 1), ("r", 2)} <= pairs:
                found.append(node.lineno)
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_redefines_the_band_map_or_the_object_id_pattern(path):
    text = path.read_text()
    assert not _band_maps(ast.parse(text)), f"{path.name}: import ZTF_FID from science.bands"
    assert r"ZTF\d{2}[a-z]{7}" not in text, f"{path.name}: import OBJECT_ID from science.identifiers"


def test_the_shared_definitions():
    assert ZTF_FID == {1: "g", 2: "r", 3: "i"}
    assert is_object_id("ZTF23abjexnw") and OBJECT_ID.match("ZTF18adljlvp")
    for bad in ("ZTF23abjexn", "ZTF23abjexnwx", "ztf23abjexnw", "ZTF2Xabjexnw", "", None, 23):
        assert not is_object_id(bad), bad
