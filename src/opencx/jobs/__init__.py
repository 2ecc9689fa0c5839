"""Background jobs: one registry of job functions, two runners (in-process on any
database, SQLite by default; procrastinate on PostgreSQL). See ``docs/jobs.md``.

- ``registry``: ``@job("name")`` and ``default_registry()``
- ``inprocess`` / ``runner``: the ``jobs`` table and the runner that claims its rows
- ``procrastinate_backend``: the same jobs on procrastinate (optional extra ``postgres``)
- ``backends``: picks one from settings; ``maintenance``: OpenCX's own periodic jobs
"""
