"""公开门户: choices."""
