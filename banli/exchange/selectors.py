"""数据交换: selectors."""
