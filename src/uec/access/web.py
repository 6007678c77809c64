"""The web app's side of access: sessions, CSRF, security headers, who is signed in, and refusals.

:func:`install` adds to a FastAPI app, outermost first:

* security headers on every response: a ``Content-Security-Policy`` whose ``script-src`` allows
  only this server's files and inline scripts carrying the request's nonce (the NHS.UK page
  template puts ``cspNonce`` on its own inline script; this package's Jinja global of that name is
  the current request's nonce), ``X-Content-Type-Options: nosniff``, ``Referrer-Policy``,
  ``X-Frame-Options: DENY`` and ``frame-ancestors 'none'``; and an ``X-Request-ID`` that audit
  entries carry;
* signed session cookies (Starlette's ``SessionMiddleware``, itsdangerous): ``HttpOnly``,
  ``SameSite=Lax``, ``Secure`` when ``UEC_SECURE_COOKIES`` is on, expiring after
  ``UEC_SESSION_HOURS``;
* CSRF protection of every state-changing request (``asgi-csrf``, the signed double-submit
  cookie that Datasette uses): a form carries ``csrftoken`` (``{{ csrf_input() }}`` in a
  template), a script sends the ``x-csrftoken`` header; requests with a bearer token and no
  cookie are machines, which CSRF cannot abuse, and pass. It was chosen over ``starlette-csrf``
  because that one checks only a header, and the service's forms must work without JavaScript.

:func:`current_user` and :func:`require` are the FastAPI dependencies routes use; refusals raise
:class:`AccessRefused`, answered with a page (or JSON for data URLs) saying what was refused and why.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import os
import re
import secrets
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote, urlsplit

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment
from markupsafe import Markup
from starlette.middleware.sessions import SessionMiddleware

from uec.access import cache
from uec.access.permissions import allowed, policy
from uec.access.user import User
from uec.config import Settings, get_settings
from uec.store import Store, open_store

__all__ = [
    "AccessRefused",
    "csp_nonce",
    "csrf_input",
    "current_user",
    "install",
    "render",
    "request_id",
    "require",
    "route_permissions",
    "secret_key",
    "session_username",
]

log = logging.getLogger("uec.access")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_nonce: contextvars.ContextVar[str | None] = contextvars.ContextVar("uec_csp_nonce", default=None)
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("uec_request_id", default=None)
_csrf: contextvars.ContextVar[Callable[[], str] | None] = contextvars.ContextVar("uec_csrf", default=None)
_session_user: contextvars.ContextVar[str | None] = contextvars.ContextVar("uec_session_user", default=None)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")



def csp_nonce() -> str | None:
    """The current request's Content-Security-Policy nonce (``None`` outside a request).

    >>> csp_nonce() is None
    True
    """
    return _nonce.get()


def request_id() -> str | None:
    """The current request's id (the ``X-Request-ID`` it came with, or a new one)."""
    return _request_id.get()


class _LazyNonce:
    """A Jinja global that is the current request's nonce wherever a template says ``cspNonce``."""

    def __bool__(self) -> bool:
        return _nonce.get() is not None

    def __str__(self) -> str:
        return _nonce.get() or ""

    def __html__(self) -> str:
        return Markup.escape(str(self))


def _csp(nonce: str, path: str, form_action: str = "'self'") -> str:
    # One policy for every page, Swagger UI's (/docs, uec.web.api_docs) too: it is served from this
    # server and its one inline script carries the nonce.
    return (
        f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
        # Charts are inline SVG sized by a style attribute; attributes cannot carry a nonce and
        # cannot run script, so they are allowed while <style> elements are not.
        "style-src 'self'; style-src-attr 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self' https://assets.nhs.uk; connect-src 'self'; "
        f"form-action {form_action}; frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
    )


class SecurityHeadersMiddleware:
    """Pure ASGI middleware: a nonce and request id per request, security headers on every response."""

    def __init__(self, app: ASGIApp, form_action: str = "'self'") -> None:
        self.app = app
        # Sign-out is a form whose answer redirects to the identity provider, and browsers apply
        # form-action to where a form's redirects lead, so the provider's origin is allowed too.
        self.form_action = form_action

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})
        scope["state"]["csp_nonce"] = nonce
        scope["state"]["request_id"] = rid
        nonce_token = _nonce.set(nonce)
        rid_token = _request_id.set(rid)
        csp = _csp(nonce, scope.get("path", ""), self.form_action).encode("latin-1")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-frame-options"]
                headers += [
                    (b"content-security-policy", csp),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"same-origin"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"x-request-id", rid.encode("latin-1")),
                ]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            _nonce.reset(nonce_token)
            _request_id.reset(rid_token)


