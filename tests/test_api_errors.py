"""The error contract: every bad input gets a 4xx with one JSON shape naming the problem."""
import pytest

Q = "/api/v1/"
BAD = [
    # (path, query, status, words the message must contain)
    ("objects", {}, 400, "objectId"),
    ("objects", {"objectId": ""}, 400, "objectId"),
    ("objects", {"objectId": "ZTF18acaxelp", "withupperlim": "maybe"}, 400, "withupperlim"),
    ("objects", {"objectId": "ZTF18acaxelp", "columns": "i:nosuch"}, 400, "i:nosuch"),
    ("objects", {"objectId": "ZTF18acaxelp", "columns": "magpsf"}, 400, "magpsf"),
    ("objects", {"objectId": "ZTF18acaxelp", "output-format": "xlsx"}, 400, "output-format"),
    ("objects", {"objectId": "ZTF18acaxelp", "cutout-kind": "Red"}, 400, "cutout-kind"),
    ("conesearch", {"dec": 1, "radius": 2}, 400, "ra"),
    ("conesearch", {"ra": "abc", "dec": 1, "radius": 2}, 400, "'ra'"),
    ("conesearch", {"ra": 400, "dec": 1, "radius": 2}, 400, "'ra'"),
    ("conesearch", {"ra": 10, "dec": 91, "radius": 2}, 400, "'dec'"),
    ("conesearch", {"ra": 10, "dec": "-01:75:00", "radius": 2}, 400, "'dec'"),
    ("conesearch", {"ra": "-1:00:00", "dec": 1, "radius": 2}, 400, "'ra'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": 20000}, 400, "'radius'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": -1}, 400, "'radius'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": "nan"}, 400, "'radius'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": 2, "n": 0}, 400, "'n'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": 2, "n": "ten"}, 400, "'n'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": 2, "startdate": "yesterday"}, 400, "'startdate'"),
    ("conesearch", {"ra": 10, "dec": 1, "radius": 2, "startdate": "1066-10-14"}, 400, "'startdate'"),
    ("conesearch", {"ra": "12d30m", "dec": 1, "radius": 2}, 400, "'ra'"),
    ("conesearch", {"ra": 10, "dec": "1h02m03s", "radius": 2}, 400, "'dec'"),
    ("explorer", {}, 400, "exactly one group"),
    ("explorer", {"objectId": "ZTF18acaxelp", "ra": 1, "dec": 1, "radius": 2}, 400, "exactly one group"),
    ("explorer", {"ra": 1, "dec": 1}, 400, "radius"),
    ("explorer", {"startdate": "2023-10-18", "window": 500}, 400, "'window'"),
    ("latests", {}, 400, "class"),
    ("sso", {}, 400, "n_or_d"),
    ("cutouts", {}, 400, "objectId"),
    ("cutouts", {"objectId": "ZTF18acaxelp", "kind": "All"}, 400, "array"),
    ("cutouts", {"objectId": "ZTF18acaxelp", "stretch": "cubic"}, 400, "stretch"),
    ("cutouts", {"objectId": "ZTF18acaxelp", "colormap": "nosuchmap"}, 400, "colormap"),
    ("cutouts", {"objectId": "ZTF18acaxelp", "pmin": 90, "pmax": 10}, 400, "pmin"),
    ("cutouts", {"objectId": "ZTF18acaxelp", "candid": 123}, 404, "123"),
    ("cutouts", {"objectId": "ZTF18acaxelp", "output-format": "jpeg"}, 400, "output-format"),
    ("xmatch", {}, 400, "catalog"),
    ("xmatch", {"catalog": "RA,Dec,ID\n1,2,a", "header": "ra,dec,id"}, 400, "no column"),
    ("xmatch", {"catalog": "RA,Dec,ID\n1,abc,a", "header": "RA,Dec,ID"}, 400, "row 2"),
    ("xmatch", {"catalog": "RA,Dec,ID\n1,2,a", "header": "RA"}, 400, "header"),
    ("statistics", {"date": "2023-10"}, 400, "'date'"),
    ("random", {}, 400, "'n'"),
    ("random", {"n": 2, "seed": "abc"}, 400, "'seed'"),
    ("nosuchendpoint", {}, 404, "no such endpoint"),
]


