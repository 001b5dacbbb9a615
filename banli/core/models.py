"""公共: models."""
