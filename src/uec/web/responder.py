"""One responder for every page: the HTML page, its ``.json`` and ``.csv`` siblings and its ``/api``
routes all come from one data function, in the manner of datasette's ``views/base.py`` (one
``data()``, the format from the URL's suffix).

A router declares a page with :func:`add_page`: the data function (its parameters are the page's
query and path parameters and its ``Depends``), the model it returns, the template and the CSV
rows. :func:`add_page` registers ``{path}.json`` and ``{path}.csv`` (before ``{path}``, whose path
parameter would match them too), the page itself and any API paths, each calling the one data
function; so a page and its downloads cannot disagree and no route writes CSV or JSON by hand.

Every route :func:`add_page` registers needs the spec's ``permission`` (``view_aggregate`` unless
said otherwise), through :func:`uec.web.deps.allow`: a page and its downloads cannot differ in who
may read them either.

A page whose spec says ``cache_page=True`` is kept rendered in the shared answer cache
(:mod:`uec.web.cache`), keyed by its path and query, the store's data version and what the asking
user may see (their roles and organisation): rendering a page of NHS.UK table macros costs far more
than reading it. The parts that differ per request (the CSP nonce, the signed-in name in the header,
a form's CSRF token, the notice that the figures are from older data) are rendered as slots and
filled in for each request by :func:`fill_slots`, so no request is given another's nonce or token.

CSV cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return are neutralised
(prefixed with ``'``) so a spreadsheet does not run them as formulas; numbers stay numbers.

>>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise(-3), neutralise("RAA01")
('\\'=HYPERLINK("http://x")', -3, 'RAA01')
>>> print(csv_text([{"a": "@SUM(A1)", "b": None, "c": True, "d": -1.5}], ["a", "b", "c", "d"]), end="")
a,b,c,d
'@SUM(A1),,true,-1.5
"""

from __future__ import annotations

import csv
import datetime as dt
import inspect
import io
import re
import struct
import zlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast, get_type_hints

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from uec import csvsafe
from uec.access.user import User
from uec.access.web import csp_nonce, csrf_input, session_username
from uec.store import Store
from uec.web.cache import MISS, AnswerCache, served_stale
from uec.web.deps import allow, get_cache, get_current_user, get_store
from uec.web.display import local_time

__all__ = [
    "ERROR_RESPONSES",
    "REFUSED_RESPONSES",
    "ErrorModel",
    "FieldErrors",
    "FieldMessage",
    "PageSpec",
    "RenderedPage",
    "add_page",
    "csv_response",
    "csv_text",
    "fill_slots",
    "neutralise",
    "render",
    "render_slotted",
]

M = TypeVar("M", bound=BaseModel)


class ErrorModel(BaseModel):
    """An error answer: one sentence saying what went wrong and what to do."""

    detail: str


class FieldMessage(BaseModel):
    """One invalid value: the field (a form field's id, or where in the request) and what is wrong."""

    field: str
    message: str


class FieldErrors(BaseModel):
    """Invalid values, one message per field (the answer for 422)."""

    detail: list[FieldMessage]


#: The statuses every data route can answer besides 200, for the OpenAPI schema.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorModel, "description": "A value is malformed or beyond its limit (the message states it)"},
    404: {"model": ErrorModel, "description": "No such site, standard, series or run"},
    503: {"model": ErrorModel, "description": "The store cannot be opened or is busy"},
}

#: What a route behind :func:`uec.web.deps.allow` can answer for who is asking, for the OpenAPI schema.
REFUSED_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorModel, "description": "Not signed in, or the API token is unknown, expired or revoked"},
    403: {"model": ErrorModel, "description": "Signed in without the permission this needs (the message names the "
                                              "roles that have it)"},
}

def neutralise(value: Any) -> Any:
    """A CSV cell that no spreadsheet runs as a formula: text starting with a formula character gets a
    leading ``'`` unless it is a plain number (:func:`uec.csvsafe.neutralise`, the one rule for every
    CSV the product writes); numbers and everything else are returned unchanged.
    """
    if isinstance(value, str):
        return csvsafe.neutralise(value)
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return neutralise(value)


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """Rows as CSV with a header: empty cells for ``None``, ``true``/``false`` for booleans, text neutralised."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v) for k, v in r.items()})
    return buf.getvalue()


def csv_response(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], filename: str) -> Response:
    """A CSV download."""
    return Response(
        csv_text(rows, columns),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page rendered with the app's templates."""
    env = request.app.state.templates
    return HTMLResponse(env.get_template(template).render(**context), status_code=status)


