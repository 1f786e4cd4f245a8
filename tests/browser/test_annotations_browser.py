"""Annotations in Chromium: sign in, add an annotation (HTML in it stays text), find the object
by its tag and by its internal name, sign in with a token and delete it."""
from __future__ import annotations

import pytest
from selenium.common.exceptions import NoAlertPresentException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from api import auth
from conftest import make_config
from portal_helpers import OBJECT
from portal_server import DATA_DIRS, browser, downloads, page, portal_url  # noqa: F401 - fixtures
from store import open_store

TEXT = 'Fast riser <img src=x onerror="alert(1)"><script>alert(2)</script>'
TAG = "browsertag"


def wait(driver, timeout=20):
    return WebDriverWait(driver, timeout, ignored_exceptions=(StaleElementReferenceException,))


@pytest.fixture(scope="module")
def credentials(portal_url):  # noqa: F811
    """A user with a password and a token in the store the portal serves (this module's
    server: each browser module may start its own, DATA_DIRS says which store is whose)."""
    with open_store(make_config("embedded", DATA_DIRS[portal_url].parent)) as store:
        auth.add_user(store, "vera", password="rubin observatory")
        token, _ = auth.issue_token(store, "vera", ["annotate"])
    return {"user": "vera", "password": "rubin observatory", "token": token}


def sign_in(d, **fields):
    for name, value in fields.items():
        d.find_element(By.ID, f"ann-{name}").send_keys(value)
    d.find_element(By.ID, "ann-signin").click()
    wait(d).until(EC.visibility_of_element_located((By.ID, "ann-add-box")))


def test_add_an_annotation_then_find_the_object_by_its_tag(page, credentials):
    d = page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.ID, "annotations")))
    assert not d.find_element(By.ID, "ann-add-box").is_displayed()
    sign_in(d, user=credentials["user"], password=credentials["password"])
    assert "Signed in as vera" in d.find_element(By.ID, "ann-who").text

    d.find_element(By.ID, "ann-text").send_keys(TEXT)
    d.find_element(By.ID, "ann-tags").send_keys(f"{TAG}, Followup")
    d.find_element(By.ID, "ann-name").send_keys("BT 2023a")
    d.find_element(By.ID, "ann-add").click()
    wait(d).until(lambda d: TEXT in d.find_element(By.ID, "ann-list").text)

    shown = [e.text for e in d.find_elements(By.CSS_SELECTOR, "#ann-list .ann-text")]
    assert TEXT in shown                                   # the markup is shown as text...
    assert not d.find_elements(By.CSS_SELECTOR, "#ann-list img, #ann-list script")  # ...and never parsed
    with pytest.raises(NoAlertPresentException):
        d.switch_to.alert.text

    d.find_element(By.LINK_TEXT, f"#{TAG}").click()
    wait(d).until(lambda d: "tag" in d.current_url and TAG in d.current_url)
    wait(d).until(EC.text_to_be_present_in_element((By.ID, "search-results"), "objects tagged browsertag"))
    wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, f".results-grid a[href='/{OBJECT}']"))
    assert "1 object" in d.find_element(By.ID, "results-count").text

    d = page("/?q=name%3A%20bt%202023A")
    wait(d).until(lambda d: d.find_elements(By.CSS_SELECTOR, f".results-grid a[href='/{OBJECT}']"))


def test_sign_in_with_a_token_and_delete_ones_own_annotation(page, credentials):
    d = page(f"/{OBJECT}")
    wait(d).until(EC.presence_of_element_located((By.ID, "annotations")))
    if not d.find_element(By.ID, "ann-add-box").is_displayed():  # the session of the test before may remain
        sign_in(d, token=credentials["token"])
    d.find_element(By.ID, "ann-text").send_keys("to be deleted")
    d.find_element(By.ID, "ann-add").click()
    wait(d).until(lambda d: "to be deleted" in d.find_element(By.ID, "ann-list").text)
    item = d.find_element(By.XPATH, "//li[contains(@class, 'annotation')][.//p[text()='to be deleted']]")
    item.find_element(By.XPATH, ".//button[text()='delete']").click()
    wait(d).until(lambda d: "to be deleted" not in d.find_element(By.ID, "ann-list").text)
    assert TEXT in d.find_element(By.ID, "ann-list").text

    d.find_element(By.ID, "ann-signout").click()
    wait(d).until(EC.visibility_of_element_located((By.ID, "ann-signin-box")))
    d.refresh()
    wait(d).until(EC.presence_of_element_located((By.ID, "annotations")))
    assert not d.find_element(By.ID, "ann-add-box").is_displayed()
