"""Ports: what the services need from the outside world, as plain-Python protocols.

Adapters (`app.sip`, `app.storage`, `app.keyring`, `app.mail`) implement them; tests may use fakes
in unit and GUI layers, never in integration or end-to-end tests.
"""
