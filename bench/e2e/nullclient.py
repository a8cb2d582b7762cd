#!/usr/bin/env python3
"""Null client: the least a Session Manager client can do to receive data.

Used by `scripts/bench-e2e` to measure how fast the emulator's agent sends
when the client costs nothing: it starts a port session to a
`netload.py serve` port, answers the handshake (04 §2), asks the server for
BYTES bytes, then only reads `output_stream_data` frames and acknowledges
each one (03 §4) — no digest check, no reordering beyond counting, no output.

  default  `AWS-StartSSHSession`: stdio mode (06 §2), the payloads are the data;
           asks with "H <N>" (the server keeps the connection open afterwards,
           so the session does not end while data is still queued)
  --mux    `AWS-StartPortForwardingSessionToRemoteHost`: multiplexed (06 §4);
           opens smux stream 3 (SYN + PSH in one payload) and counts the PSH
           data of that stream, so it sees the agent's smux framing as ssmc does

usage: nullclient.py [--mux] ENDPOINT TARGET PORT BYTES
prints one JSON line: {"bytes": data bytes after the first data message,
"seconds": time from the first to the last data message, "messages": Output
messages, "payload_bytes": their total size, "first_payload": data bytes of
the first one, "retransmitted": duplicates seen, "complete": all BYTES arrived}

Python 3 standard library only; SigV4 comes from tests/e2e/e2e_common.py.
"""

import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time
import urllib.parse
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import e2e_common  # noqa: E402  (api_call, open_data_channel_json)

HEADER_LENGTH = 116
CLIENT_VERSION = "1.2.896.0"


# ------------------------------------------------------------ AgentMessage (02 §6)

def encode(message_type, seq, flags, payload_type, payload):
    """Serializes one AgentMessage (02 §6.5)."""
    mid = uuid.uuid4().bytes
    return b"".join([
        struct.pack(">I", HEADER_LENGTH),
        message_type.encode().ljust(32, b" "),
        struct.pack(">IQqQ", 1, int(time.time() * 1000), seq, flags),
        mid[8:] + mid[:8],  # halves swapped (02 §6.3)
        hashlib.sha256(payload).digest(),
        struct.pack(">II", payload_type, len(payload)),
        payload,
    ])


def decode(frame):
    """(type, seq, uuid text, payload type, payload) of one frame; no validation."""
    hl = struct.unpack_from(">I", frame, 0)[0]
    mtype = frame[4:36].strip(b"\x00").strip().decode("ascii", "replace")
    seq = struct.unpack_from(">q", frame, 48)[0]
    wire_id = frame[64:80]
    mid = str(uuid.UUID(bytes=bytes(wire_id[8:] + wire_id[:8])))
    ptype = struct.unpack_from(">I", frame, 112)[0] if hl >= 116 else 0
    return mtype, seq, mid, ptype, frame[hl + 4:]


def ack(mtype, mid, seq):
    body = ('{"AcknowledgedMessageType":"%s","AcknowledgedMessageId":"%s",'
            '"AcknowledgedMessageSequenceNumber":%d,"IsSequentialMessage":true}' % (mtype, mid, seq)).encode()
    return encode("acknowledge", 0, 3, 0, body)


# ------------------------------------------------------------ WebSocket (RFC 6455, client side)

