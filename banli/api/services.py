"""接口: services."""
