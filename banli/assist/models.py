"""智能辅助: models."""
