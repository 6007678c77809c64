"""Bad input on a page or a form is answered with the NHS.UK error summary naming the field and its limit,
never with "a problem with the service" (issue 15)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from web_fixture import build_web_store, signed_in

from uec.access.user import User
from uec.web import create_app

COORDINATOR = User("test-coordinator", "Test Coordinator", "QXX", frozenset({"coordinator", "analyst", "admin"}))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    store = build_web_store(tmp_path_factory.mktemp("input-errors") / "uec.duckdb")
    return TestClient(signed_in(create_app(store), COORDINATOR))


def summary(html: str) -> list[tuple[str, str]]:
    """(href, text) of each entry of the page's NHS.UK error summary."""
    box = html[html.index("nhsuk-error-summary"):]
    box = box[:box.index("</ul>")]
    return [(href, " ".join(text.split())) for href, text in re.findall(r'<a href="([^"]*)"\s*>(.*?)</a>', box, re.S)]


def post_form(client: TestClient, path: str, data: dict[str, str], page: str) -> str:
    token = re.findall(r'name="csrftoken" value="([^"]+)"', client.get(page).text)[0]
    r = client.post(path, data={**data, "csrftoken": token}, follow_redirects=False,
                    headers={"x-csrftoken": token, "referer": f"http://testserver{page}"})
    assert r.status_code in (400, 422), r.status_code
    assert "problem with the service" not in r.text
    return str(r.text)


@pytest.mark.parametrize(("url", "field", "limit"), [
    ("/standards?from=1900-01-01", "from", "1990-01-01"),
    ("/standards/ed-4hr?baseline=999", "baseline", "between 2 and 500"),
    ("/occupancy?days=99", "days", "14"),
    ("/scenarios?limit=9999", "limit", "200"),
    ("/escalation?at=abc", "at", "YYYY-MM-DDTHH:MM"),
    ("/escalation?at=1800-01-01T00:00", "at", "1990-01-01"),
])
def test_bad_page_values_name_the_field_and_the_limit(client: TestClient, url: str, field: str, limit: str) -> None:
    r = client.get(url)
    assert r.status_code in (400, 422) and "problem with the service" not in r.text
    [(href, text)] = summary(r.text)
    assert href.endswith(f"#{field}") and text.startswith(f"{field}:") and limit in text, (href, text)
    assert "--at" not in text  # the form's name for the field, not the command line's


def test_a_bad_declaration_links_to_the_form_field_it_came_from(client: TestClient) -> None:
    page = "/escalation/RAA?at=2025-07-05T12%3A00"
    # A value the form's own limits refuse (level 1 to 4): the summary links to the field on the form's page.
    [(href, text)] = summary(post_form(client, "/escalation/RAA/declare", {"level": "9"}, page))
    assert href == f"{page}#level" and "less than or equal to 4" in text
    # A date and time that is not one.
    [(href, text)] = summary(post_form(client, "/escalation/RAA/declare", {"level": "2", "at": "soon"}, page))
    assert href == f"{page}#at" and "YYYY-MM-DDTHH:MM" in text
    # The declaration itself refused (an organisation the store does not hold).
    [(href, text)] = summary(post_form(client, "/escalation/NOPE/declare", {"level": "2"}, "/escalation/RAA"))
    assert "unknown organisation" in text and href.startswith("/escalation/NOPE")


def test_a_form_address_opened_as_a_page_is_not_a_fault_of_the_service(client: TestClient) -> None:
    r = client.get("/escalation/RAA/declare")
    assert r.status_code == 405 and "problem with the service" not in r.text and "form" in r.text
