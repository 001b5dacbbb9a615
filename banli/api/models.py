"""接口: models."""
