"""工作台: services."""