def secret_key(settings: Settings) -> str:
    """The key that signs session cookies and CSRF tokens.

    ``UEC_SECRET_KEY`` when set (a deployment must set it, the same for every worker process);
    otherwise one generated once into ``<state_dir>/secret_key`` (readable by the owner only) so the
    demo needs no configuration and sessions survive a restart.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     s = Settings(_env_file=None, state_dir=d)
    ...     secret_key(s) == secret_key(s) and len(secret_key(s)) > 40
    True
    """
    if settings.secret_key is not None and settings.secret_key.get_secret_value():
        return settings.secret_key.get_secret_value()
    path = Path(settings.state_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
        log.warning("UEC_SECRET_KEY is not set: generated one into %s (fine for the demo; set it in production)", path)
    return path.read_text().strip()


class AccessRefused(Exception):
    """A request refused: 401 (nobody is signed in) or 403 (signed in, not allowed).

    ``what`` names what was refused in a user's words; ``why`` says why and what would allow it.

    ``sign_in`` marks "nobody is signed in, and signing in may help": a browser asking for a page
    is then sent to the sign-in page (303) instead of being shown the refusal.
    """

    def __init__(self, status: int, what: str, why: str, *, sign_in: bool = False) -> None:
        super().__init__(f"{what}: {why}")
        self.status = status
        self.what = what
        self.why = why
        self.sign_in = sign_in


def safe_next(value: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site (open redirect).

    >>> safe_next("/sites/RAA01?x=1"), safe_next("//evil.example/"), safe_next("https://evil.example/")
    ('/sites/RAA01?x=1', '/', '/')
    """
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def sign_in_url(next_path: str | None) -> str:
    """The sign-in page, coming back to ``next_path`` (a local path only) afterwards.

    >>> sign_in_url("/"), sign_in_url("/sites/RAA01?from=2026-01-01&x=1"), sign_in_url("https://evil.example/")
    ('/sign-in?next=/', '/sign-in?next=/sites/RAA01%3Ffrom%3D2026-01-01%26x%3D1', '/sign-in?next=/')
    """
    return "/sign-in?next=" + quote(safe_next(next_path), safe="/")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/")
        or path.endswith((".json", ".csv"))
        or request.headers.get("authorization", "").startswith("Bearer ")
    )


def templates(request: Request) -> Environment:
    """The app's Jinja environment (``app.state.templates``), which the web app sets up."""
    env = getattr(request.app.state, "templates", None)
    if env is None:
        # An app built without the web app's environment (a bare FastAPI app in a test): the same
        # template folders, without the web app's filters. Loaded by name so that this layer does not
        # import the web app that sits above it.
        from jinja2 import ChainableUndefined, ChoiceLoader, PackageLoader

        env = Environment(
            loader=ChoiceLoader([PackageLoader("uec.web", "templates"), PackageLoader("nhsuk_frontend_jinja")]),
            undefined=ChainableUndefined,
            autoescape=True,
        )
        env.globals.update(cspNonce=_LazyNonce(), csrf_input=csrf_input, session_username=session_username,
                           service_name="UEC Resilience")
        request.app.state.templates = env
    return cast(Environment, env)


def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from the app's templates, with the request's nonce, CSRF field and signed-in user."""
    env = templates(request)
    user = getattr(request.state, "user", None)
    html = env.get_template(name).render(
        cspNonce=csp_nonce() or "",
        signed_in=user,
        **context,
    )
    headers = {"Cache-Control": "no-store"} if user is not None or status >= 400 else None
    return HTMLResponse(html, status_code=status, headers=headers)


def csrf_input() -> Markup:
    """The hidden form field that carries the CSRF token; every POST form includes it.

    It is a Jinja global (``{{ csrf_input() }}``), so any template's form can use it. Outside a
    request it is an empty field, which the check refuses.

    >>> str(csrf_input())
    '<input type="hidden" name="csrftoken" value="">'
    """
    token = _csrf.get()
    return Markup('<input type="hidden" name="csrftoken" value="{}">').format(token() if token else "")


def session_username() -> str | None:
    """The username the request's session names, for the page header (``None``: not signed in).

    Read from the signed cookie without a store lookup: the header only says who is signed in;
    what they may do is :func:`require`'s to decide.

    >>> session_username() is None
    True
    """
    return _session_user.get()


class _CsrfTokenCapture:
    """Innermost middleware: makes the CSRF token and the session's username reachable from templates."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session = scope.get("session")
        username = session.get("user") if isinstance(session, dict) else None
        token = _csrf.set(scope.get("csrftoken"))
        who = _session_user.set(username if isinstance(username, str) else None)
        try:
            await self.app(scope, receive, send)
        finally:
            _csrf.reset(token)
            _session_user.reset(who)


def refused_response(request: Request, exc: AccessRefused) -> Response:
    """The answer to :class:`AccessRefused`: a page that says what and why, or JSON for data URLs.

    A visitor who is not signed in and asks for a page (GET or HEAD, accepting HTML) is sent to the
    sign-in page instead (303), which brings them back afterwards; data URLs (``/api/…``, ``.json``,
    ``.csv``) and clients that accept only other types still answer 401, so a script learns it must
    authenticate rather than following a redirect.
    """
    headers = {"WWW-Authenticate": 'Bearer realm="uec"'} if exc.status == 401 else None
    if _wants_json(request):
        return JSONResponse({"detail": f"{exc.what}: {exc.why}"}, status_code=exc.status, headers=headers)
    next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    accept = request.headers.get("accept", "*/*")
    if exc.sign_in and request.method in ("GET", "HEAD") and ("text/html" in accept or "*/*" in accept):
        return RedirectResponse(sign_in_url(next_path), status_code=303, headers={"Cache-Control": "no-store"})
    response = render(request, "access_refused.html", exc.status, refused=exc, next_path=next_path)
    if headers:
        response.headers.update(headers)
    return response


# --- who is signed in --------------------------------------------------------------------------


def store_for(request: Request) -> Store:
    """The store this app serves (``app.state.store_url``; ``None`` means the configured one)."""
    return open_store(getattr(request.app.state, "store_url", None))


def current_user(request: Request) -> User | None:
    """The user making the request: by API token (``Authorization: Bearer``) or session cookie.

    A session names a user who is looked up again (:mod:`uec.access.cache`: at once after a change
    in this process, within ``UEC_ACCESS_CACHE_SECONDS`` after one elsewhere), so disabling an
    account or changing its roles ends what the session may do. A bearer token that is wrong,
    expired or revoked is refused (401) rather than treated as anonymous, so a broken feed fails
    loudly.
    """
    if hasattr(request.state, "user"):  # already worked out for this request
        return cast(User | None, request.state.user)
    user: User | None = None
    auth = request.headers.get("authorization", "")
    ttl = settings_of(request).access_cache_seconds
    if auth.startswith("Bearer "):
        from uec.access.tokens import token_user

        store = store_for(request)
        key = ("token", store.url, hashlib.sha256(auth[7:].encode()).hexdigest())
        user = cache.lookup(key, ttl, lambda: token_user(store, auth[7:]))
        if user is None:
            raise AccessRefused(
                401, "This API token", "is unknown, expired or revoked; ask an administrator for a new one"
            )
    elif "session" in request.scope:
        username = request.session.get("user")
        if username:
            from uec.access.accounts import get_user

            store = store_for(request)
            rec = cache.lookup(("user", store.url, username), ttl, lambda: get_user(store, username))
            if rec is None or rec.disabled:
                request.session.clear()
            else:
                user = rec.user
    request.state.user = user
    return user


def _roles_granting(permission: str) -> list[str]:
    return [r for r, g in policy().grants.items() if permission in g]


_CURRENT_USER = Depends(current_user)


def require(permission: str, *, org_param: str | None = None) -> Callable[..., User]:
    """A dependency that returns the signed-in user if they may do ``permission``, else refuses.

    ``org_param`` names a path or query parameter holding the organisation the request acts for
    (so a site manager may act for their own organisation only). Nobody signed in: 401; signed in
    without the permission: 403, with a message naming the roles that would allow it. The user
    comes from the :func:`current_user` dependency, so a test may override that
    (``app.dependency_overrides[current_user] = lambda: User(...)``) to act as anyone.

    >>> require("view_audit").permission
    'view_audit'
    """
    description = policy().permissions[permission]  # an unknown permission fails at import time

    def dependency(request: Request, user: User | None = _CURRENT_USER) -> User:
        what = description.rstrip(".")
        if user is None:
            raise AccessRefused(401, what, "you are not signed in. Sign in to continue.", sign_in=True)
        org = None
        if org_param is not None:
            org = request.path_params.get(org_param) or request.query_params.get(org_param)
        if not allowed(user, permission, org):
            if allowed(user, permission, user.org_code) and org is not None:
                why = (f"your role lets you act for your own organisation ({user.org_code}) only, "
                       f"and this is for {org}.")
            else:
                roles = ", ".join(sorted(user.roles)) or "none"
                need = " or ".join(_roles_granting(permission))
                why = f"it needs the role {need}; you ({user.username}) hold: {roles}."
            raise AccessRefused(403, what, why)
        return user

    dependency.__name__ = f"require_{permission}"
    # Read by route_permissions(): which permission each route asks for.
    setattr(dependency, "permission", permission)  # noqa: B010
    return dependency


def route_permissions(app: FastAPI) -> dict[str, tuple[str, ...]]:
    """Every route of ``app`` (``"GET /path"``) and the permissions its dependencies require.

    A route that requires nothing maps to ``()``: a test can list those and check each is meant
    to be open (the sign-in page, static files, health).

    >>> from fastapi import APIRouter
    >>> app = FastAPI()
    >>> @app.get("/secret", dependencies=[Depends(require("view_audit"))])
    ... def secret() -> str:
    ...     return "s"
    >>> route_permissions(app)["GET /secret"]
    ('view_audit',)
    """
    from fastapi.routing import APIRoute

    found: dict[str, tuple[str, ...]] = {}

    def walk(dep: Any) -> list[str]:
        perms = [p] if (p := getattr(dep.call, "permission", None)) else []
        for sub in dep.dependencies:
            perms += walk(sub)
        return perms

    def visit(routes: list[Any], prefix: str, inherited: list[str]) -> None:
        for route in routes:
            if isinstance(route, APIRoute):
                perms = tuple(dict.fromkeys(inherited + walk(route.dependant)))
                for method in sorted(route.methods or ()):
                    found[f"{method} {prefix}{route.path}"] = perms
            elif (router := getattr(route, "original_router", None)) is not None:
                # FastAPI >= 0.16x keeps an included router as one entry; older ones copy its routes.
                context = getattr(route, "include_context", None)
                deps = [getattr(d, "dependency", None) for d in getattr(context, "dependencies", [])]
                extra = [p for d in deps if (p := getattr(d, "permission", None))]
                visit(router.routes, prefix + getattr(context, "prefix", ""), inherited + extra)

    visit(list(app.routes), "", [])
    return found


# --- installing it all -----------------------------------------------------------------------


def _csrf_failed(env_of: Callable[[], Environment | None]) -> Callable[[Scope, Send, Any], Awaitable[None]]:
    async def send_failed(scope: Scope, send: Send, _error: Any) -> None:
        env = env_of()
        body = "This form had expired or did not come from this service. Go back, reload the page and try again."
        if env is not None:
            body = env.get_template("access_refused.html").render(
                refused=AccessRefused(403, "Sending this form", body), cspNonce=csp_nonce() or "", next_path="/",
            )
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"text/html; charset=utf-8"), (b"cache-control", b"no-store")]})
        await send({"type": "http.response.body", "body": body.encode("utf-8")})

    return send_failed


