"""智能辅助: choices."""
