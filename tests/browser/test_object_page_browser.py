"""The object page's behaviour in Chromium: zoom kept through picks, feedback on points that are
not alerts, the legend clear of the plot at 400 px, labelled cutout choices, and science tabs
that keep their settings and result and show a fit in progress."""
from __future__ import annotations

import time

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal_helpers import OBJECT
from portal_server import browser, downloads, page, portal_url  # noqa: F401 - fixtures

GD = "document.querySelector('#lc-graph .js-plotly-plot')"


def wait(driver, timeout=20, poll=0.5):
    return WebDriverWait(driver, timeout, poll_frequency=poll, ignored_exceptions=(StaleElementReferenceException,))


def open_object(page):
    d = page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#lc-graph .scatterlayer .points path")))
    return d


def trace_points(d, name_end: str):
    """The marker elements of the first light-curve trace whose name ends with ``name_end``."""
    index = d.execute_script(f"return {GD}.data.findIndex(t => (t.name || '').endsWith(arguments[0]))", name_end)
    assert index >= 0, name_end
    return index, d.find_elements(By.CSS_SELECTOR, f"#lc-graph .scatterlayer .trace:nth-child({index + 1}) .points path")


def detections(d):
    """(trace index, markers) of the first band's detections: the trace named "g" or "r"."""
    index = d.execute_script(f"return {GD}.data.findIndex(t => t.name === 'g' || t.name === 'r')")
    assert index >= 0
    return index, d.find_elements(By.CSS_SELECTOR, f"#lc-graph .scatterlayer .trace:nth-child({index + 1}) .points path")


def x_range(d) -> list:
    return d.execute_script(f"return {GD}._fullLayout.xaxis.range.slice()")


def test_picking_a_detection_keeps_the_zoom(page):
    d = open_object(page)
    index, points = detections(d)
    full = x_range(d)
    # a real drag-zoom (a GUI edit, as a user makes it) around the first detection, x only
    area = d.find_element(By.CSS_SELECTOR, "#lc-graph .nsewdrag")
    point = points[0]
    dx = point.location["x"] + point.size["width"] / 2 - area.location["x"]
    left, right = max(dx - 80, 2), min(dx + 80, area.size["width"] - 2)
    ActionChains(d).move_to_element_with_offset(area, int(left - area.size["width"] / 2), 0).click_and_hold() \
        .move_by_offset(10, 0).move_by_offset(int(right - left) - 10, 0).release().perform()
    wait(d).until(lambda d: x_range(d) != full)
    zoomed = x_range(d)

    candid = d.execute_script(f"return {GD}.data[arguments[0]].customdata[0][0]", index)
    assert f"candid={candid}" not in d.find_element(By.CSS_SELECTOR, "#cutouts img").get_attribute("src")  # a new pick
    _, points = detections(d)
    ActionChains(d).move_to_element(points[0]).pause(0.3).click().perform()
    wait(d).until(lambda d: f"candid={candid}" in d.find_element(By.CSS_SELECTOR, "#cutouts img").get_attribute("src"))
    # the figure was redrawn with the new pick (the ring moved to the picked point), and kept the zoom
    wait(d).until(lambda d: d.execute_script(
        f"const g = {GD}; const s = g.data.find(t => t.name === 'selected alert');"
        "return !!s && s.x[0] === g.data[arguments[0]].x[0]", index))
    assert x_range(d) == zoomed


