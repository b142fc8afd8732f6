"""The outbound-call policy as data plus a pure engine: pack → verdicts with reasons and fixes.

Public entry points: `pack.load_pack`, `engine.evaluate` (dial gate), `obligations.evaluate_record`
/ `closure_blockers` (what a record owes), `sensitive.find_sensitive`, `numbers.*`. Imports no
Qt, SIP, database or keyring code (import-linter contract); nothing is loaded at import time.
"""
