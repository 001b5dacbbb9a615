"""数据交换: choices."""
from django.db import models


class BatchKind(models.TextChoices):
    LIST = "list", "交办清单"
    BODIES = "bodies", "提案正文"


class BatchState(models.TextChoices):
    UPLOADED = "uploaded", "待导入"
    QUEUED = "queued", "等待导入"
    RUNNING = "running", "正在导入"
    FAILED = "failed", "导入未完成"
    IMPORTED = "imported", "已导入"
