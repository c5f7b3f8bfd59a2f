"""CLI command groups, one module per area (lazy heavy imports inside each command)."""
