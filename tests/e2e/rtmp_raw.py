# SPDX-License-Identifier: Apache-2.0
"""rtmp_raw.py - a small RTMP client in the Python standard library, for tests that must send
what no real client would: the handshake, chunks with any header, and just enough AMF0 for
connect, createStream, publish and play.

    c = RawRtmp(addr, port)
    c.handshake()
    c.connect("live")            # waits for _result
    sid = c.create_stream()
    c.publish(sid, "name")       # waits for onStatus
    c.send_msg(TYPE_VIDEO, body, msid=sid, ts=0)

Every read has a deadline; nothing here waits forever.
"""
import os
import socket
import struct
import time

TYPE_SET_CHUNK_SIZE = 1
TYPE_ABORT = 2
TYPE_ACK = 3
TYPE_USER_CONTROL = 4
TYPE_WINDOW_ACK = 5
TYPE_SET_PEER_BW = 6
TYPE_AUDIO = 8
TYPE_VIDEO = 9
TYPE_DATA_AMF0 = 18
TYPE_COMMAND_AMF0 = 20


# --- AMF0 -------------------------------------------------------------------------------

class Obj(dict):
    """An AMF0 object (a dict with string keys)."""


def amf_str(s):
    b = s if isinstance(s, bytes) else s.encode("utf-8")
    return struct.pack(">H", len(b)) + b


def amf(v):
    """Encodes one value: None, bool, int/float, str/bytes, dict (object), list (strict array)."""
    if v is None:
        return b"\x05"
    if isinstance(v, bool):
        return b"\x01" + (b"\x01" if v else b"\x00")
    if isinstance(v, (int, float)):
        return b"\x00" + struct.pack(">d", float(v))
    if isinstance(v, (str, bytes)):
        return b"\x02" + amf_str(v)
    if isinstance(v, dict):
        out = b"\x03"
        for k, x in v.items():
            out += amf_str(k) + amf(x)
        return out + b"\x00\x00\x09"
    if isinstance(v, list):
        return b"\x0a" + struct.pack(">I", len(v)) + b"".join(amf(x) for x in v)
    raise TypeError(type(v))


def amf_all(*values):
    return b"".join(amf(v) for v in values)


def amf_nested(depth, kind="object"):
    """A value nested depth levels deep, built without recursion."""
    if kind == "array":
        return b"\x0a\x00\x00\x00\x01" * depth + b"\x05"
    return (b"\x03\x00\x01k") * depth + b"\x05" + b"\x00\x00\x09" * depth


def amf_decode_strings(body):
    """The AMF0 strings in a command body, in order (enough to read _result/onStatus)."""
    out, i = [], 0
    while i < len(body):
        t = body[i]
        if t == 0x02 and i + 3 <= len(body):
            n = struct.unpack(">H", body[i + 1:i + 3])[0]
            out.append(body[i + 3:i + 3 + n].decode("utf-8", "replace"))
            i += 3 + n
        else:
            i += 1
    return out


# --- chunks -----------------------------------------------------------------------------

def basic_header(fmt, csid):
    if csid < 64:
        return bytes([(fmt << 6) | csid])
    if csid < 320:
        return bytes([fmt << 6, csid - 64])
    return bytes([(fmt << 6) | 1]) + struct.pack("<H", csid - 64)


def chunk_header(fmt, csid, ts=0, length=0, mtype=0, msid=0):
    """A chunk header of format fmt; length and type are whatever the caller claims."""
    h = basic_header(fmt, csid)
    ext = ts >= 0xffffff
    t24 = 0xffffff if ext else ts
    if fmt == 0:
        h += struct.pack(">I", t24)[1:] + struct.pack(">I", length)[1:] + bytes([mtype]) + \
            struct.pack("<I", msid)
    elif fmt == 1:
        h += struct.pack(">I", t24)[1:] + struct.pack(">I", length)[1:] + bytes([mtype])
    elif fmt == 2:
        h += struct.pack(">I", t24)[1:]
    if ext and fmt < 3:
        h += struct.pack(">I", ts)
    return h


def chunk_message(csid, mtype, msid, ts, body, chunk_size):
    """One message as chunks: a type-0 header, then type-3 headers."""
    out = [chunk_header(0, csid, ts, len(body), mtype, msid)]
    cont = basic_header(3, csid) + (struct.pack(">I", ts) if ts >= 0xffffff else b"")
    for off in range(0, max(len(body), 1), chunk_size):
        if off:
            out.append(cont)
        out.append(body[off:off + chunk_size])
    return b"".join(out)


