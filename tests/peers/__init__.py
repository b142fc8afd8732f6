"""Real SIP peers for tests and benchmarks: Kamailio, SIPp, the demo line, on loopback ports.

Every launcher is a context manager that starts the process in its own session and stops that
process group on exit, even when the test failed. A missing binary raises `PeerMissing`,
which the fixtures turn into a test failure (never a skip).
"""
