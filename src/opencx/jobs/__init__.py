"""Background jobs: one registry of job functions, two runners (in-process on SQLite,
procrastinate on PostgreSQL)."""
