"""The plotly.js the portal's figures load: the cartesian bundle when installed
(scripts/plotly.sh), else a redirect to Dash's full one."""
from apps import portal
from conftest import make_config
from index import create_app


def test_the_plotly_route_serves_the_cartesian_bundle_or_redirects_to_dashs(tmp_path, monkeypatch):
    client = create_app(make_config("embedded", tmp_path)).test_client()
    fake = tmp_path / "plotly-cartesian.min.js"
    fake.write_text("/* plotly.js (cartesian - minified) */")
    monkeypatch.setattr(portal, "PLOTLY_CARTESIAN", fake)
    r = client.get(portal.PLOTLY_ROUTE)
    assert r.status_code == 200 and r.mimetype == "application/javascript" and b"cartesian" in r.data
    r.close()
    monkeypatch.setattr(portal, "PLOTLY_CARTESIAN", tmp_path / "missing.js")
    r = client.get(portal.PLOTLY_ROUTE)
    assert r.status_code == 302 and r.location.endswith("/_dash-component-suites/plotly/package_data/plotly.min.js")
    assert client.get(r.location).status_code == 200  # Dash serves its full bundle there


#: the traces of plotly.js-cartesian-dist-min (scripts/plotly.sh)
CARTESIAN = {"bar", "box", "contour", "heatmap", "histogram", "histogram2d", "histogram2dcontour", "image", "pie",
             "scatter", "scatterternary", "violin"}


def test_the_portal_draws_only_traces_of_the_cartesian_bundle():
    import re
    from pathlib import Path
    used = set()
    for path in (Path(portal.__file__).parent).rglob("*.py"):
        text = path.read_text()
        used |= {m.lower() for m in re.findall(r"\bgo\.([A-Z][A-Za-z0-9]*)\(", text) if m not in ("Figure", "Layout")}
        used |= set(re.findall(r"""["']type["']\s*:\s*["']([a-z0-9]+)["']""", text))
    used -= {"text", "password", "number",  # input types
             "date", "linear", "log", "category",  # axis types
             "data", "percent", "constant", "sqrt"}  # error-bar types
    assert used and used <= CARTESIAN, used - CARTESIAN
