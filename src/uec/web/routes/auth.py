"""Signing in and out: local accounts and OpenID Connect single sign-on (Authlib).

``/sign-in`` shows the sign-in page (the single sign-on button when an issuer is configured, the
local form when local accounts are on); ``POST /sign-in`` checks a local password;
``/auth/oidc/login`` sends the browser to the identity provider and ``/auth/oidc/callback`` takes
it back (authorisation code flow with PKCE; Authlib checks the state, the nonce and the ID
token's signature, issuer, audience and expiry). ``/sign-out`` asks, ``POST /sign-out`` does it.

The app must have :func:`uec.access.web.install` applied (sessions, CSRF, templates).
"""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from uec.access.accounts import SignInError, authenticate, sign_in_from_claims
from uec.access.web import AccessRefused, current_user, render, request_id, safe_next, settings_of, store_for
from uec.config import Settings

__all__ = ["router", "safe_next"]

router = APIRouter(include_in_schema=False)


def _oauth_client(request: Request) -> Any:
    """The Authlib client for the configured issuer, registered once per app."""
    settings = settings_of(request)
    if not settings.oidc_issuer or not settings.oidc_client_id:
        raise AccessRefused(404, "Single sign-on", "is not configured on this service (UEC_OIDC_ISSUER).")
    client = getattr(request.app.state, "oidc_client", None)
    if client is None:
        from authlib.integrations.starlette_client import OAuth

        oauth = OAuth()
        secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
        client = oauth.register(
            name="sso",
            client_id=settings.oidc_client_id,
            client_secret=secret,
            server_metadata_url=settings.oidc_issuer.rstrip("/") + "/.well-known/openid-configuration",
            client_kwargs={"scope": settings.oidc_scopes, "code_challenge_method": "S256"},
        )
        request.app.state.oidc_client = client
    return client


def _sign_in_page(request: Request, status: int = 200, **context: Any) -> HTMLResponse:
    settings = settings_of(request)
    return render(
        request,
        "sign_in.html",
        status,
        sso=bool(settings.oidc_issuer and settings.oidc_client_id),
        sso_text=settings.oidc_button_text,
        local_accounts=settings.local_accounts,
        **context,
    )


def _start_session(request: Request, username: str, via: str) -> None:
    # A new session on every sign-in: nothing from before (an OIDC state, a previous user) carries over.
    request.session.clear()
    request.session["user"] = username
    request.session["via"] = via


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request, next: str | None = None, signed_out: bool = False) -> HTMLResponse:
    return _sign_in_page(
        request,
        next_path=safe_next(next),
        message="You have signed out." if signed_out else None,
    )


@router.post("/sign-in", response_model=None)
def sign_in(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next: str = Form("/"),
) -> Response:
    settings: Settings = settings_of(request)
    if not settings.local_accounts:
        raise AccessRefused(403, "Signing in with a local account", "is turned off here; use single sign-on.")
    target = safe_next(next)
    if not username or not password:
        return _sign_in_page(request, 400, error="Enter your username and password.", username=username,
                             next_path=target)
    try:
        user = authenticate(
            store_for(request), username, password,
            max_failures=settings.lockout_failures, lockout_minutes=settings.lockout_minutes,
            request_id=request_id(),
        )
    except SignInError as exc:
        return _sign_in_page(request, 401, error=str(exc), username=username, next_path=target)
    _start_session(request, user.username, "local")
    return RedirectResponse(target, status_code=303)


@router.get("/sign-out", response_class=HTMLResponse)
def sign_out_page(request: Request) -> HTMLResponse:
    current_user(request)
    return render(request, "sign_out.html")


@router.post("/sign-out")
async def sign_out(request: Request) -> RedirectResponse:
    id_token, via = request.session.get("id_token"), request.session.get("via")
    request.session.clear()
    settings = settings_of(request)
    if via == "oidc" and id_token and settings.oidc_sign_out_at_provider:
        # End the provider's session too (OpenID Connect RP-Initiated Logout 1.0), or the next
        # "Sign in" would sign the same person straight back in without asking.
        try:
            metadata = await _oauth_client(request).load_server_metadata()
        except Exception:  # the provider is down: the session here is ended anyway
            metadata = {}
        end = metadata.get("end_session_endpoint")
        if end:
            back = str(request.url_for("sign_in_page")) + "?signed_out=true"
            query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": back,
                               "client_id": settings.oidc_client_id})
            return RedirectResponse(f"{end}?{query}", status_code=303)
    return RedirectResponse("/sign-in?signed_out=true", status_code=303)


@router.get("/auth/oidc/login", name="oidc_login")
async def oidc_login(request: Request, next: str | None = None) -> Response:
    client = _oauth_client(request)
    settings = settings_of(request)
    redirect_uri = settings.oidc_redirect_url or str(request.url_for("oidc_callback"))
    request.session["next"] = safe_next(next)
    try:
        return cast(Response, await client.authorize_redirect(request, redirect_uri))
    except Exception as exc:  # the provider cannot be reached or its metadata is wrong
        raise AccessRefused(
            503, "Single sign-on",
            f"the identity provider could not be reached ({type(exc).__name__}); try again later.",
        ) from None


@router.get("/auth/oidc/callback", name="oidc_callback")
async def oidc_callback(request: Request) -> Response:
    from authlib.integrations.base_client.errors import OAuthError

    client = _oauth_client(request)
    settings = settings_of(request)
    if "error" in request.query_params:
        # The provider says no (the person cancelled, or is not allowed this service).
        raise AccessRefused(401, "Single sign-on", f"the identity provider answered '{request.query_params['error']}'.")
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        raise AccessRefused(401, "Single sign-on", f"the sign-in could not be completed ({exc.error}). "
                            "Start again from the sign-in page.") from None
    claims = dict(token.get("userinfo") or {})
    if settings.oidc_org_claim not in claims:
        # Many providers release extra claims only at the userinfo endpoint, not in the ID token.
        claims.update(await client.userinfo(token=token))
    try:
        from starlette.concurrency import run_in_threadpool

        user = await run_in_threadpool(
            sign_in_from_claims, store_for(request), claims, issuer=str(settings.oidc_issuer),
            org_claim=settings.oidc_org_claim, default_role=settings.oidc_default_role, request_id=request_id(),
        )
    except SignInError as exc:
        raise AccessRefused(403, "Signing in", str(exc)) from None
    target = safe_next(request.session.get("next"))
    _start_session(request, user.username, "oidc")
    # Kept for signing out at the provider (id_token_hint); signed like the rest of the session.
    request.session["id_token"] = token.get("id_token")
    return RedirectResponse(quote(target, safe="/?=&%:;,+"), status_code=303)
