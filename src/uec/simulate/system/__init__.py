"""The whole-system flow model: NHS 111 and 999 through ambulance, ED, beds and discharge, on :mod:`uec.simulate`."""