class RawRtmp:
    def __init__(self, addr, port, timeout=5.0, source=None):
        self.sock = socket.create_connection((addr, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.out_chunk = 128
        self.in_chunk = 128
        self.rx = b""
        self.streams = {}   # csid -> [ts, len, type, msid, partial]
        self.txid = 1

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data):
        self.sock.sendall(data)

    def handshake(self):
        c1 = struct.pack(">II", 0, 0) + os.urandom(1528)
        self.send(b"\x03" + c1)
        s = self._read_exact(1 + 1536 + 1536)
        if s[0] != 3:
            raise IOError("S0 version %d" % s[0])
        self.send(s[1:1537])  # C2 echoes S1

    def _read_exact(self, n):
        deadline = time.monotonic() + self.timeout
        while len(self.rx) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("wanted %d bytes, have %d" % (n, len(self.rx)))
            self.sock.settimeout(left)
            d = self.sock.recv(65536)
            if not d:
                raise EOFError("server closed")
            self.rx += d
        out, self.rx = self.rx[:n], self.rx[n:]
        return out

    # -- sending messages
    def set_chunk_size(self, size, apply=True):
        self.send_msg(TYPE_SET_CHUNK_SIZE, struct.pack(">I", size & 0xffffffff), csid=2)
        if apply:
            self.out_chunk = size

    def send_msg(self, mtype, body, msid=0, ts=0, csid=None):
        if csid is None:
            csid = 3 if mtype == TYPE_COMMAND_AMF0 else (2 if mtype < 8 else 6)
        self.send(chunk_message(csid, mtype, msid, ts, body, self.out_chunk))

    def command(self, name, *args, msid=0):
        self.txid += 1
        self.send_msg(TYPE_COMMAND_AMF0, amf_all(name, float(self.txid), *args), msid=msid)
        return self.txid

    # -- reading messages
    def read_msg(self):
        """The next complete message from the server: (type, msid, body)."""
        while True:
            b0 = self._read_exact(1)[0]
            fmt, csid = b0 >> 6, b0 & 0x3f
            if csid == 0:
                csid = 64 + self._read_exact(1)[0]
            elif csid == 1:
                csid = 64 + struct.unpack("<H", self._read_exact(2))[0]
            st = self.streams.setdefault(csid, [0, 0, 0, 0, b""])
            if fmt <= 2:
                ts = struct.unpack(">I", b"\0" + self._read_exact(3))[0]
                if fmt <= 1:
                    st[1] = struct.unpack(">I", b"\0" + self._read_exact(3))[0]
                    st[2] = self._read_exact(1)[0]
                if fmt == 0:
                    st[3] = struct.unpack("<I", self._read_exact(4))[0]
                if ts == 0xffffff:
                    self._read_exact(4)
            elif st[0] == 0xffffff:
                self._read_exact(4)
            take = min(self.in_chunk, st[1] - len(st[4]))
            st[4] += self._read_exact(take)
            if len(st[4]) < st[1]:
                continue
            body, st[4] = st[4], b""
            if st[2] == TYPE_SET_CHUNK_SIZE:
                self.in_chunk = struct.unpack(">I", body[:4])[0] & 0x7fffffff
            return st[2], st[3], body

    def wait_for(self, want, timeout=5.0):
        """Reads messages until a command whose strings include want; returns its strings."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mtype, _, body = self.read_msg()
            if mtype == TYPE_COMMAND_AMF0:
                strings = amf_decode_strings(body)
                if any(want in s for s in strings):
                    return strings
        raise TimeoutError("no reply containing %r" % want)

    def connect(self, app, wait=True):
        self.command("connect", Obj(app=app, flashVer="FMLE/3.0", tcUrl="rtmp://x/" + app))
        if wait:
            return self.wait_for("NetConnection.Connect")
        return None

    def create_stream(self):
        self.command("createStream", None)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            mtype, _, body = self.read_msg()
            if mtype == TYPE_COMMAND_AMF0 and b"_result" in body[:12]:
                return int(struct.unpack(">d", body[-8:])[0])
        raise TimeoutError("no createStream result")

    def publish(self, sid, name, wait=True):
        self.command("publish", None, name, "live", msid=sid)
        return self.wait_for("NetStream.Publish") if wait else None

    def play(self, sid, name, wait=True):
        self.command("play", None, name, msid=sid)
        return self.wait_for("NetStream.Play") if wait else None

    def closed_by_peer(self, timeout=5.0):
        """True if the server closes the connection within timeout (reading and dropping)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                if not self.sock.recv(65536):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False
