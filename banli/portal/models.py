"""公开门户: models."""
