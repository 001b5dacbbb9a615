"""公开门户: selectors."""
