"""工作台: selectors."""
