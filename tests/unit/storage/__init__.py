"""Storage unit tests: the pure parts (search keys, hash chain, column types, demo data)."""
