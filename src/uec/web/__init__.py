"""The web shell: NHS.UK-styled pages, their JSON and CSV siblings, and a JSON API over the store.

Run it with uvicorn (``uvicorn --factory uec.web:create_app``) or ``create_app(store_url)`` in code.

>>> from uec.web import create_app
>>> create_app.__name__
'create_app'
"""

from uec.web.app import create_app

__all__ = ["create_app"]
