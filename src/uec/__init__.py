"""UEC Resilience: an open platform for an integrated care system's urgent and emergency care.

Capabilities, each a package with a small public API: ``uec.contract`` (the event contract),
``uec.store`` (DuckDB or PostgreSQL), ``uec.ingest`` (validated loads with a quarantine),
``uec.demo`` (the seeded demo ICS), ``uec.web`` (the web app), ``uec.spc``, ``uec.forecast`` and
``uec.simulate``.
"""

__version__ = "0.1.0"
