"""接口: tasks."""