# Markers for the per-request parts of a cached page. They hold "<", which autoescaping turns into
# "&lt;" in any data, so only the templates' own output can carry one.
_NONCE_SLOT = "<!--uec-slot:nonce-->"
_USER_SLOT = "<!--uec-slot:user-->"
_CSRF_SLOT = "<!--uec-slot:csrf-->"
_NOTICE_SLOT = "<!--uec-slot:notice-->"


def render_slotted(env: Any, template: str, signed_in_header: bool, **context: Any) -> str:
    """A page rendered for the cache: what differs per request is left as slots for :func:`fill_slots`.

    ``signed_in_header`` says whether the header names a signed-in person (the header's shape differs).

    >>> from uec.web.app import template_environment
    >>> html = render_slotted(template_environment(), "error.html", True, message="m")
    >>> "uec-slot:user" in html and "uec-slot:nonce" in html
    True
    """
    return str(env.get_template(template).render(
        **context,
        cspNonce=Markup(_NONCE_SLOT),
        session_username=(lambda: Markup(_USER_SLOT)) if signed_in_header else (lambda: None),
        csrf_input=lambda: Markup(_CSRF_SLOT),
        data_notice=Markup(_NOTICE_SLOT),
    ))


def _slot_values(stale_as_of: dt.datetime | None) -> dict[str, str]:
    """What each slot holds for this request."""
    notice = ""
    if stale_as_of is not None:
        notice = str(Markup(
            '<div class="nhsuk-inset-text"><span class="nhsuk-u-visually-hidden">Information: </span>'
            "<p>These figures are from the data as of {}. Newer data has just been loaded and is being "
            "processed: reload the page in a minute to see it.</p></div>").format(local_time(stale_as_of)))
    return {
        _NONCE_SLOT: csp_nonce() or "",
        _USER_SLOT: str(escape(session_username() or "")),
        # Only a page with a form asks for the token (asking sets the CSRF cookie).
        _CSRF_SLOT: "",
        _NOTICE_SLOT: notice,
    }


def fill_slots(html: str, stale_as_of: dt.datetime | None = None) -> str:
    """A cached page with this request's nonce, signed-in name and CSRF field, and a notice when its
    figures are from older data (``stale_as_of``: the time of that data).

    >>> from uec.web.app import template_environment
    >>> page = fill_slots(render_slotted(template_environment(), "error.html", False, message="m"))
    >>> "uec-slot" in page
    False
    """
    for slot, value in _slot_values(stale_as_of).items():
        if slot in html:
            html = html.replace(slot, str(csrf_input()) if slot == _CSRF_SLOT else value)
    return html


_SLOTS = re.compile("(" + "|".join(re.escape(s) for s in (_NONCE_SLOT, _USER_SLOT, _CSRF_SLOT, _NOTICE_SLOT)) + ")")
# A gzip member's header (no name, no time, unknown OS) and the deflate stream's last, empty block.
_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
_DEFLATE_END = b"\x03\x00"


