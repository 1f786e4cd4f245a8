"""Fuzzing the API from its own OpenAPI spec (schemathesis): every endpoint, GET and POST,
a bounded number of generated requests each, over the real nights (ZTF, and Rubin for /lsst). Checks: no server
error, and every response conforms to the spec (documented status code, content type,
headers, body schema, Allow on 405).

Left out: schemathesis's two request-strictness checks (schema-valid requests must be
accepted, schema-violating ones refused). The spec cannot express all of our validation
(sexagesimal coordinates, dates, known column names, cross-parameter rules), so a
schema-valid request may rightly get a 400; responses are still held to the spec."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from conftest import make_config, shared_data

MAX_EXAMPLES = 25


@pytest.fixture(scope="session")
def api_schema(tmp_path_factory):
    from api import create_api_app
    from ingest.night import ingest
    cfg = make_config("embedded", tmp_path_factory.mktemp("fuzz")).replace(api_rate_limit=0,
                                                                           query_time_budget_s=5)
    ingest(shared_data() / "ztf-night-2023-10-18", cfg, show_progress=False)
    ingest(shared_data() / "rubin-fink-2026-03-10", cfg, show_progress=False)  # the /lsst routes' tables
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", create_api_app(cfg))


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case):
    case.call_and_validate(excluded_checks=[positive_data_acceptance, negative_data_rejection])
