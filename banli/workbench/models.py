"""工作台: models."""
