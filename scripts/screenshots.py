"""Retake the README's screenshots from the running demo, in headless Chromium.

    ./run.sh demo-data                 # once: the demo store in demo/store
    .venv/bin/python scripts/screenshots.py [--data-dir demo/store] [--out docs/screenshots]

Starts gunicorn on the demo store (a free port; stopped at the end), opens each page at
1280 px wide, waits for its content (the same readiness as ``bench/bench_portal.py
--chromium``: main element present, no loading indicator), and saves a PNG reduced to a
256-colour palette so each stays under 200 KB: home, results, a ZTF object (its Summary
tab, forced photometry shown), a Rubin object and each science tab (Supernova, Variable star after its fit,
Microlensing, Solar System, Sky). The objects are chosen from the demo's ground truth
(the most observed of each kind) and store.
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests" / "browser"))

import driver as D  # noqa: E402
from portal_chromium import SPINNERS, start_server, stop_server  # noqa: E402

WIDTH, HEIGHT, MAX_BYTES = 1280, 960, 200 * 1024


def objects(data_dir: Path, url: str) -> dict:
    """The pages' subjects: the most observed object of each simulated kind, the asteroid's
    alert, the Rubin object with the most diaSources, the demo's class example."""
    import pandas as pd

    sys.path.insert(0, str(ROOT / "bench"))
    from bench_portal import demo_pages

    truth = pd.read_csv(data_dir.parent / "alerts" / "truth.csv")
    top = truth.sort_values("n_alerts", ascending=False).drop_duplicates("type").set_index("type")["objectId"]
    sso = json.loads((data_dir.parent / "sso" / "truth.json").read_text())["ssnamenr"]
    with urllib.request.urlopen(f"{url}/api/v1/sso?n_or_d={quote(sso)}&columns=i:objectId&output-format=json") as r:
        sso_object = json.load(r)[0]["i:objectId"]
    pages, _ = demo_pages(data_dir)
    paths = {p.name: p.path for p in pages}
    return {"results": paths["results"], "rubin": paths["Rubin object"], "sn": top["sn_ia"],
            "varstar": top["rrlyrae"], "mulens": top["microlensing"], "sso": sso_object}


def ready(drv, css: str, timeout: float = 120.0) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait
    try:
        WebDriverWait(drv, timeout, poll_frequency=0.2).until(lambda d: d.execute_script(
            "return !!document.querySelector(arguments[0]) && !document.querySelector(arguments[1])", css, SPINNERS))
    except TimeoutException:
        raise SystemExit(f"{drv.current_url}: no {css} within {timeout:.0f} s; the page says: "
                         f"{drv.find_element('tag name', 'main').text[:800]}") from None
    time.sleep(1.0)  # plotly's transitions and fonts settle


def save(drv, path: Path) -> int:
    from PIL import Image
    img = Image.open(io.BytesIO(drv.get_screenshot_as_png())).convert("RGB")
    img.quantize(colors=256, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
    size = path.stat().st_size
    if size > MAX_BYTES:  # fewer colours
        img.quantize(colors=64, method=Image.Quantize.FASTOCTREE).save(path, optimize=True)
        size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size / 1024:.0f} KB")
    return size


def tab(drv, url: str, object_id: str, label: str, css: str, out: Path, inputs: dict | None = None) -> None:
    from selenium.webdriver.common.by import By
    drv.get(f"{url}/{object_id}")
    ready(drv, "#lc-graph .scatterlayer .points path")
    drv.find_element(By.XPATH, f"//div[contains(@class, 'tab') and normalize-space(.)='{label}']").click()
    if inputs:  # a demo light curve has a dozen points: fewer Fourier terms than the defaults, then Fit
        ready(drv, "#vs-fit")
        for field, value in inputs.items():
            box = drv.find_element(By.ID, field)
            box.clear()
            box.send_keys(value)
        drv.find_element(By.ID, "vs-fit").click()
    ready(drv, css)
    drv.execute_script("document.getElementById('object-tabs').scrollIntoView()")
    time.sleep(0.5)
    save(drv, out)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", type=Path, default=ROOT / "demo" / "store")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    a = p.parse_args(argv)
    data_dir = a.data_dir.resolve()
    if not (data_dir / "nocturne.sqlite3").is_file():
        print(f"no store in {data_dir}: ./run.sh demo-data makes the demo store", file=sys.stderr)
        return 2
    a.out.mkdir(parents=True, exist_ok=True)
    proc, url = start_server(data_dir, a.out.parent / ".screenshots-gunicorn.log")
    drv = D.start(width=WIDTH, height=HEIGHT)
    try:
        o = objects(data_dir, url)
        drv.get(url + "/")
        ready(drv, "#search-examples .chip")
        save(drv, a.out / "home.png")
        drv.get(url + o["results"])
        ready(drv, "#results-grid .ag-row")
        save(drv, a.out / "results.png")
        drv.get(f"{url}/{o['sn']}")
        ready(drv, "#lc-graph .scatterlayer .points path")
        drv.find_element("xpath", "//label[contains(., 'forced photometry')]").click()  # ZTF's forced points too
        time.sleep(1.5)
        save(drv, a.out / "object.png")
        drv.get(url + o["rubin"])
        ready(drv, "#rubin-lc-graph .scatterlayer .points path")
        save(drv, a.out / "rubin-object.png")
        tab(drv, url, o["sn"], "Supernova", "#sn-tab .main-svg", a.out / "tab-supernova.png")
        tab(drv, url, o["varstar"], "Variable star", "#vs-folded .main-svg", a.out / "tab-varstar.png",
            inputs={"vs-nbase": "1", "vs-nband": "0"})
        tab(drv, url, o["mulens"], "Microlensing", "#ml-fit .main-svg", a.out / "tab-microlensing.png")
        tab(drv, url, o["sso"], "Solar System", "#sso-tab .main-svg", a.out / "tab-solar-system.png")
        tab(drv, url, o["sn"], "Sky", "#object-aladin .sky-canvas[data-sky-state]", a.out / "tab-sky.png")
    finally:
        D.stop(drv)
        stop_server(proc)
        (a.out.parent / ".screenshots-gunicorn.log").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
