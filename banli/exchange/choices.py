"""数据交换: choices."""
