"""Versioned Making Data Count rule sets, one YAML file each; :mod:`uec.spc.ruleset` reads them.

This is a package only so that the YAML files ship inside the wheel with the code that reads them.
"""
