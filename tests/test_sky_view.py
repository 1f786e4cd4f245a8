"""The sky view's server side: what goes to the browser, its setting and the page's CSP."""
import pandas as pd
import pytest

from api.guard import content_security_policy, origin_of
from apps.components import sky
from settings import ConfigError, load_config


def test_centre_of_points_across_ra_zero_and_field_of_view_holds_them():
    ra0, dec0 = sky.centre([359.9, 0.1], [10.0, 10.0])
    assert min(ra0, 360 - ra0) < 1e-6 and dec0 == pytest.approx(10.0, abs=1e-4)
    fov = sky.field_of_view([359.9, 0.1], [10.0, 10.0], ra0, dec0)
    assert 0.2 < fov < 0.3  # 2.4 × the ~0.098° to the farthest point


def test_payload_keeps_points_with_positions_and_caps_their_number():
    rows = pd.DataFrame({"objectId": ["ZTF23aaaaaaa", "ZTF23aaaaaab", "ZTF23aaaaaac"],
                         "ra": [10.0, None, 10.1], "dec": [5.0, 5.0, 5.1], "label": ["SN candidate", "", None]})
    payload = sky.view_payload(rows, 10.05, 5.05, 0.3, "https://example.org/hips", highlight="ZTF23aaaaaaa")
    assert [p["id"] for p in payload["points"]] == ["ZTF23aaaaaaa", "ZTF23aaaaaac"]
    assert payload["points"][1]["label"] == "" and payload["highlight"] == "ZTF23aaaaaaa"
    many = pd.DataFrame({"objectId": [f"o{i}" for i in range(sky.MAX_POINTS + 5)], "ra": 1.0, "dec": 1.0})
    assert len(sky.view_payload(many, 1, 1, 1, "")["points"]) == sky.MAX_POINTS


def test_sky_images_setting_takes_a_url_or_nothing(tmp_path):
    cfg = tmp_path / "c.yml"
    cfg.write_text("data_dir: d\n")
    assert load_config(cfg, {}).sky_images.startswith("https://")
    assert load_config(cfg, {"NOCTURNE_SKY_IMAGES": ""}).sky_images == ""
    assert load_config(cfg, {"NOCTURNE_SKY_IMAGES": "https://h.example/x/"}).sky_images == "https://h.example/x"
    with pytest.raises(ConfigError, match="sky_images"):
        load_config(cfg, {"NOCTURNE_SKY_IMAGES": "javascript:alert(1)"})


def test_policy_lets_aladin_run_and_reach_only_the_images_origin():
    assert origin_of("https://alasky.cds.unistra.fr/DSS/DSSColor") == "https://alasky.cds.unistra.fr"
    assert origin_of("/hips/dss") == "" and origin_of("") == ""
    policy = dict(p.strip().split(" ", 1) for p in content_security_policy((), "https://h.example").split(";"))
    assert "'wasm-unsafe-eval'" in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"].split()
    assert policy["img-src"].endswith("https://h.example") and policy["connect-src"].endswith("https://h.example")
    assert policy["worker-src"] == "'self' blob:"
    assert "h.example" not in content_security_policy()
