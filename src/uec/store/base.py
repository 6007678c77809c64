"""What both engines share: the :class:`Store` and :class:`StoreWriter` interfaces.

Queries use named parameters written ``:name``; each engine turns them into its driver's style.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import wraps
from typing import Any, Concatenate, Literal, ParamSpec, TypeVar

import pyarrow as pa

from uec.contract import tables
from uec.errors import UecError
from uec.store.schema import BOOKKEEPING_DDL, schema_ddl

__all__ = [
    "DEFAULT_STORE", "PARAM", "Engine", "Params", "Store", "StoreBusy", "StoreWriter", "install_log_masking",
    "mask_secrets", "reading", "register_secret", "resolve_store_url",
]

#: Where the embedded store lives unless ``--store`` or ``UEC_STORE`` says otherwise.
DEFAULT_STORE = "data/uec.duckdb"

Engine = Literal["duckdb", "postgresql"]
Params = Mapping[str, Any] | None

#: A named parameter ``:name`` in SQL (not ``::type`` casts).
PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


# Passwords seen in store URLs this process opened, so that text that carries one without its URL
# (a driver's error, a log line) can still be masked.
_SECRETS: set[str] = set()
_URL_PASSWORD = re.compile(r"(\b[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@")
_KEYWORD_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('[^']*'|[^&\s]+)", re.IGNORECASE)


def register_secret(secret: str | None) -> None:
    """Remember a secret so that :func:`mask_secrets` masks it wherever it appears."""
    if secret and len(secret) >= 3:  # a 1-2 character "secret" would mask ordinary text
        _SECRETS.add(secret)


def mask_secrets(text: str) -> str:
    """``text`` with every password masked: in URLs, in ``password=`` settings and any registered.

    The one function for showing a store URL or any text that might hold one (CLI output, logs,
    pages, errors from the database driver).

    >>> mask_secrets("postgresql://uec:hunter2@db.example/uec")
    'postgresql://uec:***@db.example/uec'
    >>> mask_secrets("host=db password=hunter2 user=uec"), mask_secrets("data/uec.duckdb")
    ('host=db password=*** user=uec', 'data/uec.duckdb')
    """
    from urllib.parse import unquote

    text = _URL_PASSWORD.sub(r"\1***@", text)
    text = _KEYWORD_PASSWORD.sub(r"\1***", text)
    for secret in sorted(_SECRETS, key=len, reverse=True):
        for form in {secret, unquote(secret)}:
            text = text.replace(form, "***")
    return text


class _MaskingFactory:
    """Masks secrets in every log record, whichever logger or handler it goes through."""

    def __init__(self, factory: Callable[..., logging.LogRecord]) -> None:
        self.factory = factory

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.factory(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's own business to report
            return record
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return record


def install_log_masking() -> None:
    """Mask secrets in all log records of this process (idempotent); :func:`uec.store.open_store` calls it."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _MaskingFactory):
        logging.setLogRecordFactory(_MaskingFactory(factory))


class StoreBusy(UecError):
    """Another writer held the store for longer than a writer waits (``UEC_LOCK_WAIT_SECONDS``).

    Only the embedded store raises it; a background worker waits and tries again.
    """


def resolve_store_url(url: str | None) -> str:
    """The store URL to use: the argument, else ``UEC_STORE``, else :data:`DEFAULT_STORE`.

    >>> resolve_store_url("x.duckdb")
    'x.duckdb'
    """
    return url or os.environ.get("UEC_STORE") or DEFAULT_STORE


class StoreWriter(ABC):
    """The handle a write transaction gets. Nothing it does is visible until the block commits."""

    @abstractmethod
    def execute(self, sql: str, params: Params = None) -> None: ...

    @abstractmethod
    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]: ...

    @abstractmethod
    def append(self, table_name: str, data: pa.Table) -> None:
        """Append an Arrow table whose column names are columns of ``table_name``."""

    @abstractmethod
    def stage(self, name: str, data: pa.Table) -> None:
        """Create a temporary table ``name`` holding ``data`` for the rest of the transaction."""


