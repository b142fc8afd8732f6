"""Use cases: what an agent's desk can do, over the ports. Runs on the worker thread, never the GUI."""
