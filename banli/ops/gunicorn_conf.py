"""gunicorn configuration of the production server: `gunicorn -c python:banli.ops.gunicorn_conf banli.wsgi`.

Why gunicorn with gthread workers: Banli's views are plain synchronous Django over psycopg, so an async server
(uvicorn/ASGI) would gain nothing, and green threads (gevent/eventlet) would need psycopg, LibreOffice calls and
scikit-learn patched underneath them. gthread runs a fixed pool of real threads in each worker process: a
request waiting on PostgreSQL releases the GIL for the others, a slow export does not block its whole process,
keep-alive works, and, above all, the number of requests in flight (and so of database connections) is fixed
at workers x threads instead of growing with the load until PostgreSQL refuses clients (the runserver failure).

Every value comes from the environment (banli.env, failing loudly):
  BANLI_BIND             address to listen on (default 127.0.0.1:8000; behind nginx keep it on loopback)
  BANLI_WEB_WORKERS      worker processes (default 2 x cores + 1, cores as the scheduler lets this process use)
  BANLI_WEB_THREADS      threads per worker (default 4); each worker's database pool holds as many connections
  BANLI_WEB_TIMEOUT      seconds: a worker silent this long is restarted (a gthread worker's heartbeat comes
                         from its main loop, so a slow request never triggers it), a stopping worker finishes
                         its requests within it, and each SQL statement of a request is cut off after it
                         (PostgreSQL statement_timeout); nginx waits a little longer
  BANLI_WEB_BACKLOG      connections waiting for a free thread (default 2048, capped by net.core.somaxconn)
  BANLI_WEB_KEEPALIVE    seconds a connection stays open for the next request (default 0, see below)
  BANLI_TRUSTED_PROXIES  proxies whose X-Forwarded-Proto/-For gunicorn believes (default loopback)
"""
from __future__ import annotations

import os

from banli.env import SettingError, env_int, env_list, env_str

try:
    _cores = len(os.sched_getaffinity(0))
except AttributeError:  # not Linux
    _cores = os.cpu_count() or 1

bind = env_str("BANLI_BIND", "127.0.0.1:8000").split(",")
worker_class = "gthread"
workers = env_int("BANLI_WEB_WORKERS", 2 * _cores + 1)
threads = env_int("BANLI_WEB_THREADS", 4)
timeout = env_int("BANLI_WEB_TIMEOUT", 60)
# A stopping worker (max_requests, a reload) finishes the requests it has accepted within this; the ones still
# waiting in the backlog are taken by the other workers.
graceful_timeout = timeout
# One queue, first come first served. A worker accepts a connection only while one of its threads is free
# (worker_connections = threads); every other request waits in the listening socket's backlog, which all workers
# take from in arrival order, so under overload a request waits its turn instead of being stacked behind a slow
# one in one worker's private queue (gunicorn's default: up to 1000 connections per worker) while another worker
# idles. The backlog must hold every request that may wait: the kernel caps it at net.core.somaxconn.
backlog = env_int("BANLI_WEB_BACKLOG", 2048)
# Keep-alive off: a kept-alive connection would hold a worker's slot between a person's clicks (and jump the
# queue), and a server closing an idle one while the client reuses it resets that request. nginx in front keeps
# the browsers' connections alive; to gunicorn on loopback a connection per request costs well under 1 ms.
keepalive = env_int("BANLI_WEB_KEEPALIVE", 0)
# With keep-alive turned on, as many idle connections as threads may wait beside the busy ones.
worker_connections = threads * 2 if keepalive else threads
# A worker is replaced after this many requests (with jitter, so not all at once): bounds slow memory growth.
max_requests = env_int("BANLI_WEB_MAX_REQUESTS", 2000)
max_requests_jitter = max_requests // 10
# The worker heartbeat file on tmpfs: a slow or full disk (containers' overlay) must not look like a hung worker.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
forwarded_allow_ips = ",".join(env_list("BANLI_TRUSTED_PROXIES", ["127.0.0.1", "::1"]))
proc_name = "banli-web"
# gunicorn's runtime control socket (one fixed path per user by default) would be shared by two servers on one
# host; it is off unless a path is given. Restart and reload go through systemd or signals instead.
if env_str("BANLI_CONTROL_SOCKET"):
    control_socket = env_str("BANLI_CONTROL_SOCKET")
else:
    control_socket_disable = True
if workers < 1 or threads < 1 or timeout < 5 or backlog < 64 or keepalive < 0:
    raise SettingError("BANLI_WEB_WORKERS and BANLI_WEB_THREADS must be at least 1, BANLI_WEB_TIMEOUT at least 5, "
                       "BANLI_WEB_BACKLOG at least 64 and BANLI_WEB_KEEPALIVE not negative")

# What the Django settings read in the workers: one pooled connection per thread, statements bounded by the
# request timeout, JSON logs, hashed and compressed static files (collected by `make serve` / deploy/).
os.environ.setdefault("BANLI_DB_POOL_SIZE", str(threads))
os.environ.setdefault("BANLI_DB_STATEMENT_TIMEOUT", str(timeout))
os.environ.setdefault("BANLI_LOG_FORMAT", "json")
os.environ.setdefault("BANLI_STATIC_HASHED", "1")

accesslog = "-"
errorlog = "-"
loglevel = env_str("LOG_LEVEL", "info").lower()
if os.environ["BANLI_LOG_FORMAT"] == "json":
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "banli.ops.logs.JsonFormatter"}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stdout"}},
        "root": {"handlers": ["stdout"], "level": "INFO"},
        "loggers": {
            "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
            "gunicorn.access": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        },
    }
