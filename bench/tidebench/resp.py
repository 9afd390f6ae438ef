"""A minimal pipelined Redis client speaking RESP2 over a socket."""

import socket


class RedisError(Exception):
    pass


def encode(args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = b"%d" % a
        out.append(b"$%d\r\n" % len(a))
        out.append(bytes(a))
        out.append(b"\r\n")
    return b"".join(out)


class Redis:
    def __init__(self, host="127.0.0.1", port=6379, timeout=60.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def _fill(self):
        if self.pos > 1 << 20:  # drop what has been consumed
            del self.buf[:self.pos]
            self.pos = 0
        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise ConnectionError("redis closed the connection")
        self.buf += chunk

    def _line(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                line = bytes(self.buf[self.pos:i])
                self.pos = i + 2
                return line
            self._fill()

    def _exact(self, n):
        while len(self.buf) - self.pos < n + 2:
            self._fill()
        data = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n + 2
        return data

    def read_reply(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return rest.decode()
        if t == b"-":
            return RedisError(rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read_reply() for _ in range(n)]
        raise RedisError(f"bad reply {line[:40]!r}")

    def pipeline(self, commands, check=True):
        """Sends every command, then reads every reply."""
        self.sock.sendall(b"".join(encode(c) for c in commands))
        replies = [self.read_reply() for _ in commands]
        if check:
            for r in replies:
                if isinstance(r, RedisError):
                    raise r
        return replies

    def send_simple(self, payload, count):
        """Sends pre-encoded commands whose replies are all one line (+OK, :n
        or an error) and waits for `count` of them, counting line ends
        instead of parsing each reply. Raises RedisError if any reply is an
        error. Nothing else may be in flight."""
        self.sock.sendall(payload)
        data = bytes(self.buf[self.pos:])
        self.buf, self.pos = bytearray(), 0
        seen = data.count(b"\r\n")
        bad = data[:1] == b"-" or b"\n-" in data
        started = bool(data)
        last = data[-1:]
        while seen < count:
            chunk = self.sock.recv(1 << 18)
            if not chunk:
                raise ConnectionError("redis closed the connection")
            if not started:
                bad = bad or chunk[:1] == b"-"
                started = True
            joined = last + chunk  # a "\r\n" or "\n-" may straddle two reads
            seen += joined.count(b"\r\n")
            bad = bad or b"\n-" in joined
            last = chunk[-1:]
        if bad:
            raise RedisError("error reply in a pipelined batch")

    def call(self, *args):
        r = self.pipeline([args], check=False)[0]
        if isinstance(r, RedisError):
            raise r
        return r

    def info(self, section="memory"):
        text = self.call("INFO", section)
        out = {}
        for line in text.decode().splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v
        return out
