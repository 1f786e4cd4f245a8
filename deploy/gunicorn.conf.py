"""gunicorn settings for production: ``gunicorn -c deploy/gunicorn.conf.py index:server``.

Every value can be overridden from the environment (GUNICORN_* below) or the command line.
"""
import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:24000")
# Requests are mostly I/O on the store plus some CPU (rendering, fits): 2 per core + 1.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 12)))
# Threads (gthread workers): a worker waiting on a fit's child process (api/queries/isolated.py)
# or on the store still answers other requests, so a health probe is answered while every
# compute slot is busy (fits are admitted by compute_slots, below workers * threads).
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))          # a worker silent this long is restarted
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak can never grow without bound.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 2000))
max_requests_jitter = 200
# Long Fink-style GET requests (many objectIds) fit within these limits.
limit_request_line = 8190
limit_request_field_size = 8190
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'
# Each worker opens its own store connection after the fork.
preload_app = False
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")


def post_worker_init(worker):
    """Start the analysis dispatcher thread in each worker: one of them (the holder of its lock
    file) sends queued analyses, the others take over if it dies (api/analysis_dispatcher.py)."""
    from api.analysis_dispatcher import ensure_started
    ensure_started(worker.app.wsgi().config["NOCTURNE"])
