"""The routing engine: pure, no I/O."""
