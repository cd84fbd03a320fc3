"""gunicorn settings for `make run` and production; override any of them on the command line."""

import multiprocessing
import os

bind = os.environ.get("SCORING_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("SCORING_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("SCORING_THREADS", 4))
timeout = 60
accesslog = "-" if os.environ.get("SCORING_ACCESS_LOG") else None
# Nothing that another worker needs is kept in process memory, so workers can restart freely.
max_requests = 10_000
max_requests_jitter = 1_000
