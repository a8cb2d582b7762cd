"""Replays the official client's recorded frames into ssmc-emulator (issue #5).

Each golden transcript (../shared/testdata/transcripts/) holds every frame the
official session-manager-plugin sent to the real agent. This test opens the
same kind of session on the emulator (StartSession with the recorded document
and parameters, OpenDataChannel with the emulator's token) and sends the
recorded client->agent frames byte for byte, in order, including the acks
(which name the real agent's message ids, unknown to the emulator: an agent
must ignore them). Before each frame it waits, as the real client did, until
the agent has sent as many stream messages as the real agent had at that
point (or the agent has gone quiet). The session must reach the same end: the
same output, the same bytes through port sessions, and channel_closed.

KMS (shell-kms-encrypted.jsonl) is not replayable: its HandshakeResponse holds
a data key encrypted by the recording's own KMS, which no other KMS can
decrypt, and every later frame is encrypted with it. test_fidelity.py covers
that session with ssmc as the client instead.
"""

import json
import os
import socket
import struct
import threading
import time
import unittest

import e2e_common as e2e

TRANSCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "testdata",
                           "transcripts")
TARGET = "i-0123456789abcdef0"
OLD_AGENT_TARGET = "i-0000000000000b001"  # agent 3.0.161.0: basic port sessions, as in the recording
QUIET = 1.5  # seconds without a new agent stream message that count as "the agent is done for now"


def load(name):
    with open(os.path.join(TRANSCRIPTS, name)) as f:
        return [json.loads(line) for line in f]


def parse_frame(frame):
    """(messageType, seq, flags, payloadType, payload) of a binary AgentMessage (02 §4)."""
    if len(frame) < 120:
        return None
    hl = struct.unpack("!I", frame[0:4])[0]
    mtype = frame[4:36].decode("ascii", "replace").strip().strip("\x00")
    seq = struct.unpack("!q", frame[48:56])[0]
    flags = struct.unpack("!Q", frame[56:64])[0]
    ptype = struct.unpack("!I", frame[112:116])[0] if hl >= 116 else 0
    plen = struct.unpack("!I", frame[hl:hl + 4])[0]
    return mtype, seq, flags, ptype, frame[hl + 4:hl + 4 + plen]


def smux_data(payloads):
    """Concatenated PSH data per stream id of smux v1 frames split across Output payloads (06 §3)."""
    buf, out = b"".join(payloads), {}
    while len(buf) >= 8:
        ver, cmd, length, sid = buf[0], buf[1], struct.unpack("<H", buf[2:4])[0], struct.unpack("<I", buf[4:8])[0]
        if len(buf) < 8 + length:
            break
        if ver == 1 and cmd == 2:  # PSH
            out[sid] = out.get(sid, b"") + buf[8:8 + length]
        buf = buf[8 + length:]
    return out


class ReplyServer:
    """Loopback TCP server: reads up to a newline, answers `reply`, closes (the recordings' 4 KiB source)."""

    def __init__(self, reply):
        self.reply = reply
        self.requests = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                data = b""
                try:
                    while b"\n" not in data:
                        d = conn.recv(4096)
                        if not d:
                            break
                        data += d
                    self.requests.append(data)
                    conn.sendall(self.reply)
                except OSError:
                    pass

    def stop(self):
        self.sock.close()


class Replayer:
    """Drives one emulator session with a transcript's client frames."""

    def __init__(self, test, emu, golden, parameters):
        self.test, self.emu, self.golden = test, emu, golden
        start = next(r for r in golden if r["kind"] == "api" and r.get("op") == "StartSession")["request"]
        request = dict(start)
        request["Target"] = parameters.pop("_target", TARGET)
        if parameters:
            request["Parameters"] = parameters
        status, self.session, _ = e2e.api_call(emu.endpoint, "StartSession", request)
        test.assertEqual(status, 200, self.session)
        self.ws = None
        self.outputs = {}  # seq -> (payloadType, payload) of agent output_stream_data, deduplicated
        self.closed = None  # channel_closed payload
        self._connect(self.session["TokenValue"], self.session["StreamUrl"])

    def _connect(self, token, url):
        self.ws = e2e.WsClient(url, timeout=15)
        self.ws.send(e2e.open_data_channel_json(token))

    def _pump(self, timeout):
        """Reads frames for up to `timeout` s; returns True if a new stream message arrived."""
        self.ws.sock.settimeout(timeout)
        try:
            op, frame = self.ws.recv()
        except socket.timeout:
            return False
        except (e2e.WsClosed, OSError):
            if self.closed is None:
                raise
            return False
        m = parse_frame(frame) if op == 2 else None
        if m is None:
            return False
        if m[0] == "output_stream_data" and m[1] not in self.outputs:
            self.outputs[m[1]] = (m[3], m[4])
            return True
        if m[0] == "channel_closed":
            self.closed = json.loads(m[4].decode())
        return False

    def wait_outputs(self, count, limit=20.0):
        deadline, quiet_since = time.monotonic() + limit, time.monotonic()
        while len(self.outputs) < count and self.closed is None and time.monotonic() < deadline:
            if self._pump(0.2):
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > QUIET:
                return

    def run(self, expect_close=True):
        seen = set()  # golden agent output sequence numbers so far
        for r in self.golden:
            if r["kind"] == "event" and r.get("event") == "debug_drop" and "client" in r.get("detail", ""):
                self.reconnect()
                continue
            if r["kind"] != "ws":
                continue
            d = r.get("decoded") or {}
            if r["dir"] == "agent->client" and d.get("messageType") == "output_stream_data":
                seen.add(d["sequenceNumber"])
            elif r["dir"] == "client->agent" and r["ws_type"] == "binary":
                self.wait_outputs(len(seen))
                self.ws.send(bytes.fromhex(r["hex"]), binary=True)
        if not expect_close:
            return
        deadline = time.monotonic() + 20
        while self.closed is None and time.monotonic() < deadline:
            self._pump(0.5)
        self.ws.close()

    def reconnect(self):
        """The recording's client leg was cut here: ResumeSession, a new leg, the same ClientId rule aside."""
        self.ws.close()
        status, resumed, _ = e2e.api_call(self.emu.endpoint, "ResumeSession", {"SessionId": self.session["SessionId"]})
        self.test.assertEqual(status, 200, resumed)
        self.test.assertIn("TokenValue", resumed)
        self._connect(resumed["TokenValue"], resumed.get("StreamUrl") or self.session["StreamUrl"])

    def output(self, ptype=1):
        return b"".join(p for s, (t, p) in sorted(self.outputs.items()) if t == ptype)