def _deflate(data: bytes, level: int) -> bytes:
    """``data`` as raw deflate blocks ending on a byte boundary, so that such pieces, each compressed
    on its own, join into one valid stream (as pigz and zlib's gzjoin join them)."""
    z = zlib.compressobj(level, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush(zlib.Z_SYNC_FLUSH)


@dataclass(frozen=True)
class RenderedPage:
    """A page as the cache keeps it: its text between the slots, each piece also compressed once, so
    a request's answer is the pieces and this request's slot values joined, gzipped or not, without
    compressing 200 KB of table again for every request.

    >>> from uec.web.app import template_environment
    >>> import gzip
    >>> page = RenderedPage.of(render_slotted(template_environment(), "error.html", False, message="m"))
    >>> gzip.decompress(page.gzipped()) == page.body()
    True
    """

    pieces: tuple[tuple[bytes, bytes, str], ...]  # (text, text compressed, the slot after it or "")
    media_type: str = "text/html; charset=utf-8"

    @classmethod
    def of(cls, html: str, media_type: str = "text/html; charset=utf-8") -> RenderedPage:
        parts = _SLOTS.split(html)  # text, slot, text, slot, ..., text
        pieces = []
        for i in range(0, len(parts), 2):
            text = parts[i].encode("utf-8")
            pieces.append((text, _deflate(text, 6), parts[i + 1] if i + 1 < len(parts) else ""))
        return cls(tuple(pieces), media_type)

    def _values(self, stale_as_of: dt.datetime | None) -> dict[str, bytes]:
        values = _slot_values(stale_as_of)
        if any(slot == _CSRF_SLOT for _, _, slot in self.pieces):
            values[_CSRF_SLOT] = str(csrf_input())
        return {k: v.encode("utf-8") for k, v in values.items()}

    def body(self, stale_as_of: dt.datetime | None = None) -> bytes:
        """The page for this request."""
        values = self._values(stale_as_of)
        return b"".join(text + (values[slot] if slot else b"") for text, _, slot in self.pieces)

    def gzipped(self, stale_as_of: dt.datetime | None = None) -> bytes:
        """The page for this request as one gzip member: the stored compressed pieces, this request's
        slot values compressed (a few bytes each), the checksum over it all."""
        values = self._values(stale_as_of)
        out = [_GZIP_HEADER]
        crc, size = 0, 0
        for text, packed, slot in self.pieces:
            out.append(packed)
            crc, size = zlib.crc32(text, crc), size + len(text)
            value = values[slot] if slot else b""
            if value:
                out.append(_deflate(value, 1))
                crc, size = zlib.crc32(value, crc), size + len(value)
        out += [_DEFLATE_END, struct.pack("<II", crc & 0xFFFFFFFF, size & 0xFFFFFFFF)]
        return b"".join(out)

    def response(self, request: Request, stale_as_of: dt.datetime | None) -> Response:
        """The HTML response, gzipped when the client accepts it (the gzip middleware passes an
        answer that is already encoded)."""
        headers = {"Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", "") and sum(len(t) for t, _, _ in self.pieces) >= 1024:
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped(stale_as_of), media_type=self.media_type, headers=headers)
        return Response(self.body(stale_as_of), media_type=self.media_type, headers=headers)


def _setup_key(env: Any) -> str:
    """What a rendered page depends on in the app's own set-up (its template globals: whether the
    frontend is installed, the service name), so apps set up differently never share a page."""
    key: str | None = getattr(env, "uec_page_key", None)
    if key is None:
        plain = sorted((k, v) for k, v in env.globals.items() if isinstance(v, str | int | float | bool | None))
        key = repr(plain)
        env.uec_page_key = key
    return key


def _may_see(user: User | None) -> tuple[Any, ...]:
    """What a cached page's content may depend on about who asks: their roles and organisation."""
    if user is None:
        return ("nobody",)
    return (tuple(sorted(user.roles)), user.org_code)


@dataclass(frozen=True)
class PageSpec(Generic[M]):
    """What :func:`add_page` needs besides the data function.

    ``path`` is where ``.json`` and ``.csv`` hang (``/sites/{site_code}``); ``html_path`` is the page
    (``path`` unless given; ``None`` for no page). ``context`` turns the model and the data
    function's arguments into the template's variables; ``not_found`` (optional) renders the page
    with a message instead of answering 404 (a page that explains why it is empty). ``permission``
    is what every one of its routes needs (``uec.access`` ``permissions.yaml``). ``cache_page``
    keeps the rendered page in the shared cache by data version: only for a page whose content
    depends on nothing but the data, the URL, and the asking user's roles and organisation.
    """

    name: str
    path: str
    model: type[M]
    csv_columns: Sequence[str]
    csv_rows: Callable[[M], list[dict[str, Any]]]
    filename: Callable[[Mapping[str, Any]], str]
    template: str | None = None
    context: Callable[[M, Mapping[str, Any]], dict[str, Any]] | None = None
    not_found: Callable[[str, Mapping[str, Any]], dict[str, Any]] | None = None
    html_path: str | None = ""
    api_paths: Sequence[str] = ()
    json_doc: str = ""
    csv_doc: str = ""
    tags: Sequence[str] = field(default_factory=lambda: ["downloads"])
    permission: str = "view_aggregate"
    cache_page: bool = False
    #: With ``cache_page``: more of the key, for a page that depends on more than the data version
    #: (state the data version does not track, the clock), from the store and the data function's
    #: arguments; asked on every request, in the thread pool.
    cache_key: Callable[[Store, Mapping[str, Any]], tuple[Hashable, ...]] | None = None


