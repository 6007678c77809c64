"""Helpers of the escalation loop tests: the hand-made ICS with people, a real SMTP server, a webhook receiver.

A module of its own (not ``conftest``) so the functional test can import it too.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import escalation_fixtures as fx
from aiosmtpd.controller import Controller

from live_server import free_port
from uec.access.accounts import add_user
from uec.store import Store

PASSWORD = "a-long-test-password"


def build(store: Store) -> Store:
    """The spec's hand-made ICS (A1 is at OPEL 3 at ``fx.AT``) and three people: a site manager of A1,
    one of A2 and the ICB's coordinator."""
    fx.reference(store)
    fx.events(store)
    fx.returns(store)
    add_user(store, "sam", display_name="Sam A1", org_code="A1", roles=["site_manager"], password=PASSWORD)
    add_user(store, "tess", display_name="Tess A2", org_code="A2", roles=["site_manager"], password=PASSWORD)
    add_user(store, "cory", display_name="Cory ICB", org_code="ICB", roles=["coordinator"], password=PASSWORD)
    return store


@dataclass
class Inbox:
    """What the local SMTP server received."""

    port: int
    messages: list[Message] = field(default_factory=list)


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    inbox = Inbox(free_port())
    controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@contextmanager
def webhook_receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A tiny HTTP server on loopback that records each POSTed JSON body."""
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(json.loads(body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()
