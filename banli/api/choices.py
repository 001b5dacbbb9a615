"""接口: choices."""
