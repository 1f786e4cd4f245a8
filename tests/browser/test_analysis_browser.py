"""An analysis in Chromium, the whole round trip for real: the example service runs on the port
the server's allowlist admits, an admin registers it over HTTP, a user signs in on the object
page, picks the service and a parameter, runs it; gunicorn's dispatcher sends the object's
data, the service calls the webhook back, and the card shows the state, then the results and
the plot; its owner deletes it."""
from __future__ import annotations

import json
import secrets
import urllib.request

import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from api import auth
from conftest import make_config
from portal_helpers import OBJECT
from portal_server import ANALYSIS_SERVICE_PORT, DATA_DIRS, browser, downloads, page, portal_url  # noqa: F401 - fixtures
from services.example_fitter import serve
from store import open_store

SECRET = secrets.token_urlsafe(16)  # a fresh header token each run (no literal secret in the repository)


def wait(driver, timeout=30):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture(scope="module")
def fitter(portal_url):  # noqa: F811
    """The example service, registered by an admin through the API; a user who may run it."""
    with open_store(make_config("embedded", DATA_DIRS[portal_url].parent)) as store:
        auth.add_user(store, "root-analyst", roles=["admin"])
        admin, _ = auth.issue_token(store, "root-analyst", ["admin"])
        auth.add_user(store, "ada", password="lovelace engine")
    service = serve(ANALYSIS_SERVICE_PORT, token=SECRET)
    body = {"name": "fitter", "url": f"http://127.0.0.1:{ANALYSIS_SERVICE_PORT}/analyse", "description": "line fit",
            "auth": "header", "secret": SECRET, "data_types": ["detections"],
            "parameters": {"model": ["linear", "quadratic"]}, "timeout": 60}
    request = urllib.request.Request(portal_url + "/api/v1/analysis/services", data=json.dumps(body).encode(),
                                     method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": f"token {admin}"})
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201
    yield service
    service.shutdown()


def states(d) -> list[str]:
    return [e.text for e in d.find_elements(By.CSS_SELECTOR, "#an-list .analysis-state")]


def test_run_an_analysis_from_the_object_page(page, fitter):
    d = page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.ID, "analyses")))
    if d.find_element(By.ID, "ann-add-box").is_displayed():  # a session of another test may remain
        d.find_element(By.ID, "ann-signout").click()
        wait(d).until(EC.visibility_of_element_located((By.ID, "ann-signin-box")))
    assert not d.find_elements(By.ID, "an-start")
    assert "Sign in" in d.find_element(By.ID, "an-controls").text

    d.find_element(By.ID, "ann-user").send_keys("ada")
    d.find_element(By.ID, "ann-password").send_keys("lovelace engine")
    d.find_element(By.ID, "ann-signin").click()
    wait(d).until(EC.element_to_be_clickable((By.ID, "an-start")))
    assert "fitter" in d.find_element(By.ID, "an-service").text

    d.find_element(By.CSS_SELECTOR, "#an-params .dash-dropdown-trigger").click()   # model: quadratic
    wait(d).until(EC.element_to_be_clickable(
        (By.XPATH, "//*[contains(@class, 'dash-dropdown-option')][normalize-space()='quadratic']"))).click()
    wait(d).until(lambda d: "quadratic" in d.find_element(By.ID, "an-params").text)
    d.find_element(By.ID, "an-start").click()

    wait(d).until(lambda d: "queued" in d.find_element(By.ID, "an-msg").text)
    wait(d).until(lambda d: states(d)[:1] == ["completed"])   # polled: nobody reloads the page
    sent = fitter.received[-1]
    assert sent["objectId"] == OBJECT and sent["parameters"] == {"model": "quadratic"}
    assert sent["callback_url"].startswith(d.current_url.split(f"/{OBJECT}")[0] + "/api/v1/webhook/analysis/")
    detections = sent["data"]["photometry"]["detections"]
    assert detections and all(p["magpsf"] is not None for p in detections)

    item = d.find_element(By.CSS_SELECTOR, "#an-list li.analysis-completed")
    assert "model=quadratic" in item.text and "ada" in item.text
    assert '"quadratic"' in item.find_element(By.CSS_SELECTOR, ".analysis-results").text
    plot = item.find_element(By.CSS_SELECTOR, "img.analysis-plot")
    assert plot.get_attribute("src").startswith("data:image/svg+xml;base64,")
    assert d.execute_script("return arguments[0].complete && arguments[0].naturalWidth", plot) == 400

    item.find_element(By.XPATH, ".//button[text()='delete']").click()
    wait(d).until(lambda d: "No analysis yet" in d.find_element(By.ID, "an-list").text)
    d.refresh()
    wait(d).until(EC.presence_of_element_located((By.ID, "analyses")))
    assert "No analysis yet" in d.find_element(By.ID, "an-list").text
