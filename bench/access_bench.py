"""What access costs: Argon2 hashing, token checks, and a signed-in request against an anonymous one.

Usage::

    .venv/bin/python bench/access_bench.py [--requests 200]

Prints a Markdown table of medians and one JSON line. No goal is asserted: Argon2 is meant to be
slow (it is what protects the stored hashes), and a signed-in request pays one or two small store
queries to look the user up (so that disabling an account takes effect at once).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("UEC_SECRET_KEY", "bench-secret-key-0123456789-0123456789")


def _median_ms(fn: Callable[[], object], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    import re

    from fastapi.testclient import TestClient

    from uec.access.accounts import _hasher, add_organisation, add_user
    from uec.access.tokens import create_token, token_user
    from uec.store import open_store
    from uec.web import create_app

    h = _hasher()
    hashed = h.hash("a password of some length")
    figures = {
        "argon2_hash_ms": _median_ms(lambda: h.hash("a password of some length"), 5),
        "argon2_verify_ms": _median_ms(lambda: h.verify("a password of some length", hashed), 5),
    }
    with tempfile.TemporaryDirectory() as d:
        os.environ["UEC_STATE_DIR"] = d
        store = open_store(os.path.join(d, "uec.duckdb"))
        add_organisation(store, "QXX", "ICB", "ics")
        add_user(store, "adam", display_name="Adam", org_code="QXX", roles=["admin"], password="bench password")
        _, token = create_token(store, "bench", role="admin", org_code="QXX")
        figures["token_check_ms"] = _median_ms(lambda: token_user(store, token), args.requests)
        client = TestClient(create_app(store.url))
        figures["anonymous_page_ms"] = _median_ms(lambda: client.get("/sign-out"), args.requests)
        form = client.get("/sign-in").text
        csrf = re.search(r'name="csrftoken" value="([^"]+)"', form).group(1)  # type: ignore[union-attr]
        t = time.perf_counter()
        client.post("/sign-in", data={"username": "adam", "password": "bench password", "csrftoken": csrf})
        figures["sign_in_ms"] = (time.perf_counter() - t) * 1000
        figures["signed_in_page_ms"] = _median_ms(lambda: client.get("/sign-out"), args.requests)
        bearer = TestClient(create_app(store.url), headers={"Authorization": f"Bearer {token}"})
        figures["bearer_page_ms"] = _median_ms(lambda: bearer.get("/sign-out"), args.requests)
    print("| measure | median (ms) |\n|---|---|")
    for k, v in figures.items():
        print(f"| {k} | {v:.1f} |")
    print(json.dumps({k: round(v, 2) for k, v in figures.items()}))


if __name__ == "__main__":
    main()
