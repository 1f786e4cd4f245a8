"""The survey switch of the top bar: ZTF (/) or Rubin (/?survey=rubin), the survey of the
current URL highlighted (an object page under /lsst is Rubin's), so any URL stays shareable."""
from __future__ import annotations

from urllib.parse import parse_qs

from dash import Input, Output, dcc, html

from apps.callbacks import callback

SURVEYS = (("ztf", "ZTF", "/"), ("rubin", "Rubin", "/?survey=rubin"))


def survey_of(pathname: str | None, search: str | None) -> str:
    """``rubin`` for a Rubin page (/lsst/...) or a URL with ``survey=rubin``, else ``ztf``."""
    if (pathname or "").startswith("/lsst/"):
        return "rubin"
    return "rubin" if parse_qs((search or "").lstrip("?")).get("survey", [""])[0] == "rubin" else "ztf"


def switch() -> html.Div:
    return html.Div(className="survey-switch", role="group", **{"aria-label": "Survey"}, children=[
        dcc.Location(id="survey-url"),
        *[dcc.Link(label, href=href, id=f"survey-{key}", className="survey survey-on" if key == "ztf" else "survey")
          for key, label, href in SURVEYS],
    ])


@callback([Output(f"survey-{key}", "className") for key, _, _ in SURVEYS],
          Input("survey-url", "pathname"), Input("survey-url", "search"))
def highlight(pathname, search):
    current = survey_of(pathname, search)
    return ["survey survey-on" if key == current else "survey" for key, _, _ in SURVEYS]
