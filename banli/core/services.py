"""公共: services."""
