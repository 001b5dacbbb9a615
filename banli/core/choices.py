"""公共: choices."""
