"""The Rubin portal in Chromium, on the real Rubin alerts: the survey switch, a diaObjectId typed in
the search bar, the object page's light curve (ugrizy, forced photometry), summary and cutouts.
The `page` fixture fails a test whose page logged a console error."""
from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from portal_helpers import RUBIN_OBJECT
from portal_server import browser, downloads, page, portal_url  # noqa: F401 - fixtures

OBJ = str(RUBIN_OBJECT)


def wait(driver, timeout=30):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


def legend(d) -> set[str]:
    return {e.text for e in d.find_elements(By.CSS_SELECTOR, "#rubin-lc-graph .legend .legendtext")}


def test_a_diaobjectid_search_opens_the_rubin_object_page(page):
    d = page("/")
    d.find_element(By.ID, "survey-rubin").click()
    wait(d).until(lambda d: "survey=rubin" in d.current_url)
    wait(d).until(lambda d: "survey-on" in d.find_element(By.ID, "survey-rubin").get_attribute("class"))
    box = wait(d).until(EC.presence_of_element_located((By.ID, "search-input")))
    box.send_keys(OBJ, Keys.ENTER)
    wait(d).until(lambda d: f"q={OBJ}" in d.current_url and "survey=rubin" in d.current_url)
    wait(d).until(EC.text_to_be_present_in_element((By.ID, "results-count"), "1 Rubin object"))
    wait(d).until(EC.element_to_be_clickable((By.LINK_TEXT, OBJ))).click()

    wait(d).until(lambda d: d.current_url.endswith(f"/lsst/{OBJ}"))
    wait(d).until(EC.text_to_be_present_in_element((By.ID, "rubin-object-title"), OBJ))
    # the light curve: points drawn, six bands and their forced photometry in the legend
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#rubin-lc-graph .scatterlayer .points path")))
    wait(d).until(lambda d: set("ugrizy") <= legend(d))
    assert any(name.endswith(" forced") for name in legend(d))
    # the summary of the newest diaObject and Fink's classification
    summary = d.find_element(By.ID, "rubin-summary").text
    assert "diaSources" in summary and "1173" in summary
    assert "Fink classification" in d.find_element(By.ID, "rubin-classification").text
    # the survey switch says Rubin on a Rubin object page
    assert "survey-on" in d.find_element(By.ID, "survey-rubin").get_attribute("class")
    # the three cutouts load as images
    imgs = d.find_elements(By.CSS_SELECTOR, "#rubin-cutouts img")
    assert len(imgs) == 3
    for img in imgs:
        wait(d).until(lambda d, img=img: d.execute_script(
            "return arguments[0].complete && arguments[0].naturalWidth > 0", img))


def test_the_rubin_light_curve_switches_to_magnitudes_and_hides_forced_points(page):
    d = page(f"/lsst/{OBJ}")
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#rubin-lc-graph .scatterlayer .points path")))
    d.find_element(By.XPATH, "//label[contains(., 'AB magnitude')]").click()
    wait(d).until(lambda d: "AB magnitude (from psfFlux)" in d.find_element(By.ID, "rubin-lc-graph").text)
    d.find_element(By.XPATH, "//label[contains(., 'forced photometry')]").click()
    wait(d).until(lambda d: legend(d) and not any(n.endswith(" forced") for n in legend(d)))
    assert set("ugrizy") <= legend(d)


def test_the_variable_star_tab_opens_on_a_rubin_object_and_draws_its_fit(page):
    """The ZTF page's tab on Rubin data: the background job runs and the folded curve is drawn
    over Rubin's bands, in AB magnitudes from the science-image flux."""
    d = page(f"/lsst/{OBJ}")
    wait(d).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#rubin-lc-graph .scatterlayer .points path")))
    d.find_element(By.XPATH, "//*[contains(@class, 'tab')][normalize-space(.)='Variable star']").click()
    wait(d, 90).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#vs-folded .scatterlayer .points path")))
    folded = d.find_element(By.ID, "vs-folded").text
    assert "scienceFlux" in folded and "Folded at P" in folded
    assert {"u", "g", "r", "i", "z", "y"} <= {e.text.split()[0] for e in d.find_elements(
        By.CSS_SELECTOR, "#vs-folded .legend .legendtext")}
