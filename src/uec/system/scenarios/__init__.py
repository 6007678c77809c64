"""Example scenario files for ``uec simulate`` (a package so the YAML files ship with it)."""
