"""公共: forms."""