def test_clicking_an_upper_limit_says_why_nothing_else_changes(page):
    d = open_object(page)
    before = d.find_element(By.CSS_SELECTOR, "#cutouts img").get_attribute("src")
    _, points = trace_points(d, "upper limit")
    ActionChains(d).move_to_element(points[len(points) // 2]).pause(0.3).click().perform()
    note = wait(d).until(lambda d: d.find_element(By.ID, "lc-pick-note").text)
    assert note.startswith("Upper limit at JD 24") and "no alert packet" in note and "no cutouts" in note
    assert d.find_element(By.CSS_SELECTOR, "#cutouts img").get_attribute("src") == before


def test_the_legend_clears_the_points_and_the_toolbar_at_400_px(page, browser):  # noqa: F811
    size = browser.get_window_size()
    browser.set_window_size(400, 900)
    try:
        d = open_object(page)
        wait(d).until(lambda d: d.find_element(By.ID, "lc-graph").size["width"] <= 400)
        boxes = d.execute_script(
            "const r = s => { const b = document.querySelector('#lc-graph ' + s).getBoundingClientRect();"
            " return [b.left, b.top, b.right, b.bottom]; };"
            "return {legend: r('.legend'), plot: r('.nsewdrag'), modebar: r('.modebar')};")
    finally:
        browser.set_window_size(size["width"], size["height"])

    def overlap(a, b):
        return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
    assert not overlap(boxes["legend"], boxes["plot"]), boxes
    assert not overlap(boxes["legend"], boxes["modebar"]), boxes


def test_cutout_choices_have_labels_and_accessible_names(page):
    d = open_object(page)
    for id_, label in (("cutout-stretch", "Stretch"), ("cutout-colormap", "Colour map")):
        control = d.find_element(By.ID, id_)
        assert control.accessible_name.startswith(label), (id_, control.accessible_name)
        assert d.find_element(By.XPATH, f"//label[@for='{id_}']").text == label


COUNT_FITS = """
window.__fits = 0;
const original = window.fetch;
window.fetch = function (url, opts) {
  const body = (opts && typeof opts.body === 'string') ? opts.body : '';
  if (body.includes('vs-results.children') && !String(url).includes('cacheKey')) window.__fits += 1;
  return original.apply(this, arguments);
};
"""


def test_variable_star_tab_keeps_its_settings_and_result_and_shows_progress(page):
    d = open_object(page)
    d.execute_script(COUNT_FITS)
    d.find_element(By.XPATH, "//*[contains(@class, 'tab')][normalize-space(.)='Variable star']").click()
    wait(d, 60).until(lambda d: d.find_element(By.ID, "vs-results").text.strip())
    first = d.find_element(By.ID, "vs-results").text
    assert d.execute_script("return window.__fits") == 1

    box = d.find_element(By.ID, "vs-pmin")
    box.clear()
    box.send_keys("0.2\t")
    d.find_element(By.ID, "vs-fit").click()
    # while the fit runs: the status line says so, the controls and the last result stay visible
    wait(d, 20, poll=0.05).until(lambda d: "running" in d.find_element(By.ID, "vs-status").get_attribute("class"))
    time.sleep(0.6)  # past the loading indicator's delay; a background job is polled once a second, so it still runs
    assert "running" in d.find_element(By.ID, "vs-status").get_attribute("class")
    running = {"status": d.find_element(By.ID, "vs-status").is_displayed(),
               "status text": d.find_element(By.ID, "vs-status").text,
               "controls": d.find_element(By.ID, "vs-pmin").is_displayed(),
               "previous result": d.find_element(By.ID, "vs-results").is_displayed()
               and d.find_element(By.ID, "vs-results").text == first}
    assert all(running.values()), running
    wait(d, 60).until(lambda d: "running" not in d.find_element(By.ID, "vs-status").get_attribute("class"))
    assert d.execute_script("return window.__fits") == 2
    result = d.find_element(By.ID, "vs-results").text

    d.find_element(By.XPATH, "//*[contains(@class, 'tab')][normalize-space(.)='Summary']").click()
    wait(d).until(EC.visibility_of_element_located((By.ID, "lc-graph")))
    d.find_element(By.XPATH, "//*[contains(@class, 'tab')][normalize-space(.)='Variable star']").click()
    wait(d).until(EC.visibility_of_element_located((By.ID, "vs-pmin")))
    assert d.find_element(By.ID, "vs-pmin").get_attribute("value") == "0.2"
    assert d.find_element(By.ID, "vs-results").text == result
    time.sleep(2)  # a rerun would have been requested by now
    assert d.execute_script("return window.__fits") == 2
