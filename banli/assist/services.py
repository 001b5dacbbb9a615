"""智能辅助: services."""
