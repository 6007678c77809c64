"""``python -m uec`` runs the command line."""

from uec.cli import main

main()