def golden_payloads(golden, direction, ptype=1):
    """Deduplicated stream payloads of `direction` in a transcript, in sequence order."""
    out = {}
    for r in golden:
        d = r.get("decoded") or {}
        if r["kind"] == "ws" and r["dir"] == direction and d.get("messageType") in ("output_stream_data",
                                                                                  "input_stream_data"):
            if d.get("payloadType") == ptype:
                m = parse_frame(bytes.fromhex(r["hex"]))
                out.setdefault(d["sequenceNumber"], m[4])
    return [out[k] for k in sorted(out)]


class Replay(unittest.TestCase):
    def setUp(self):
        if not os.path.isdir(TRANSCRIPTS):
            self.skipTest("golden transcripts not found at %s" % TRANSCRIPTS)
        self.emu = e2e.Emulator(targets=(TARGET, OLD_AGENT_TARGET + ",agent=3.0.161.0"))

    def tearDown(self):
        self.emu.stop()

    def replay(self, name, parameters=None):
        golden = load(name)
        r = Replayer(self, self.emu, golden, dict(parameters or {}))
        r.run()
        self.assertIsNotNone(r.closed, "%s: no channel_closed; emulator log:\n%s" % (name, self.emu.stderr_text()))
        self.assertEqual(r.closed["MessageType"], "channel_closed")
        return golden, r

    def test_shell(self):
        _, r = self.replay("shell-echo-hello.jsonl")
        self.assertIn(b"hello\r\n", r.output())
        self.assertEqual(r.closed["Output"], "")

    def test_interactive_command(self):
        _, r = self.replay("interactive-command.jsonl")
        self.assertIn(b"name?", r.output())
        self.assertIn(b"hi bob", r.output())

    def test_noninteractive_command(self):
        _, r = self.replay("noninteractive-command.jsonl")
        out = r.output()
        self.assertIn(b"hello-noninteractive", out)
        self.assertIn(b"to-stderr", out)  # one combined stream, as the real agent sent it

    def test_shell_reconnect(self):
        # Both recorded drops: the client leg (we cut it, ResumeSession, a new leg) and the agent leg
        # (invisible to the client). Nothing typed is lost or repeated across the new leg.
        _, r = self.replay("shell-reconnect.jsonl")
        out = r.output()
        for word in (b"before-drop", b"after-client-drop", b"after-agent-drop"):
            self.assertEqual(out.count(word), 2, out)  # the pty's echo of the command line, then the output

    def _port(self, name, target):
        golden = load(name)
        reply = b"".join(golden_payloads(golden, "agent->client"))
        if name.startswith("portforward-mux"):
            reply = smux_data(golden_payloads(golden, "agent->client"))[3]
        self.assertEqual(len(reply), 4096)
        server = ReplyServer(reply)
        try:
            _, r = self.replay(name, {"portNumber": [str(server.port)], "_target": target})
        finally:
            server.stop()
        self.assertEqual(server.requests, [b"4096\n"])
        return reply, r

    def test_port_forward_mux(self):
        reply, r = self._port("portforward-mux-4KB.jsonl", TARGET)
        ours = [p for _, (t, p) in sorted(r.outputs.items()) if t == 1]
        self.assertEqual(smux_data(ours).get(3), reply)

    def test_port_forward_basic(self):
        reply, r = self._port("portforward-basic-4KB.jsonl", OLD_AGENT_TARGET)
        self.assertEqual(r.output(), reply)

    def test_ssh_stream(self):
        golden = load("ssh-stream-4KB.jsonl")
        echo = e2e.EchoServer()
        try:
            r = Replayer(self, self.emu, golden, {"portNumber": [str(echo.port)]})
            # The recording ends with the client leaving on stdin EOF, no TerminateSession.
            r.run(expect_close=False)
            sent = b"".join(golden_payloads(golden, "client->agent"))
            self.assertEqual(len(sent), 4096)
            deadline = time.monotonic() + 15
            while len(r.output()) < len(sent) and time.monotonic() < deadline:
                r._pump(0.2)
            self.assertEqual(r.output(), sent)
            # Then the service ends it (in the recording, the relay stopped the agent worker).
            status, _, _ = e2e.api_call(self.emu.endpoint, "TerminateSession", {"SessionId": r.session["SessionId"]})
            self.assertEqual(status, 200)
            deadline = time.monotonic() + 10
            while r.closed is None and time.monotonic() < deadline:
                r._pump(0.5)
            self.assertIsNotNone(r.closed)
            r.ws.close()
        finally:
            echo.stop()


if __name__ == "__main__":
    unittest.main()
