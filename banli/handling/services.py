"""办理流程: services."""
