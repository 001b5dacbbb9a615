"""办理流程: selectors."""
