"""单位与用户: selectors."""
