"""``python -m uec`` runs the command line."""

# Before any other import: a Ctrl+C during the imports below (or anywhere in start-up) is recorded
# as well as raised, so that `uec serve` still stops if the KeyboardInterrupt is swallowed on its way
# (pydantic-core and DuckDB do; see uec.interrupts).
from uec import interrupts

interrupts.install()

from uec.cli import main  # noqa: E402 - after the handler, on purpose

main()
