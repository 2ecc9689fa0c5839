"""The pure core: domain values, rules and lifecycles. Standard library only, no I/O."""
