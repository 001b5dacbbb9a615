"""接口: views."""
