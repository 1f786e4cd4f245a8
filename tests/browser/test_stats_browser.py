"""The statistics page in Chromium: the calendar heatmap and the cumulative counts are drawn."""
from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from portal_server import browser, downloads, page, portal_url  # noqa: F401 - fixtures


def test_statistics_page_draws_the_calendar_heatmap_and_cumulative_counts(page):
    d = page("/statistics")
    WebDriverWait(d, 20).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#stats-calendar .heatmaplayer image, "
                                                                        "#stats-calendar .hm image"))
    lines = d.find_elements(By.CSS_SELECTOR, "#stats-cumulative .scatterlayer .trace")
    assert len(lines) == 2
    assert "nights from" in d.find_element(By.ID, "stats-totals").text
