"""The search bar's language: each kind of query, sexagesimal input, helpful refusals."""
import pytest

from apps import search as S


def test_an_object_id_is_an_object_search():
    assert S.parse(" ZTF23abjexnw ") == S.Search("objectId", {"objectId": "ZTF23abjexnw"})


def test_a_cone_in_degrees_and_in_sexagesimal():
    deg = S.parse("5.38 54.69 30")
    assert deg.kind == "cone" and deg.params == {"ra": 5.38, "dec": 54.69, "radius": 30.0}
    sexa = S.parse("00:21:31.2 +54:41:24 30")
    assert sexa.params["ra"] == pytest.approx(5.38) and sexa.params["dec"] == pytest.approx(54.69)
    spaced = S.parse("00 21 31.2 +54 41 24 30")
    assert spaced.params["ra"] == pytest.approx(5.38) and spaced.params["radius"] == 30


def test_class_date_and_solar_system_searches():
    assert S.parse("class: SN candidate") == S.Search("class", {"class": "SN candidate", "n": 100})
    day = S.parse("date: 2023-10-18")
    assert day.kind == "date" and day.params["stop"] - day.params["start"] == pytest.approx(1)
    window = S.parse("2023-10-18 2023-10-20")
    assert window.params["stop"] - window.params["start"] == pytest.approx(2)
    assert S.parse("sso: 4712") == S.parse("4712") == S.Search("sso", {"name": "4712"})


@pytest.mark.parametrize("text, words", [
    ("", "objectId"), ("ZTF23abj", "not a complete ZTF objectId"), ("5.38 54.69", "ra dec radius"),
    ("500 54 30", "ra must be"), ("class:", "give a class"), ("date: 2023-10-20 2023-10-18", "after its start"),
    ("date: tomorrow", "a date such as"),
])
def test_what_is_not_understood_is_explained(text, words):
    with pytest.raises(S.SearchError, match=words):
        S.parse(text)


def test_every_example_parses_and_has_an_api_call():
    for text in S.EXAMPLES.values():
        endpoint, params = S.api_call(S.parse(text))
        assert endpoint in ("objects", "conesearch", "latests", "explorer", "sso") and params
    curl = S.curl_snippet("http://h", *S.api_call(S.parse("5.38 54.69 30")))
    assert curl == "curl 'http://h/api/v1/conesearch?ra=5.38&dec=54.69&radius=30.0&output-format=csv'"
    assert "requests.post(" in S.python_snippet("http://h", "objects", {"objectId": "ZTF23abjexnw"})
