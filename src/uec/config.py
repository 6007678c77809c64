"""One typed ``Settings`` for the whole product, read once from the environment (``UEC_*``) and an
optional ``.env`` file.

Every setting has a default that works for the demo on one machine; a deployment sets what differs.
Secrets are ``SecretStr`` so that printing the settings (or an error that includes them) never shows
them.

>>> s = Settings(_env_file=None, store="x.duckdb")
>>> s.store, s.bind_host
('x.duckdb', '127.0.0.1')
>>> "hunter2" in repr(Settings(_env_file=None, oidc_client_secret="hunter2"))
False
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from uec.store.base import DEFAULT_STORE

__all__ = ["Settings", "get_settings"]


class Settings(BaseSettings):
    """Settings of the web app, the worker and the CLI. Environment variables are ``UEC_`` + the name."""

    model_config = SettingsConfigDict(env_prefix="UEC_", env_file=".env", extra="ignore")

    # The store: a DuckDB file path or a postgresql:// URL.
    store: str = DEFAULT_STORE
    # Web server.
    bind_host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8000
    frontend_dir: str | None = None
    # Signs session cookies and CSRF tokens. The demo generates one into .state/ when unset.
    secret_key: SecretStr | None = None
    # OpenID Connect single sign-on (NHS CIS2, Microsoft Entra ID, ...): off unless an issuer is set.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_org_claim: str = "org_code"
    oidc_scopes: str = "openid profile email"
    # Local accounts (small deployments and the demo).
    local_accounts: bool = True
    lockout_failures: Annotated[int, Field(ge=1)] = 5
    lockout_minutes: Annotated[int, Field(ge=1)] = 15
    session_hours: Annotated[int, Field(ge=1)] = 12
    # Cookies marked Secure: on behind HTTPS; the demo on http://127.0.0.1 needs it off.
    secure_cookies: bool = False
    debug: bool = False
    # Background jobs (uec.jobs, `uec worker`): jobs queued or running at once per person and for
    # everyone; how often an idle worker looks for work; how old a running job's heartbeat may be
    # before its worker is taken for dead; how often a job is tried before it is failed.
    jobs_per_owner: Annotated[int, Field(ge=1)] = 3
    jobs_total: Annotated[int, Field(ge=1)] = 20
    job_poll_seconds: Annotated[float, Field(gt=0)] = 1.0
    job_stale_seconds: Annotated[float, Field(gt=0)] = 120.0
    job_max_attempts: Annotated[int, Field(ge=1)] = 2
    # Web server processes (`uec serve --workers`); unset means one per core.
    web_workers: Annotated[int, Field(ge=1)] | None = None
    # Whether the web app runs queued jobs itself, on a background thread (an app in one process, as
    # tests make). `uec serve` turns it off: the `uec worker` beside it runs them.
    web_runs_jobs: bool = True
    # Web: the cache of computed answers (standards, forecasts, occupancy) shared by every worker
    # process, and how many scenario runs this server's in-process queue holds at once.
    cache_dir: str = ".state/cache"
    cache_size_mb: Annotated[int, Field(ge=1)] = 512
    scenario_queue_limit: Annotated[int, Field(ge=1)] = 4
    # --- access (uec.access): sign-in, sessions and the demo's secret -------------------------
    # Where the demo keeps what it generates (the session secret when UEC_SECRET_KEY is unset).
    state_dir: str = ".state"
    # The callback URL registered with the identity provider, when the app is behind a proxy that
    # changes the host or scheme (otherwise it is worked out from the request).
    oidc_redirect_url: str | None = None
    # The role a person signing in by SSO for the first time gets; administrators grant more.
    oidc_default_role: str = "viewer"
    # The words on the single sign-on button ("Sign in with ...").
    oidc_button_text: str = "your organisation's account"
    # Signing out of the service also ends the single sign-on session at the provider (RP-initiated
    # logout), when the provider offers it.
    oidc_sign_out_at_provider: bool = True
    # How long a process remembers who a session or token is (uec.access.cache); 0: every request.
    access_cache_seconds: Annotated[float, Field(ge=0)] = 5.0
    # Ingest (harden branch): days rejected rows are kept before a load or `uec quarantine purge`
    # deletes them; the reasoning for 90 is at uec.ingest.DEFAULT_RETENTION_DAYS.
    quarantine_retention_days: Annotated[int, Field(ge=0)] = 90

    # --- escalation (uec.escalation): declared levels, tracked actions, notifications ----------
    # The SMTP server notifications are sent through (no authentication: a local relay).
    smtp_host: str = "127.0.0.1"
    smtp_port: Annotated[int, Field(ge=1, le=65535)] = 25
    smtp_from: str = "uec-resilience@localhost"
    # A subscription hears of the same kind of event on the same object at most once per cool-down.
    notify_cooldown_minutes: Annotated[float, Field(ge=0)] = 30.0
    # A rise of a *calculated* level (not only a declared one) creates that level's tracked actions.
    escalation_actions_on_calculated: bool = False

    # --- the web app's permissions (uec.web.deps.allow) -------------------------------------------
    # Whether visitors who are not signed in may read the aggregate pages, their downloads and the
    # aggregate API. Off by default: a coordination centre's figures are for its organisations, not
    # the public. A single-machine demo may turn it on; patient-level rows and actions never open.
    anonymous_read: bool = False


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings, read once per process (tests override the FastAPI dependency instead)."""
    return Settings()
