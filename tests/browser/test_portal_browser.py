"""The portal in Chromium: search by id, cone and class; the object page; downloads; not found."""
from __future__ import annotations

import re

import pandas as pd
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal_helpers import OBJECT, OTHER
from portal_server import browser, downloads, page, portal_url  # noqa: F401 - fixtures


def wait(driver, timeout=20):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def results_text(driver) -> str:
    wait(driver).until(EC.presence_of_element_located((By.ID, "results-count")))
    return driver.find_element(By.ID, "search-results").text


def test_search_by_id_lists_the_object_and_links_to_its_page(page):
    d = page("/")
    box = d.find_element(By.ID, "search-input")
    box.send_keys(OTHER, Keys.ENTER)
    wait(d).until(lambda d: "q=ZTF23abjexnw" in d.current_url)
    assert "1 object" in results_text(d)
    d.find_element(By.LINK_TEXT, OTHER).click()
    wait(d).until(EC.text_to_be_present_in_element((By.ID, "object-title"), OTHER))


def test_object_ids_are_completed_as_you_type(page):
    d = page("/")
    d.find_element(By.ID, "search-input").send_keys("ZTF18adl")
    wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, f"#search-suggestions option[value='{OBJECT}']"))


def test_search_by_cone_in_sexagesimal_is_shareable(page):
    d = page("/?q=00%3A21%3A31.2%20%2B54%3A41%3A24%2030")
    text = results_text(d)
    assert "cone of 30″ around (5.38000, +54.69000)" in text and " objects" in text
    wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".results-grid a[href^='/ZTF']"))
    assert d.find_element(By.ID, "results-sky")


def test_search_by_class_with_the_picker(page):
    d = page("/")
    d.find_element(By.ID, "class-picker").click()
    wait(d).until(lambda d: d.find_elements(By.XPATH, "//*[contains(text(), 'Kilonova candidate')]"))
    d.switch_to.active_element.send_keys("SN candidate")
    option = wait(d).until(EC.element_to_be_clickable((By.XPATH, "//*[starts-with(normalize-space(text()), 'SN candidate')]")))
    option.click()
    wait(d).until(lambda d: "class%3A" in d.current_url)
    assert "class SN candidate" in results_text(d)


def test_results_download_as_csv(page, downloads):
    d = page("/?q=date%3A%202023-10-18")
    results_text(d)
    d.find_element(By.XPATH, "//button[text()='CSV']").click()
    target = downloads / "nocturne-date.csv"
    wait(d).until(lambda _: target.exists() and target.stat().st_size > 0)
    df = pd.read_csv(target)
    assert len(df) > 100 and {"i:objectId", "i:jd", "i:magpsf"} <= set(df.columns)


def test_object_page_units_epoch_and_download(page, downloads):
    d = page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#lc-graph .scatterlayer .points path")))
    d.find_element(By.XPATH, "//label[contains(., 'DC flux')]").click()
    wait(d).until(lambda d: "DC flux" in d.find_element(By.ID, "lc-graph").text)
    d.find_element(By.XPATH, "//label[contains(., 'Difference magnitude')]").click()
    wait(d).until(lambda d: "Difference magnitude" in d.find_element(By.ID, "lc-graph").text)

    before = d.find_element(By.CSS_SELECTOR, "#cutouts img").get_attribute("src")
    points = d.find_elements(By.CSS_SELECTOR, "#lc-graph .scatterlayer .trace:first-child .points path")
    ActionChains(d).move_to_element(points[0]).pause(0.3).click().perform()
    wait(d).until(lambda d: d.find_element(By.CSS_SELECTOR, "#cutouts img").get_attribute("src") != before)
    img = d.find_element(By.CSS_SELECTOR, "#cutouts img")
    wait(d).until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", img))

    d.find_element(By.ID, "object-dl-csv").click()
    names = [downloads / f"{OBJECT}.csv", downloads / "objects.csv"]  # the API's Content-Disposition may win
    found = wait(d).until(lambda _: next((p for p in names if p.exists() and p.stat().st_size > 0), None))
    df = pd.read_csv(found)
    assert set(df["i:objectId"]) == {OBJECT} and "upperlim" in set(df["d:tag"])


def test_unknown_object_gets_a_helpful_page(page):
    d = page("/ZTF00aaaaaaa")
    wait(d).until(EC.presence_of_element_located((By.ID, "not-found")))
    assert "No alert of ZTF00aaaaaaa" in d.find_element(By.ID, "not-found").text


def test_statistics_and_api_pages_render(page):
    d = page("/statistics")
    wait(d).until(EC.presence_of_element_located((By.ID, "stats-last")))
    d = page("/api-docs")
    assert d.find_element(By.CSS_SELECTOR, "iframe.api-frame")


