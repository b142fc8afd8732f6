"""SQLAlchemy repositories behind the `app.ports.store` protocols, one session per unit of work."""
