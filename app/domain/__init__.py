"""Plain-Python domain: who calls whom, and what a call record must hold before it closes.

Imports neither Qt, pjsua2, SQLAlchemy nor keyring (enforced by import-linter).
"""
