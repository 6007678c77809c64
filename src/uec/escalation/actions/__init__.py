"""Action cards as data: one YAML file per framework (``opel-2024-26.yaml``), read by
:mod:`uec.escalation.tracked`."""
