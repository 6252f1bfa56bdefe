#!/usr/bin/python3
"""tls_load.py: the benchmark's TLS load: round trips of 32 bytes over loopback TLS with the system's libssl.

Usage: tls_load.py SECONDS. A server thread echoes; the client writes and reads
until the time is up. Prints {"ops": N}: each round trip is four TLS calls
(the client's write and read, the server's read and write).
"""
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    tmp = tempfile.mkdtemp(prefix="ebpf-forward-tls-")
    key, crt = os.path.join(tmp, "key.pem"), os.path.join(tmp, "crt.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
                    "-days", "1", "-subj", "/CN=localhost"], check=True, capture_output=True)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(crt, key)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_verify_locations(crt)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve():
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as s:
            while True:
                data = s.recv(32)
                if not data:
                    break
                s.sendall(data)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    ops, payload = 0, b"x" * 32
    with client_ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost") as c:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            c.sendall(payload)
            got = 0
            while got < len(payload):
                got += len(c.recv(32))
            ops += 1
    t.join(timeout=5)
    for f in (key, crt):
        os.unlink(f)
    os.rmdir(tmp)
    print(json.dumps({"ops": ops}))


if __name__ == "__main__":
    main()
