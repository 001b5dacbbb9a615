"""接口: selectors."""
