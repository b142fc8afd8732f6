"""Callwise core: domain, policy and services, plus the adapters to SIP, storage, keyring and mail.

Nothing here imports Qt; the `ui` package sits on top. Nothing is created at import time:
`app.bootstrap` wires the object graph and the UI entry point is its only caller.
"""

__version__ = "0.1.0"