def install(
    app: FastAPI,
    *,
    store_url: str | None = None,
    settings: Settings | None = None,
    env: Environment | None = None,
) -> None:
    """Add sessions, CSRF, security headers and the refusal pages to ``app``.

    ``env`` is the app's Jinja environment: it gains the ``cspNonce`` global and becomes
    ``app.state.templates`` for this package's pages.
    """
    from asgi_csrf import asgi_csrf

    settings = settings or get_settings()
    key = secret_key(settings)
    app.state.store_url = store_url
    app.state.access_settings = settings
    if env is not None:
        env.globals["cspNonce"] = _LazyNonce()
        env.globals["csrf_input"] = csrf_input
        env.globals["session_username"] = session_username
        app.state.templates = env

    async def on_refused(request: Request, exc: Exception) -> Response:
        return refused_response(request, cast(AccessRefused, exc))

    app.add_exception_handler(AccessRefused, on_refused)
    # Innermost first: CSRF runs inside the session, both inside the security headers.
    app.add_middleware(_CsrfTokenCapture)
    app.add_middleware(
        cast(Any, asgi_csrf),
        signing_secret=key,
        cookie_secure=settings.secure_cookies,
        # The sign-in form is protected even before the visitor has any cookie (login CSRF).
        always_protect={"/sign-in"},
        send_csrf_failed=_csrf_failed(lambda: getattr(app.state, "templates", None)),
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=key,
        session_cookie="uec_session",
        max_age=settings.session_hours * 3600,
        same_site="lax",
        https_only=settings.secure_cookies,
    )
    form_action = "'self'"
    if settings.oidc_issuer:
        issuer = urlsplit(settings.oidc_issuer)
        form_action += f" {issuer.scheme}://{issuer.netloc}"
    app.add_middleware(SecurityHeadersMiddleware, form_action=form_action)


def settings_of(request: Request) -> Settings:
    """The settings :func:`install` was given."""
    return cast(Settings, getattr(request.app.state, "access_settings", None) or get_settings())
