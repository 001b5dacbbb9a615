"""公共: selectors."""
