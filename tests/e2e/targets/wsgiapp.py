"""A WSGI application for a real pre-forking server (gunicorn): every request
burns about WORK_S of CPU in Python in `handle`, and the response names the
worker process that served it (its os.getpid()), so a test knows from the
server itself which workers did the work."""
import os
import time

WORK_S = 0.02


def handle():
    end = time.thread_time() + WORK_S
    x = 0
    while time.thread_time() < end:
        for _ in range(2000):
            x += 1
    return x


def app(environ, start_response):
    handle()
    body = f"{os.getpid()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
