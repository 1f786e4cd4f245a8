"""The sky views in Chromium: Aladin Lite loads from our own server and receives our objects
(results page and the object page's Sky tab), or, without WebGL2, says so.

Offline (as here and in CI) the HiPS tiles cannot load: the views still draw our points and
say that the sky images are unavailable. The only console errors allowed are the failed
requests to the sky images' host (setting ``sky_images``), which are network errors."""
from __future__ import annotations

import re
import time

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from apps.components import sky
from conftest import need
from portal_helpers import OBJECT
from portal_server import browser, downloads, portal_url, sky_image_network_error  # noqa: F401 - fixtures

CONE = "/?q=00%3A21%3A31.2%20%2B54%3A41%3A24%2030"


def wait(driver, timeout=30):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture
def sky_page(browser, portal_url):  # noqa: F811
    """Open a path; at the end, the console holds no error but failed requests to the images' host."""
    need(sky.installed(), "Aladin Lite not installed (scripts/aladin.sh: ./run.sh setup)")
    browser.get_log("browser")

    def open_(path: str):
        browser.get(portal_url + path)
        return browser

    yield open_
    errors = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    unexpected = [m for m in errors if not sky_image_network_error(m)]
    assert not unexpected, f"console errors: {unexpected}"


def settled(d, css):
    """The view's div once sky.js is done with it (ready, no WebGL2 or failed)."""
    wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, css)
                  and d.find_element(By.CSS_SELECTOR, css).get_attribute("data-sky-state") in ("ready", "no-webgl", "failed"))
    return d.find_element(By.CSS_SELECTOR, css)


def check_view(d, div, expected_points: int):
    state = div.get_attribute("data-sky-state")
    assert state != "failed", div.text
    assert int(div.get_attribute("data-sky-points")) == expected_points
    if state == "no-webgl":
        assert "needs WebGL2" in div.find_element(By.CLASS_NAME, "sky-message").text
        return
    assert int(div.get_attribute("data-sky-sources")) == expected_points  # counted on Aladin's catalogues
    assert div.find_elements(By.TAG_NAME, "canvas")
    wait(d).until(lambda d: div.get_attribute("data-sky-images") in ("loaded", "unavailable"))
    if div.get_attribute("data-sky-images") == "unavailable":
        note = div.find_element(By.XPATH, "..").find_element(By.CLASS_NAME, "sky-images-note").text
        assert "Sky images unavailable" in note and "only our objects are drawn" in note


def test_results_page_shows_its_objects_in_aladin(sky_page):
    d = sky_page(CONE)
    wait(d).until(EC.presence_of_element_located((By.ID, "results-count")))
    n = int(d.find_element(By.ID, "results-count").text.split()[0])
    assert n > 1
    div = d.find_element(By.CSS_SELECTOR, "#results-aladin .sky-canvas")
    d.execute_script("arguments[0].scrollIntoView()", div)  # Aladin Lite loads when the view comes into sight
    check_view(d, settled(d, "#results-aladin .sky-canvas"), n)


def aladin_fetched(d) -> bool:
    return d.execute_script("return performance.getEntriesByType('resource')"
                            ".some(function (e) { return e.name.indexOf('aladin-lite/aladin.js') >= 0; })")


def test_aladin_lite_is_fetched_only_when_a_sky_view_comes_into_sight(sky_page):
    d = sky_page("/")
    size = d.get_window_size()
    d.set_window_size(1400, 700)  # the results' sky view then sits below the fold
    try:
        d.get(d.current_url.split("/?")[0].rstrip("/") + CONE)
        div = wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#results-aladin .sky-canvas")))
        wait(d).until(EC.presence_of_element_located((By.ID, "results-count")))
        time.sleep(1.5)  # time enough for a fetch started at once to show in the resource entries
        assert d.execute_script("return arguments[0].getBoundingClientRect().top > innerHeight + 100", div)
        assert not aladin_fetched(d) and div.get_attribute("data-sky-state") is None
        d.execute_script("arguments[0].scrollIntoView()", div)
        settled(d, "#results-aladin .sky-canvas")
        assert aladin_fetched(d)
    finally:
        d.set_window_size(size["width"], size["height"])


def test_object_sky_tab_shows_the_object_and_its_neighbours(sky_page):
    d = sky_page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.ID, "object-tabs")))
    d.find_element(By.XPATH, "//div[contains(@class, 'tab') and normalize-space(.)='Sky']").click()
    div = settled(d, "#object-aladin .sky-canvas")
    caption = d.find_element(By.CSS_SELECTOR, "#object-aladin .sky-caption").text
    others = int(re.search(r"and (\d+) other object", caption).group(1))
    check_view(d, div, others + 1)
    assert f'"highlight": "{OBJECT}"' in div.get_attribute("data-sky")
