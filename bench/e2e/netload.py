#!/usr/bin/env python3
"""Loopback TCP server and load generator for the end-to-end benchmarks.

Python 3 standard library only. Each role runs as its own process, so it
never shares an interpreter lock with the code that takes the measurements.

  netload.py serve
      Listens on 127.0.0.1 (any free port), prints {"port": PORT} on one
      line and serves until SIGTERM. The first line a client sends picks
      what the connection does, so one `ssmc forward -L` reaches all modes:
        "S <N>\\n"  source: sends N zero bytes, then closes
        "H <N>\\n"  hold: sends N zero bytes, then waits for the peer to close (no
                  end of stream: a stdio port session ends when the destination does)
        "K\\n"      sink: reads to end of stream, answers "<bytes read>\\n", closes
        "E\\n"      echo: writes back what it reads (TCP_NODELAY); half-closes after the peer

  netload.py load HOST PORT [down|up]
      Background bulk transfer for the latency benchmark, until SIGTERM, then
      prints the number of bytes moved: `down` (default) requests 64 MiB at a
      time from a `serve` port (directly or through a forward), `up` sends to
      its sink mode.
"""

import asyncio
import json
import signal
import socket
import sys

ZEROS = bytes(1 << 20)


class Conn(asyncio.Protocol):
    def connection_made(self, transport):
        self.t = transport
        self.head = b""
        self.mode = None
        self.left = 0
        self.count = 0
        self.paused = False
        transport.set_write_buffer_limits(high=1 << 21, low=1 << 20)
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data):
        if self.mode == "K":
            self.count += len(data)
            return
        if self.mode == "E":
            self.t.write(data)
            return
        if self.mode is not None:
            return
        self.head += data
        if b"\n" not in self.head:
            if len(self.head) > 64:
                self.t.close()
            return
        line, rest = self.head.split(b"\n", 1)
        self.head = b""
        word = line.split()
        if word[:1] in ([b"S"], [b"H"]) and len(word) == 2 and word[1].isdigit():
            self.mode, self.left = word[0].decode(), int(word[1])
            self.pump()
        elif word == [b"K"]:
            self.mode = "K"
            self.count = len(rest)
        elif word == [b"E"]:
            self.mode = "E"
            if rest:
                self.t.write(rest)
        else:
            self.t.close()

    def pump(self):
        while self.left and not self.paused:
            n = min(self.left, len(ZEROS))
            self.t.write(ZEROS if n == len(ZEROS) else ZEROS[:n])
            self.left -= n
        if self.left == 0 and self.mode == "S":
            self.t.close()

    def pause_writing(self):
        self.paused = True

    def resume_writing(self):
        self.paused = False
        if self.mode in ("S", "H"):
            self.pump()

    def eof_received(self):
        if self.mode == "K":
            self.t.write(b"%d\n" % self.count)
            self.t.close()
            return True
        if self.mode == "S":
            return True  # keep sending after the client half-closes
        if self.mode == "H":
            self.t.close()
            return True
        return False  # echo (or nothing yet): close our side too

    def connection_lost(self, exc):
        self.paused = True
        self.left = 0


async def serve():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Conn, "127.0.0.1", 0, backlog=4096)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


def load(host, port, direction):
    total = 0
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    buf = bytearray(1 << 20)
    try:
        while not stopping:
            s = socket.create_connection((host, port))
            s.settimeout(0.5)
            if direction == "up":
                s.sendall(b"K\n")
                view = memoryview(ZEROS)[:1 << 16]
                while not stopping:
                    try:
                        total += s.send(view)
                    except socket.timeout:
                        continue
            else:
                s.sendall(b"S %d\n" % (64 << 20))
                while not stopping:
                    try:
                        n = s.recv_into(buf)
                    except socket.timeout:
                        continue
                    if n == 0:
                        break
                    total += n
            s.close()
    except OSError as e:
        if not stopping:
            print("load: %s" % e, file=sys.stderr)
    print(total, flush=True)


def main():
    if len(sys.argv) == 2 and sys.argv[1] == "serve":
        asyncio.run(serve())
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "load" and sys.argv[4:] in ([], ["down"], ["up"]):
        load(sys.argv[2], int(sys.argv[3]), (sys.argv[4:] or ["down"])[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
