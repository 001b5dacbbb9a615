"""单位与用户: services."""