class Ws:
    def __init__(self, url, timeout=30.0):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        target = parts.path + ("?" + parts.query if parts.query else "")
        self.sock.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
                           % (target, parts.netloc, key)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.sock.recv(4096)
            if not d:
                raise EOFError("closed during the upgrade")
            head += d
        head, rest = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise EOFError("upgrade refused: %r" % head[:200])
        self.buf = bytearray(rest)
        self.pos = 0

    def send(self, data, opcode=0x2):
        n = len(data)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        mask = os.urandom(4)
        # XOR with the repeated mask as one big integer: no per-byte Python loop.
        m = (mask * (n // 4 + 1))[:n]
        body = (int.from_bytes(data, "big") ^ int.from_bytes(m, "big")).to_bytes(n, "big") if n else b""
        self.sock.sendall(header + mask + body)

    def _need(self, n):
        while len(self.buf) - self.pos < n:
            if self.pos > 1 << 20:
                del self.buf[:self.pos]
                self.pos = 0
            d = self.sock.recv(1 << 20)
            if not d:
                raise EOFError("EOF")
            self.buf += d

    def _take(self, n):
        self._need(n)
        out = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return out

    def recv(self):
        """(opcode, payload) of the next data message; answers pings."""
        message, first = b"", None
        while True:
            b0, b1 = self._take(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._take(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._take(8))[0]
            payload = self._take(n)  # server frames are unmasked
            op = b0 & 0x0F
            if op == 0x8:
                raise EOFError("close frame")
            if op == 0x9:
                self.send(payload, 0xA)
                continue
            if op == 0xA:
                continue
            first = op if first is None else first
            message += payload
            if b0 & 0x80:
                return first, message


# ------------------------------------------------------------ the client

class SmuxCounter:
    """Counts the PSH data of one smux stream in a byte stream of v1 frames (06 §5.1)."""

    def __init__(self, sid):
        self.sid, self.buf, self.finished = sid, b"", False

    def feed(self, data):
        self.buf += data
        n = 0
        while len(self.buf) >= 8:
            _, cmd, length, sid = struct.unpack_from("<BBHI", self.buf, 0)
            if len(self.buf) < 8 + length:
                break
            if sid == self.sid and cmd == 2:
                n += length
            elif sid == self.sid and cmd == 1:
                self.finished = True
            self.buf = self.buf[8 + length:]
        return n


def run(endpoint, target, port, want, mux=False):
    request = {"Target": target, "DocumentName": "AWS-StartSSHSession", "Parameters": {"portNumber": [str(port)]}}
    if mux:
        request = {"Target": target, "DocumentName": "AWS-StartPortForwardingSessionToRemoteHost",
                   "Parameters": {"host": ["127.0.0.1"], "portNumber": [str(port)]}}
    smux = SmuxCounter(3) if mux else None
    status, session, _ = e2e_common.api_call(endpoint, "StartSession", request)
    if status != 200:
        raise SystemExit("StartSession failed: %s %s" % (status, session))
    ws = Ws(session["StreamUrl"])
    ws.send(e2e_common.open_data_channel_json(session["TokenValue"]).encode(), opcode=0x1)
    out_seq = 0
    expected = 0
    early = {}
    got = messages = dups = first_payload = payload_bytes = 0
    t_first = t_last = None
    while got < want and not (mux and smux.finished):
        op, frame = ws.recv()
        if op != 0x2 or len(frame) < 120:
            continue
        mtype, seq, mid, ptype, payload = decode(frame)
        if mtype == "channel_closed":
            break
        if mtype != "output_stream_data":
            continue
        ws.send(ack(mtype, mid, seq))
        if seq < expected or seq in early:
            dups += 1
            continue
        early[seq] = (ptype, payload)
        while expected in early:
            ptype, payload = early.pop(expected)
            expected += 1
            if ptype == 5:  # HandshakeRequest -> HandshakeResponse (04 §4)
                response = json.dumps({
                    "ClientVersion": CLIENT_VERSION,
                    "ProcessedClientActions": [{"ActionType": "SessionType", "ActionStatus": 1,
                                                "ActionResult": None, "Error": ""}],
                    "Errors": None}, separators=(",", ":")).encode()
                ws.send(encode("input_stream_data", out_seq, 0, 6, response))
                out_seq += 1
            elif ptype == 7:  # HandshakeComplete: the stream is up; ask the source for `want` bytes
                line = (b"S %d\n" if mux else b"H %d\n") % want
                if mux:  # SYN stream 3, then PSH with the request (06 §5.1-5.3)
                    line = struct.pack("<BBHI", 1, 0, 0, 3) + struct.pack("<BBHI", 1, 2, len(line), 3) + line
                ws.send(encode("input_stream_data", out_seq, 0, 1, line))
                out_seq += 1
            elif ptype == 1:
                now = time.perf_counter()
                messages += 1
                payload_bytes += len(payload)
                n = smux.feed(payload) if mux else len(payload)
                if n == 0:
                    pass
                elif t_first is None:
                    t_first, first_payload = now, n
                else:
                    t_last = now
                got += n
                if mux and smux.finished:
                    break
            elif ptype == 10 and payload == b"\x00\x00\x00\x03":
                raise SystemExit("the agent could not connect to 127.0.0.1:%d" % port)
    ws.sock.close()
    e2e_common.api_call(endpoint, "TerminateSession", {"SessionId": session["SessionId"]})
    seconds = (t_last - t_first) if t_first is not None and t_last is not None else 0.0
    return {"bytes": got - first_payload, "seconds": seconds, "messages": messages, "payload_bytes": payload_bytes,
            "first_payload": first_payload, "retransmitted": dups, "complete": got >= want}


def main():
    args = sys.argv[1:]
    mux = args[:1] == ["--mux"]
    if mux:
        args = args[1:]
    if len(args) != 4:
        sys.exit(__doc__)
    endpoint, target, port, want = args[0], args[1], int(args[2]), int(args[3])
    print(json.dumps(run(endpoint, target, port, want, mux)), flush=True)


if __name__ == "__main__":
    main()
