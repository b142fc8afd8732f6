"""Demo mode: a local demo line and demo customers, so a newcomer sees the whole flow at once."""
