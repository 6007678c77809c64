"""The subscriptions form: subscribe and unsubscribe by email or webhook, only your own (admins
anyone's), with the CSRF token, audited; on both stores for the library."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from loop_helpers import PASSWORD, build

from uec.access import audit
from uec.access.accounts import add_user, get_user
from uec.config import get_settings
from uec.errors import UecError
from uec.escalation import notify, subscriptions
from uec.escalation.subscriptions import NotYours
from uec.store import Store, open_store
from uec.web import create_app


def test_only_your_own_unless_admin(store: Store) -> None:
    ics = build(store)
    add_user(ics, "ada", display_name="Ada Admin", org_code="ICB", roles=["admin"], password=PASSWORD)
    sam, tess, ada = (get_user(ics, n).user for n in ("sam", "tess", "ada"))  # type: ignore[union-attr]
    s = subscriptions.add(ics, sam, object_code="A1", channel="webhook", address="https://hooks.example/abc")
    with pytest.raises(NotYours):
        subscriptions.remove(ics, tess, s.id)
    with pytest.raises(NotYours):
        subscriptions.add(ics, tess, object_code=None, channel="email", address="x@example.nhs.uk", username="sam")
    with pytest.raises(UecError, match="needs an address"):
        subscriptions.add(ics, tess, object_code=None, channel="email", address="not an address")
    for inward in ("http://hooks.example/x", "https://127.0.0.1/x", "https://10.0.0.5/x", "https://localhost/x",
                   "https://[::1]/x", "https://metadata.google.internal/x"):
        with pytest.raises(UecError, match="public https:// address"):
            subscriptions.add(ics, tess, object_code=None, channel="webhook", address=inward)
    assert [x.id for x in subscriptions.mine(ics, tess)] == []
    assert [x.id for x in subscriptions.mine(ics, ada)] == [s.id]  # an admin sees everyone's
    subscriptions.add(ics, ada, object_code=None, channel="email", address="t@example.nhs.uk", username="tess")
    subscriptions.remove(ics, ada, s.id)
    assert [(x.username, x.object_code) for x in notify.subscriptions(ics)] == [("tess", None)]
    trail = [e for e in audit.entries(ics) if e.action.startswith("subscription.")]
    assert sorted(e.action for e in trail) == ["subscription.add", "subscription.add", "subscription.remove"]
    assert all("hooks.example" not in (e.before or "") + (e.after or "") for e in trail)  # never the address


@pytest.fixture
def web(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, TestClient]]:
    monkeypatch.setenv("UEC_SECRET_KEY", "test-secret-key-for-signing-cookies-0123456789")
    monkeypatch.setenv("UEC_STATE_DIR", str(tmp_path / "state"))
    get_settings.cache_clear()
    store = build(open_store(str(tmp_path / "uec.duckdb")))
    yield store, TestClient(create_app(store.url))
    get_settings.cache_clear()


def _sign_in(client: TestClient, username: str) -> None:
    page = client.get("/sign-in")
    token = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
    assert token, page.text[:500]
    r = client.post("/sign-in", data={"username": username, "password": PASSWORD, "csrftoken": token.group(1)},
                    follow_redirects=False)
    assert r.status_code in (302, 303), r.text[:300]


def _csrf(client: TestClient) -> str:
    m = re.search(r'name="csrftoken" value="([^"]+)"', client.get("/subscriptions").text)
    assert m
    return m.group(1)


def test_the_form_subscribes_and_unsubscribes_with_csrf(web: tuple[Store, TestClient]) -> None:
    store, client = web
    assert client.get("/subscriptions", follow_redirects=False).status_code in (302, 303, 401)
    _sign_in(client, "sam")
    page = client.get("/subscriptions")
    assert page.status_code == 200 and "No subscriptions yet." in page.text
    assert page.headers["cache-control"] == "private, no-store"
    # Without the CSRF token the form is refused.
    assert client.post("/subscriptions", data={"channel": "email", "address": "sam@example.nhs.uk"}).status_code == 403
    r = client.post("/subscriptions", data={"channel": "webhook", "address": "https://hooks.example/secret-path",
                                            "org_code": "A1", "csrftoken": _csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/subscriptions").text
    assert "https://hooks.example/…" in page and "secret-path" not in page
    [sub] = notify.subscriptions(store)
    assert (sub.username, sub.object_code, sub.channel) == ("sam", "A1", "webhook")
    assert client.get("/api/subscriptions").json()["subscriptions"][0]["id"] == sub.id
    # A bad address is explained; someone else's subscription cannot be removed.
    r = client.post("/subscriptions", data={"channel": "email", "address": "nope", "csrftoken": _csrf(client)})
    assert r.status_code == 400 and "needs an address" in r.text
    tess = get_user(store, "tess")
    assert tess is not None
    other = subscriptions.add(store, tess.user, object_code="A2", channel="email", address="t@example.nhs.uk")
    r = client.post(f"/subscriptions/{other.id}/delete", data={"csrftoken": _csrf(client)})
    assert r.status_code == 403 and "only your own" in r.text
    r = client.post(f"/subscriptions/{sub.id}/delete", data={"csrftoken": _csrf(client)}, follow_redirects=False)
    assert r.status_code == 303
    assert [s.username for s in notify.subscriptions(store)] == ["tess"]