def check(resp, status, words):
    assert resp.status_code == status, (resp.status_code, resp.data[:300])
    assert resp.content_type.startswith("application/json")
    body = resp.get_json()
    assert set(body) == {"status", "message", "text"} and body["status"] == "error"
    assert body["text"] == body["message"]  # text: where Fink's clients read the sentence
    assert words.lower() in body["message"].lower(), body["message"]
    assert "Traceback" not in body["message"] and "<" not in body["message"][:1]


@pytest.mark.parametrize("path,query,status,words", BAD, ids=[f"{p}-{i}" for i, (p, *_x) in enumerate(BAD)])
def test_bad_input_gets_one_json_error_shape(api, path, query, status, words):
    check(api.get(Q + path, query_string=query), status, words)


@pytest.mark.parametrize("path,query,status,words", BAD[:12], ids=[f"post-{p}-{i}" for i, (p, *_x) in enumerate(BAD[:12])])
def test_bad_input_by_post_too(api, path, query, status, words):
    check(api.post(Q + path, json=query), status, words)


# Asked of Fink, these are not errors: Fink answers 200 (an empty list, or the request
# without what it does not know). We answer as Fink does, and say why in a Warning header.
NOT_ERRORS = [
    ("objects", {"objectId": "ZTF00nothing"}, "ZTF00nothing", 0),
    ("objects", {"objectId": "ZTF18acaxelp", "objectid": "x"}, "did you mean objectId?", 2),
    ("conesearch", {"ra": 10, "dec": 1, "radius": 2, "startdate": "2023-10-18", "stopdate": "2023-10-01"},
     "empty date range", 0),
    ("conesearch", {"ra": 3.38, "dec": 52.69, "radius": 2, "startdate": "2023-10-17", "stopdate": "2023-10-19",
                    "window": 0.001}, "'window' ignored", None),
    ("latests", {"class": "Solar System MPC", "n": 100000, "columns": "i:objectId"}, "'n' = 100000", None),
    ("random", {"n": 17, "columns": "i:candid"}, "16 used", 16),
]


@pytest.mark.parametrize("path,query,words,count", NOT_ERRORS, ids=[f"{p}-{i}" for i, (p, *_x) in enumerate(NOT_ERRORS)])
def test_what_fink_accepts_is_200_with_a_warning(api, path, query, words, count):
    resp = api.get(Q + path, query_string=query)
    assert resp.status_code == 200, resp.data[:300]
    assert words in resp.headers["Warning"], resp.headers["Warning"]
    got = resp.get_json()
    assert isinstance(got, list) and (count is None and got or len(got) == count), got[:3]


def test_too_many_objects_in_one_request(api):
    ids = ",".join(f"ZTF{i:09d}" for i in range(1001))
    check(api.post(Q + "objects", json={"objectId": ids}), 400, "at most 1000")


def test_malformed_json_body_and_wrong_method(api):
    check(api.post(Q + "objects", data="{not json"), 400, "not valid JSON")
    check(api.post(Q + "objects", data="[1, 2]"), 400, "object")
    check(api.delete(Q + "objects"), 405, "not allowed")


def test_too_large_a_body_is_413(api):
    big = "RA,Dec,ID\n" + "1.0,2.0,x\n" * 1_900_000
    check(api.post(Q + "xmatch", json={"catalog": big, "header": "RA,Dec,ID"}), 413, "too large")


def test_too_many_xmatch_rows_is_413(api):
    rows = "RA,Dec,ID\n" + "".join(f"{i % 360}.0,1.0,s{i}\n" for i in range(10001))
    check(api.post(Q + "xmatch", json={"catalog": rows, "header": "RA,Dec,ID"}), 413, "10000")
