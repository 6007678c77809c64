"""Module-level routers of the web app, one per resource."""
