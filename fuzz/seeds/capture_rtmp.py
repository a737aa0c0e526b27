#!/usr/bin/env python3
"""capture_rtmp.py - records what a real RTMP client sends, for the rtmp_chunk fuzz corpus.

Sits between a client and a running node as a TCP proxy and writes the client's bytes after
the handshake (C0+C1+C2 = 3073 bytes), prefixed by one byte that picks the fuzz target's read
size, capped at --max bytes. Usage:

    capture_rtmp.py --listen 127.0.0.1:19350 --node 127.0.0.1:1935 --out seed.bin [--step N]
    (then point ffmpeg/rtmpdump/gst at rtmp://127.0.0.1:19350/...)
"""
import argparse
import socket
import threading

HANDSHAKE = 1 + 1536 + 1536


def pipe(src, dst, sink):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if sink is not None:
                sink.extend(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True)
    ap.add_argument("--node", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--step", type=int, default=0)
    ap.add_argument("--max", type=int, default=48 * 1024)
    a = ap.parse_args()
    host, port = a.listen.rsplit(":", 1)
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((host, int(port)))
    ls.listen(1)
    client, _ = ls.accept()
    nh, np = a.node.rsplit(":", 1)
    node = socket.create_connection((nh, int(np)))
    sent = bytearray()
    t1 = threading.Thread(target=pipe, args=(client, node, sent))
    t2 = threading.Thread(target=pipe, args=(node, client, None))
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    with open(a.out, "wb") as f:
        f.write(bytes([a.step & 0xFF]) + bytes(sent[HANDSHAKE:HANDSHAKE + a.max]))


if __name__ == "__main__":
    main()
