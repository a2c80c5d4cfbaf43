"""The SQL store: a projection of the event stream into SQLite or PostgreSQL (SQLAlchemy Core).

It is never the source of truth: `Projector.reset` plus a replay of the journal rebuilds it.
"""