def test_every_example_chip_finds_results(page):
    d = page("/")
    chips = {c.text: c.get_attribute("href") for c in d.find_elements(By.CSS_SELECTOR, "#search-examples a.chip")}
    assert len(chips) == 6, chips
    for label, href in chips.items():
        d = page(href.removeprefix(d.current_url.split("/?")[0].rstrip("/")))
        text = results_text(d)
        assert "Nothing found" not in text and not text.startswith("0 objects"), f"{label}: {text}"


def test_copy_as_curl_and_python_answer_the_rows_shown_from_this_server(page, portal_url):
    import json
    import re
    import urllib.request

    d = page("/?q=date%3A%202023-10-18")
    text = results_text(d)
    shown = int(re.search(r"· ([\d,]+) alerts", text).group(1).replace(",", ""))
    objects = int(d.find_element(By.ID, "results-count").text.split()[0])
    curl = d.find_element(By.ID, "results-curl").get_attribute("textContent")
    python = d.find_element(By.ID, "results-python").get_attribute("textContent")
    assert curl.startswith(f"curl '{portal_url}/api/v1/explorer?") and f"'{portal_url}/api/v1/explorer'" in python
    url = curl.removeprefix("curl '").removesuffix("'").replace("output-format=csv", "output-format=json")
    with urllib.request.urlopen(url, timeout=30) as r:
        by_curl = json.load(r)
    scope: dict = {}
    exec(python, scope)  # noqa: S102 - the snippet the page offers, run as a user would
    by_python = scope["df"]
    assert len(by_curl) == len(by_python) == shown > 100
    assert sorted(a["i:candid"] for a in by_curl) == sorted(by_python["i:candid"])
    assert len({a["i:objectId"] for a in by_curl}) == objects


def test_a_lower_case_object_id_finds_the_object(page):
    d = page("/")
    d.find_element(By.ID, "search-input").send_keys(OTHER.lower(), Keys.ENTER)
    assert "1 object" in results_text(d)


def test_a_click_on_the_sky_plot_opens_the_object(page):
    d = page("/?q=date%3A%202023-10-18")
    results_text(d)
    point = wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results-sky .scatterlayer .points path"))[0]
    ActionChains(d).move_to_element(point).pause(0.3).click().perform()
    wait(d).until(lambda d: re.search(r"/ZTF\d{2}[a-z]{7}$", d.current_url))
    wait(d).until(EC.presence_of_element_located((By.ID, "object-title")))


def test_figures_are_drawn_with_the_cartesian_plotly_bundle(page):
    from apps.portal import PLOTLY_CARTESIAN
    from conftest import need
    need(PLOTLY_CARTESIAN.is_file(), "plotly.js cartesian bundle not installed (scripts/plotly.sh: ./run.sh setup)")
    d = page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#lc-graph .scatterlayer .points path")))
    fetched = d.execute_script("return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert any(u.endswith("/_nocturne/plotly.min.js") for u in fetched)
    assert not any("package_data/plotly.min.js" in u for u in fetched)  # Dash's full bundle: not fetched


def test_a_sky_map_dropped_on_the_gw_page_lists_its_objects(page, tmp_path):
    from astropy.time import Time

    from realdata import source_alerts
    from skymaps import gaussian_map
    target = next(r for r in source_alerts() if r.get("cdsxmatch") is None
                  and r["candidate"]["jd"] - r["candidate"]["jdstarthist"] < 1 and r["candidate"]["jd"] > 2460236)
    c = target["candidate"]
    path = tmp_path / "bayestar.fits.gz"
    path.write_bytes(gaussian_map(c["ra"], c["dec"], 3.0, Time(c["jd"] - 0.5, format="jd").isot))
    d = page("/gw")
    d.find_element(By.CSS_SELECTOR, "#gw-upload input[type=file]").send_keys(str(path))
    wait(d).until(EC.text_to_be_present_in_element((By.ID, "gw-upload-label"), "bayestar.fits.gz"))
    d.find_element(By.ID, "gw-search").click()
    wait(d, 40).until(EC.presence_of_element_located((By.ID, "gw-count")))
    assert re.fullmatch(r"\d+ ZTF objects", d.find_element(By.ID, "gw-count").text)
    links = wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#gw-grid a"))  # the table's rows, linked
    assert all(re.search(r"/ZTF\d{2}[a-z]{7}$", a.get_attribute("href")) for a in links)
    assert len(d.find_elements(By.CSS_SELECTOR, "#gw-sky .scatterlayer .trace")) == 2  # the region and the objects
