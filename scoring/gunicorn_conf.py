"""gunicorn settings for `make run` and production; override any of them on the command line."""

import multiprocessing
import os

bind = os.environ.get("SCORING_BIND", "127.0.0.1:5000")
workers = int(os.environ.get("SCORING_WORKERS", min(4, multiprocessing.cpu_count() * 2)))
threads = int(os.environ.get("SCORING_THREADS", 4))
timeout = 60
accesslog = "-" if os.environ.get("SCORING_ACCESS_LOG") else None
# Nothing that another worker needs is kept in process memory, so workers can restart freely.
max_requests = 200_000  # a public pool under a crowd answers ~1,000 a second
max_requests_jitter = 20_000

# A pool that serves only the public routes (behind a proxy that routes /e/, /api/ and
# /verify to it, see README "Deployment") runs at a lower CPU priority, so that a crowd's
# polls never slow a judge's save on the same machine: SCORING_WORKER_NICE=10.
worker_nice = int(os.environ.get("SCORING_WORKER_NICE", "0") or 0)


def post_fork(server, worker):  # type: ignore[no-untyped-def]
    if worker_nice:
        os.nice(worker_nice)
