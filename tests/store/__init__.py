"""Contract tests of the SQL store, run against SQLite and PostgreSQL alike."""
