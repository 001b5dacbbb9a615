"""接口: choices."""
from django.db import models


class TokenScope(models.TextChoices):
    READ = "read", "只读"
    WRITE = "write", "读写"
