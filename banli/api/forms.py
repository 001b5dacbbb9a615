"""接口: forms."""
