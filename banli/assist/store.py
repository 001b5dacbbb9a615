"""Where trained assist models live: files under settings.VAR_DIR/assist, loaded once per process."""
from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

from django.conf import settings

_lock = threading.Lock()
_cache: dict[str, tuple[float, dict]] = {}


def model_dir() -> Path:
    return Path(getattr(settings, "BANLI_ASSIST_DIR", "") or Path(settings.VAR_DIR) / "assist")


def model_path(task: str) -> Path:
    return model_dir() / f"{task}.joblib"


def save_bundle(task: str, bundle: dict) -> Path:
    """Write a trained bundle atomically so that a running process never loads half a file."""
    import joblib  # noqa: PLC0415 - only where a model file is read or written

    path = model_path(task)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    joblib.dump(bundle, tmp, compress=3)
    os.replace(tmp, path)
    with _lock:
        _cache.pop(str(path), None)
    return path


def load_bundle(task: str) -> dict | None:
    """The trained bundle of a task ({"model", "meta"}), or None when none has been trained yet."""
    import joblib  # noqa: PLC0415 - only where a model file is read or written

    path = model_path(task)
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        return None
    with _lock:
        cached = _cache.get(str(path))
        if cached and cached[0] == mtime:
            return cached[1]
        bundle = joblib.load(path)
        _cache[str(path)] = (mtime, bundle)
        return bundle
