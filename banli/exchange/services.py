"""数据交换: services."""
