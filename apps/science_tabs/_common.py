"""What the science tabs share: running a fit, its messages, the background job manager.

A fit goes through :func:`api.queries.fit`, which caches it per object, data and
parameters in the process, under the same time budget as an API request: the science
code refuses parameters whose work is too large, and a fit still running when the budget
passes is killed, so a job never hangs. Fits that can take more than half a second (variable star,
microlensing) run as Dash background callbacks: each job is a forked process that writes
its result to a disk cache shared by every gunicorn worker, so a worker is
never blocked and a result computed once is served to any worker from the disk cache
(keyed by the callback's inputs, which carry the object's data version). The job opens
its own store (:func:`api.portal_gateway.job_store`).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from dash import DiskcacheManager, dcc, html

from api import portal_gateway as G
from api import queries as q
from apps.science_tabs.survey import ZTF

CACHE_EXPIRE_S = 6 * 3600
_managers: dict[Path, DiskcacheManager] = {}


def manager(cache_dir: Path) -> DiskcacheManager:
    """The background callback manager on the disk cache in ``cache_dir`` (the setting
    ``dash_jobs_dir``), one per directory and process, created on first use."""
    if cache_dir not in _managers:
        import diskcache
        _managers[cache_dir] = DiskcacheManager(diskcache.Cache(str(cache_dir)), expire=CACHE_EXPIRE_S)
    return _managers[cache_dir]


def data_version(store, object_id: str, survey=ZTF) -> dict:
    """Object id and what identifies its data (count, last jd): a new night changes it;
    with the survey's name for any survey but ZTF (:mod:`apps.science_tabs.survey`)."""
    return survey.data_version(store, object_id)


def run_fit(store, object_id: str, kind: str, history: str = "good", survey=ZTF,
            **params) -> tuple[dict | None, str | None]:
    """(result, None), or (None, a message saying why this light curve cannot be fitted).
    ``history``: the survey's choice of photometry (ZTF: earlier detections; Rubin: forced)."""
    try:
        with q.time_budget(G.config().query_time_budget_s):
            return survey.fit(store, object_id, kind, history, **params), None
    except q.QueryTooLarge as exc:
        return None, f"This fit was stopped: {exc}"
    except LookupError:
        return None, survey.missing(object_id)
    except ValueError as exc:
        return None, f"Cannot fit this light curve: {exc}"


HISTORY_OPTIONS = ZTF.photometry


def history_control(id_: str, value: str | None = None, survey=ZTF, kind: str = "varstar") -> html.Label:
    """The choice of the photometry a fit (``kind``) uses: ZTF, the alerts' earlier detections
    (the fit endpoints' ``history``); Rubin, the forced photometry or not (``withfp``)."""
    return html.Label(className="science-input", children=[
        "photometry", dcc.RadioItems(id=id_, options=survey.photometry,
                                     value=value or survey.default_photometry[kind], inline=True)])


def warning_box(result: dict) -> html.Div | None:
    """The fit's quality warnings (``result["warnings"]``, each {code, message}) as a visible
    box above its parameters, or None when there is none."""
    found = (result or {}).get("warnings") or []
    if not found:
        return None
    return html.Div(className="science-warnings", role="alert", children=[
        html.Strong(f"This fit may not be trusted ({len(found)} warning{'s' if len(found) > 1 else ''}):"),
        html.Ul([html.Li(w.get("message", ""), title=w.get("code", ""), className=f"warning-{w.get('code', '')}")
                 for w in found])])


def message(text: str, kind: str = "info") -> html.Div:
    """A sentence in place of a plot: why there is nothing to show."""
    return html.Div(text, className=f"science-message science-{kind}", role="status")


def fmt(value, err=None, digits: int = 3) -> str:
    """``value ± err`` with ``digits`` decimals; an em dash when missing."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "—"
    text = f"{value:.{digits}f}"
    if err is not None and np.isfinite(err):
        text += f" ± {err:.{digits}f}"
    return text


def param_table(rows: list[tuple[str, str]], caption: str | None = None) -> html.Table:
    """A two-column table of named values."""
    body = [html.Tr([html.Th(name), html.Td(value)]) for name, value in rows]
    return html.Table(className="science-params", children=([html.Caption(caption)] if caption else []) + body)


def open_once(tabs: dict, tab: str, drawn: list | None, render) -> list:
    """The outputs of a page's tab-opening callback: ``render(module)`` in the opened tab of
    ``tabs`` ({key: (label, module)}) the first time only, no update elsewhere, then the keys
    drawn so far; a tab already drawn keeps its state (nothing is sent)."""
    from dash import no_update
    drawn = list(drawn or [])
    if tab not in tabs or tab in drawn:
        return [no_update] * len(tabs) + [no_update]
    return [render(tabs[key][1]) if key == tab else no_update for key in tabs] + [drawn + [tab]]