_REQUEST = "responder_request"
_STORE = "responder_store"
_CACHE = "responder_cache"
_USER = "responder_user"


def _endpoint(data: Callable[..., M], respond: Callable[[Request, M, dict[str, Any]], Any], name: str,
              doc: str) -> Callable[..., Any]:
    """An endpoint with ``data``'s parameters (so FastAPI reads its query, path and ``Depends``) plus the
    request, which calls ``data`` and hands the model to ``respond``."""
    hints = get_type_hints(data, include_extras=True)
    params = [p.replace(annotation=hints.get(p.name, p.annotation))
              for p in inspect.signature(data).parameters.values()]
    params.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request))

    def endpoint(**kwargs: Any) -> Any:
        request: Request = kwargs.pop(_REQUEST)
        return respond(request, data(**kwargs), kwargs)

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = name
    endpoint.__doc__ = doc
    return endpoint


def _cached_endpoint(data: Callable[..., M], spec: PageSpec[M], html: bool) -> Callable[..., Any]:
    """The page's endpoint (``html``) or its JSON's, when the answer is kept encoded in the shared
    cache (``spec.cache_page``): rendered (or serialised) and compressed once per data version."""
    template = spec.template
    hints = get_type_hints(data, include_extras=True)
    params = [p.replace(annotation=hints.get(p.name, p.annotation))
              for p in inspect.signature(data).parameters.values()]
    # The same dependencies the data function takes (FastAPI resolves each once per request).
    params += [
        inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request),
        inspect.Parameter(_STORE, inspect.Parameter.KEYWORD_ONLY, annotation=Store, default=Depends(get_store)),
        inspect.Parameter(_CACHE, inspect.Parameter.KEYWORD_ONLY, annotation=AnswerCache, default=Depends(get_cache)),
        inspect.Parameter(_USER, inspect.Parameter.KEYWORD_ONLY, annotation=User | None,
                          default=Depends(get_current_user)),
    ]

    async def endpoint(**kwargs: Any) -> Response:
        # Async, so an answer this process has at hand is given without a thread; anything else (a
        # read from disk, the data version, rendering) runs in the thread pool.
        request: Request = kwargs.pop(_REQUEST)
        store: Store = kwargs.pop(_STORE)
        cache: AnswerCache = kwargs.pop(_CACHE)
        user: User | None = kwargs.pop(_USER)
        header = session_username() is not None
        env = request.app.state.templates

        def build() -> RenderedPage:
            model = data(**kwargs)
            if not html:
                return RenderedPage.of(model.model_dump_json(by_alias=True), "application/json")
            assert template is not None
            context = spec.context(model, kwargs) if spec.context else {"model": model}
            return RenderedPage.of(render_slotted(env, template, header, **context))

        # The key: the answer, its URL (path and every query value), and what the user may see; a
        # page also keys on its header's shape and the app's set-up.
        query = tuple(sorted(request.query_params.multi_items()))
        key: tuple[Any, ...]
        if html:
            name, key = f"page:{spec.name}", (request.url.path, query, _may_see(user), header, _setup_key(env))
        else:
            name, key = f"json:{spec.name}", (tuple(sorted(request.path_params.items())), query, _may_see(user))
        extra = spec.cache_key
        page: Any
        if extra is not None:
            # Its key needs the store (and the clock), so there is no answer at hand to peek at.
            page = await run_in_threadpool(lambda: cache.get(store, name, *key, *extra(store, kwargs), compute=build))
        else:
            page = cache.peek(store, name, *key)
            if page is MISS:
                page = await run_in_threadpool(lambda: cache.get(store, name, *key, compute=build))
        return cast(RenderedPage, page).response(request, served_stale())

    endpoint.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    endpoint.__name__ = f"{spec.name}_{'page' if html else 'json'}"
    endpoint.__doc__ = None if html else spec.json_doc
    return endpoint


