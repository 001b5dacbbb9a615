"""工作台: choices."""
