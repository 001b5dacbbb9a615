"""公共: tasks."""