def add_page(router: APIRouter, data: Callable[..., M], spec: PageSpec[M]) -> None:
    """Register the page ``spec`` describes, its ``.json`` and ``.csv`` siblings and its API paths, all
    answered from ``data``."""

    def as_json(request: Request, model: M, args: dict[str, Any]) -> M:
        return model

    def as_csv(request: Request, model: M, args: dict[str, Any]) -> Response:
        return csv_response(spec.csv_rows(model), spec.csv_columns, spec.filename(args))

    def as_html(request: Request, model: M, args: dict[str, Any]) -> HTMLResponse:
        assert spec.template is not None
        return render(request, spec.template, **(spec.context(model, args) if spec.context else {"model": model}))

    responses = {**ERROR_RESPONSES, **REFUSED_RESPONSES}
    # One permission for the page, its downloads and its API routes.
    needs = [Depends(allow(spec.permission))]
    json_endpoint = (_cached_endpoint(data, spec, html=False) if spec.cache_page
                     else _endpoint(data, as_json, f"{spec.name}_json", spec.json_doc))
    router.add_api_route(f"{spec.path}.json", json_endpoint, methods=["GET"], response_model=spec.model,
                         tags=list(spec.tags), responses=responses, name=f"{spec.name}_json", dependencies=needs)
    router.add_api_route(f"{spec.path}.csv", _endpoint(data, as_csv, f"{spec.name}_csv", spec.csv_doc),
                         methods=["GET"], response_class=Response, tags=list(spec.tags), name=f"{spec.name}_csv",
                         responses={**responses, 200: {"content": {"text/csv": {}}, "description": "CSV"}},
                         dependencies=needs)
    html_path = spec.path if spec.html_path == "" else spec.html_path
    if html_path is not None and spec.template is not None:
        html_endpoint = (_cached_endpoint(data, spec, html=True) if spec.cache_page
                         else _endpoint(data, as_html, f"{spec.name}_page", ""))
        if spec.not_found is not None:
            html_endpoint = _with_not_found(html_endpoint, spec)
        router.add_api_route(html_path, html_endpoint, methods=["GET"], response_class=HTMLResponse,
                             include_in_schema=False, name=f"{spec.name}_page", dependencies=needs)
    for api in spec.api_paths:
        router.add_api_route(api, json_endpoint, methods=["GET"], response_model=spec.model, tags=["api"],
                             responses=responses, name=f"{spec.name}_api", dependencies=needs)


def _with_not_found(endpoint: Callable[..., Any], spec: PageSpec[Any]) -> Callable[..., Any]:
    """The page endpoint, rendering the page with the 404's message instead of the error page."""
    not_found = spec.not_found
    assert not_found is not None and spec.template is not None
    template = spec.template

    def page(**kwargs: Any) -> Any:
        try:
            return endpoint(**kwargs)
        except HTTPException as exc:
            return answer_not_found(exc, kwargs)

    async def cached_page(**kwargs: Any) -> Any:
        try:
            return await endpoint(**kwargs)
        except HTTPException as exc:
            return answer_not_found(exc, kwargs)

    def answer_not_found(exc: HTTPException, kwargs: dict[str, Any]) -> Any:
        if exc.status_code != 404:
            raise exc
        args = {k: v for k, v in kwargs.items() if k not in (_REQUEST, _STORE, _CACHE, _USER)}
        return render(kwargs[_REQUEST], template, **not_found(str(exc.detail), args))

    if inspect.iscoroutinefunction(endpoint):
        cached_page.__signature__ = endpoint.__signature__  # type: ignore[attr-defined]
        cached_page.__name__ = endpoint.__name__
        return cached_page

    page.__signature__ = endpoint.__signature__  # type: ignore[attr-defined]
    page.__name__ = endpoint.__name__
    return page
