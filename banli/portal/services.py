"""公开门户: services."""
