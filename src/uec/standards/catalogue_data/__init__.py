"""The reviewed standards catalogue: one YAML file per area, and the sources they cite.

A package (not just a folder) so that packaging's ``*.yaml`` package-data rule ships these files.
Not named ``catalogue``: importing a subpackage of that name would replace the function
:func:`uec.standards.catalogue` on its parent package.
"""
