"""I/O-bound threads: a small local TCP server answers each request after a
short delay, and worker threads spend their time waiting in recv().

Expected verdict: io-bound (threads or asyncio; the GIL is not the problem).
"""
import socket
import threading
import time

from _common import parse, run


def serve(listener):
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=answer, args=(conn,), name="server", daemon=True).start()


def answer(conn):
    with conn:
        while conn.recv(64):
            time.sleep(0.02)  # the "remote" side takes its time
            conn.sendall(b"pong\n")


def main():
    args = parse(__doc__)
    listener = socket.create_server(("127.0.0.1", 0))
    threading.Thread(target=serve, args=(listener,), name="acceptor", daemon=True).start()
    port = listener.getsockname()[1]

    def client(stop):
        with socket.create_connection(("127.0.0.1", port)) as s:
            while not stop.is_set():
                s.sendall(b"ping\n")
                s.recv(64)

    run(args, client)


if __name__ == "__main__":
    main()
