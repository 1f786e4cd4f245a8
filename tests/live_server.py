"""A live HTTP server for clients nobody here wrote (requests, pyvo): the API in a werkzeug
server thread over one store holding, for both surveys, real alerts (../shared/data) and
simulated ones (the simulator, a night each). Made once per session by ``live``."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest
from werkzeug.serving import make_server

from tests.conftest import RUBIN_NIGHT, make_config, shared_data

SIM_RUBIN_START = "2027-01-01"  # after the real Rubin night, so each alert's time says where it came from
SIM_ZTF_START = "2025-01-01"
JD_SPLIT = 2460676.5  # 2025-01-01: real ZTF alerts before, simulated after
MJD_SPLIT = 61406.0   # 2027-01-01


@dataclass
class Live:
    url: str
    token: str
    app: object
    config: object
    ztf: dict = field(default_factory=dict)    # "real"/"sim" -> objectIds with cutouts
    rubin: dict = field(default_factory=dict)  # "real"/"sim" -> diaObjectIds


def serve(app):
    """``(url, stop)`` of ``app`` served over HTTP on a free port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        thread.join(5)
    return f"http://127.0.0.1:{server.server_port}", stop


def _ids(cfg) -> tuple[dict, dict]:
    from hbase_schema import get_schema
    from store import open_store
    ztf, rubin = {"real": [], "sim": []}, {"real": [], "sim": []}
    with open_store(cfg) as store:
        main = store.table("main")
        for key in main.read(ranges=[(None, None)], columns=[]).keys:
            parts = main.keys.parse(key)
            group = ztf["real" if parts["jd"] < JD_SPLIT else "sim"]
            if parts["objectId"] not in group:
                group.append(parts["objectId"])
    with open_store(cfg, schema=get_schema("rubin")) as store:
        objects = store.table("objects").read(ranges=[(None, None)], columns=["r:diaObjectId", "r:midpointMjdTai"])
        for oid, mjd in zip(objects["r:diaObjectId"], objects["r:midpointMjdTai"]):
            rubin["real" if mjd < MJD_SPLIT else "sim"].append(int(oid))
    return ztf, rubin


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    data = shared_data()
    from api import auth, create_api_app
    from ingest.night import ingest
    from ingest.simulator.cli import main as simulate
    from store import open_store
    tmp = tmp_path_factory.mktemp("live")
    cfg = make_config("embedded", tmp).replace(api_rate_limit=0)
    ingest(data / "ztf-night-2023-10-18", cfg, show_progress=False)
    ingest(data / RUBIN_NIGHT, cfg, show_progress=False)
    for survey, start in (("ztf", SIM_ZTF_START), ("rubin", SIM_RUBIN_START)):
        out = tmp / f"sim-{survey}"
        assert simulate([str(out), "--quiet", "--survey", survey, "--nights", "1", "--alerts-per-night", "60",
                         "--seed", "5", "--start-date", start]) == 0
        ingest(out, cfg, show_progress=False)
    with open_store(cfg) as store:
        auth.add_user(store, "ada")
        token = auth.issue_token(store, "ada", ["annotate"])[0]
    app = create_api_app(cfg)
    url, stop = serve(app)
    ztf, rubin = _ids(cfg)
    assert all(ztf.values()) and all(rubin.values()), (ztf, rubin)
    yield Live(url, token, app, cfg, ztf, rubin)
    stop()
