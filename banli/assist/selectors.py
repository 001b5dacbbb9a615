"""智能辅助: selectors."""
