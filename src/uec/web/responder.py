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
import inspect
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, get_type_hints

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from uec import csvsafe
from uec.web.deps import allow

__all__ = [
    "ERROR_RESPONSES",
    "REFUSED_RESPONSES",
    "ErrorModel",
    "FieldErrors",
    "FieldMessage",
    "PageSpec",
    "add_page",
    "csv_response",
    "csv_text",
    "neutralise",
    "render",
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


@dataclass(frozen=True)
class PageSpec(Generic[M]):
    """What :func:`add_page` needs besides the data function.

    ``path`` is where ``.json`` and ``.csv`` hang (``/sites/{site_code}``); ``html_path`` is the page
    (``path`` unless given; ``None`` for no page). ``context`` turns the model and the data
    function's arguments into the template's variables; ``not_found`` (optional) renders the page
    with a message instead of answering 404 (a page that explains why it is empty). ``permission``
    is what every one of its routes needs (``uec.access`` ``permissions.yaml``).
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


_REQUEST = "responder_request"


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
    json_endpoint = _endpoint(data, as_json, f"{spec.name}_json", spec.json_doc)
    router.add_api_route(f"{spec.path}.json", json_endpoint, methods=["GET"], response_model=spec.model,
                         tags=list(spec.tags), responses=responses, name=f"{spec.name}_json", dependencies=needs)
    router.add_api_route(f"{spec.path}.csv", _endpoint(data, as_csv, f"{spec.name}_csv", spec.csv_doc),
                         methods=["GET"], response_class=Response, tags=list(spec.tags), name=f"{spec.name}_csv",
                         responses={**responses, 200: {"content": {"text/csv": {}}, "description": "CSV"}},
                         dependencies=needs)
    html_path = spec.path if spec.html_path == "" else spec.html_path
    if html_path is not None and spec.template is not None:
        html_endpoint = _endpoint(data, as_html, f"{spec.name}_page", "")
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
            if exc.status_code != 404:
                raise
            args = {k: v for k, v in kwargs.items() if k != _REQUEST}
            return render(kwargs[_REQUEST], template, **not_found(str(exc.detail), args))

    page.__signature__ = endpoint.__signature__  # type: ignore[attr-defined]
    page.__name__ = endpoint.__name__
    return page