class Store(ABC):
    """One store, either engine. Open it with :func:`open_store`."""

    engine: Engine
    url: str

    @property
    def display_url(self) -> str:
        """The store's URL as it may be shown anywhere: the password masked (:func:`mask_secrets`)."""
        return mask_secrets(self.url)

    @abstractmethod
    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows of a read-only query as dicts."""

    @abstractmethod
    def query_arrow(self, sql: str, params: Params = None) -> pa.Table:
        """A read-only query as an Arrow table (for exports and large reads)."""

    @abstractmethod
    @contextmanager
    def write(self) -> Iterator[StoreWriter]:
        """A write transaction: commits when the block ends, rolls back if it raises or is killed."""

    @abstractmethod
    def _open_reader(self) -> Any:
        """A new read-only connection."""

    def _held(self) -> Any:
        """The connection a :meth:`reading` block on this thread holds, if any."""
        local: threading.local | None = self.__dict__.get("_local")
        return None if local is None else getattr(local, "con", None)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Run the block's queries on one read connection instead of one each.

        A page or a whole catalogue of standards makes dozens of small queries; opening a
        connection for each costs more than many of the queries themselves. Blocks nest (the outer
        one's connection is used) and are per thread. On DuckDB the held connection keeps writers
        in other processes waiting, so hold it for one request, not longer.

        >>> import tempfile, os
        >>> from uec.store import open_store
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(os.path.join(d, "uec.duckdb"))
        ...     with store.reading():
        ...         [store.query("SELECT 1 AS one")[0]["one"], store.query_arrow("SELECT 2 AS two").num_rows]
        [1, 1]
        """
        local = self.__dict__.setdefault("_local", threading.local())
        if getattr(local, "con", None) is not None:
            yield
            return
        con = self._open_reader()
        local.con = con
        try:
            yield
        finally:
            local.con = None
            con.close()

    @contextmanager
    def _reader(self) -> Iterator[Any]:
        """The held read connection, or a new one closed after the block."""
        held = self._held()
        if held is not None:
            yield held
            return
        con = self._open_reader()
        try:
            yield con
        finally:
            con.close()

    def ensure_schema(self) -> None:
        """Create every contract and bookkeeping table that is missing."""
        with self.write() as w:
            for t in tables():
                w.execute(schema_ddl(t))
            for ddl in BOOKKEEPING_DDL:
                w.execute(ddl)

    def data_version(self) -> tuple[Any, ...]:
        """A value that changes whenever the data changes: every cache of computed answers keys on it.

        Loads are recorded in ``loads``; row counts catch every other change (a demo rebuilt, a
        simulated run written).

        >>> import tempfile, os
        >>> from uec.store import open_store
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(os.path.join(d, "uec.duckdb"))
        ...     store.data_version() == store.data_version()
        True
        """
        with self.reading():
            loads = self.query("SELECT count(*) AS n, max(load_id) AS last FROM loads")[0]
            return (self.url, loads["n"], loads["last"], tuple(sorted(self.counts().items())))

    def change_stamp(self) -> tuple[Any, ...] | None:
        """A value that changes with every committed write, got without a query (a file's status), or
        ``None`` when the engine has none. A cache may keep :meth:`data_version` while it is unchanged.

        >>> import tempfile, os
        >>> from uec.store import open_store
        >>> with tempfile.TemporaryDirectory() as d:
        ...     store = open_store(os.path.join(d, "uec.duckdb"))
        ...     before = store.change_stamp()
        ...     with store.write() as w:
        ...         w.execute("CREATE TABLE notes (n INTEGER)")
        ...     before is not None and store.change_stamp() != before
        True
        """
        return None

    def counts(self) -> dict[str, int]:
        """Rows in every contract table, by table name."""
        sql = " UNION ALL ".join(f"SELECT '{t.name}' AS t, count(*) AS n FROM {t.name}" for t in tables())
        return {r["t"]: int(r["n"]) for r in self.query(sql)}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def reading(fn: Callable[Concatenate[Store, _P], _R]) -> Callable[Concatenate[Store, _P], _R]:
    """Decorate a function of a store so that all its queries share one connection (:meth:`Store.reading`).

    >>> @reading
    ... def two_counts(store: Store) -> tuple[int, int]:
    ...     return store.counts()["attendances"], store.counts()["spells"]
    >>> import tempfile, os
    >>> from uec.store import open_store
    >>> with tempfile.TemporaryDirectory() as d:
    ...     two_counts(open_store(os.path.join(d, "uec.duckdb")))
    (0, 0)
    """

    @wraps(fn)
    def wrapper(store: Store, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store.reading():
            return fn(store, *args, **kwargs)

    return wrapper
