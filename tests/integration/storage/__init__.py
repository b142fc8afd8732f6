"""Storage integration tests: real SQLite files and a real PostgreSQL server, never mocks."""
