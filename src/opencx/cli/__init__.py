"""The ``opencx`` command."""
