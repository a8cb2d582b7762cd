"""Fidelity of ssmc-emulator's agent against the golden transcripts
(../shared/testdata/transcripts/, real client + real agent code): the same
opening (who speaks first, flags, sequence numbers), the same HandshakeRequest
(agent version and port numbers aside), HandshakeComplete as the agent's
second stream message, only output_stream_data / acknowledge from the agent,
and a gateway channel_closed at the end. Sessions are driven by ssmc and
recorded with --record-dir."""

import glob
import json
import os
import select
import shutil
import signal
import tempfile
import time
import unittest

import e2e_common as e2e

TARGET = "i-0123456789abcdef0"
OLD_AGENT = "i-0000000000000b001"  # agent 3.0.161.0: basic port sessions, as in portforward-basic-4KB
TRANSCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "testdata",
                           "transcripts")


def to_client(path):
    """(dir, messageType, payloadType, flags, seq, payloadText) of frames towards the client."""
    out = []
    with open(path) as f:
        lines = f.readlines()
    for line in lines:
        r = json.loads(line)
        if r.get("kind") != "ws" or r.get("dir") not in ("agent->client", "mgs->client") or not r.get("decoded"):
            continue
        d = r["decoded"]
        out.append((r["dir"], d["messageType"], d.get("payloadType"), d["flags"], d["sequenceNumber"],
                    d.get("payloadText")))
    return out


def from_client(path):
    """(messageType, payloadType, seq, payloadText) of client->agent frames."""
    out = []
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            d = r.get("decoded")
            if r.get("kind") == "ws" and r.get("dir") == "client->agent" and d:
                out.append((d["messageType"], d.get("payloadType"), d["sequenceNumber"], d.get("payloadText")))
    return out


def events(path):
    with open(path) as f:
        return [(r["event"], r.get("detail", "")) for r in map(json.loads, f) if r.get("kind") == "event"]


def client_flags(path):
    """FlagValues (05 §3.3) the client sent, in order, each once."""
    seen, out = set(), []
    for mtype, ptype, seq, text in from_client(path):
        if mtype == "input_stream_data" and ptype == 10 and seq not in seen:
            seen.add(seq)
            out.append(int.from_bytes(text.encode("latin-1"), "big") if text is not None else None)
    return out


def handshake(frames):
    for f in frames:
        if f[1] == "output_stream_data" and f[2] == 5:
            h = json.loads(f[5])
            h.pop("AgentVersion")
            for a in h["RequestedClientActions"]:
                if a["ActionType"] == "KMSEncryption":  # key id and challenge are per deployment / random
                    a["ActionParameters"] = {k: "<%s>" % k for k in a["ActionParameters"]}
                    continue
                props = a["ActionParameters"].get("Properties")
                if isinstance(props, dict):
                    for k in ("portNumber", "localPortNumber"):  # test-specific values
                        if k in props:
                            props[k] = "<port>"
            return json.dumps(h)  # key order kept: Go marshals maps sorted
    return None


class Fidelity(unittest.TestCase):
    def setUp(self):
        if not os.path.isdir(TRANSCRIPTS):
            self.skipTest("golden transcripts not found at %s" % TRANSCRIPTS)
        self.dir = tempfile.mkdtemp(prefix="ssmc-e2e-fid-")
        self.echo = e2e.EchoServer()  # listening once constructed
        self.start_emulator()

    def start_emulator(self, *extra):
        if getattr(self, "emu", None):
            self.client.cleanup()
            self.emu.stop()
        self.emu = e2e.Emulator(targets=(TARGET, OLD_AGENT + ",agent=3.0.161.0"),
                                extra=("--record-dir", self.dir) + tuple(extra))
        self.client = e2e.ClientEnv(self.emu)

    def tearDown(self):
        self.client.cleanup()
        self.emu.stop()
        self.echo.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def recorded_file(self):
        def ended():
            for name in glob.glob(self.dir + "/*.jsonl"):
                with open(name) as f:
                    if '"event":"terminate"' in f.read():
                        return name
            return None
        return e2e.wait_until(ended, 15, message="recorded session ended")

    def recorded(self):
        path = self.recorded_file()
        files = glob.glob(self.dir + "/*.jsonl")
        self.assertEqual(len(files), 1, files)
        return to_client(path)

    def compare(self, golden_name, ours):
        golden = to_client(os.path.join(TRANSCRIPTS, golden_name))
        # Opening: the agent speaks first, seq 0 with Flags 1 (SYN), same payload type.
        self.assertEqual(ours[0][:5], golden[0][:5], "first agent message")
        # Handshake content, agent version and ports aside.
        self.assertEqual(handshake(ours), handshake(golden))
        stream = [f for f in ours if f[1] == "output_stream_data"]
        gstream = [f for f in golden if f[1] == "output_stream_data"]
        if golden[0][2] == 5:
            self.assertEqual(stream[1][2:5], gstream[1][2:5], "HandshakeComplete is seq 1, flags 0")
        # Later stream messages: flags 0, consecutive sequence numbers.
        self.assertEqual([f[4] for f in stream], list(range(len(stream))))
        self.assertTrue(all(f[3] == 0 for f in stream[1:]), stream)
        # Acks carry seq 0 / flags 3 (03 §4).
        for f in ours:
            if f[1] == "acknowledge":
                self.assertEqual((f[3], f[4]), (3, 0))
        # Only these types, and the gateway's channel_closed ends the session.
        self.assertEqual({f[1] for f in ours if f[0] == "agent->client"}, {"output_stream_data", "acknowledge"})
        self.assertEqual(ours[-1][:5], golden[-1][:5], "session end")

    def test_noninteractive_command(self):
        cp = e2e.run_ssmc(self.client, ["exec", "i-0123456789abcdef0", "--", "echo", "hello-noninteractive"])
        self.assertEqual(cp.returncode, 0, e2e.describe(cp))
        self.compare("noninteractive-command.jsonl", self.recorded())

    def test_ssh_stream(self):
        proc = e2e.subprocess.Popen(self.client.ssmc_args("ssh-proxy", "i-0123456789abcdef0", str(self.echo.port)),
                                    stdin=e2e.subprocess.PIPE, stdout=e2e.subprocess.PIPE,
                                    stderr=e2e.subprocess.DEVNULL, env=self.client.env)
        try:
            proc.communicate(b"", timeout=30)
        finally:
            e2e.kill_process(proc)
        # stdin EOF at once: the client leaves; the emulator ends the session when its agent finishes.
        self.emu.stop()
        files = glob.glob(self.dir + "/*.jsonl")
        self.assertEqual(len(files), 1, files)
        ours = to_client(files[0])
        golden = to_client(os.path.join(TRANSCRIPTS, "ssh-stream-4KB.jsonl"))
        self.assertEqual(ours[0][:5], golden[0][:5])
        self.assertEqual(handshake(ours), handshake(golden))

    def test_port_forward_mux(self):
        # No host: AWS-StartPortForwardingSession, as in the transcript.
        fwd = e2e.Forwarder(self.client, "i-0123456789abcdef0", ["0:%d" % self.echo.port])
        try:
            addr = ("127.0.0.1", fwd.ready[0]["port"])
            self.assertEqual(e2e.echo_roundtrip_halfclose(addr, b"4096\n", timeout=30), b"4096\n")
        finally:
            fwd.stop()  # SIGTERM: TerminateSession
        ours = self.recorded()
        golden = to_client(os.path.join(TRANSCRIPTS, "portforward-mux-4KB.jsonl"))
        self.assertEqual(ours[0][:5], golden[0][:5])
        self.assertEqual(handshake(ours), handshake(golden))
        self.assertEqual(ours[-1][:5], golden[-1][:5], "session end")

    def test_shell(self):
        proc = e2e.subprocess.Popen(self.client.ssmc_args("shell", "i-0123456789abcdef0"), stdin=e2e.subprocess.PIPE,
                                    stdout=e2e.subprocess.PIPE, stderr=e2e.subprocess.DEVNULL, env=self.client.env)
        try:
            proc.communicate(b"echo hello; exit\n", timeout=30)
        finally:
            e2e.kill_process(proc)
        self.compare("shell-echo-hello.jsonl", self.recorded())


    def test_interactive_command(self):
        proc = e2e.subprocess.Popen(
            self.client.ssmc_args("shell", TARGET, "--document", "AWS-StartInteractiveCommand", "--parameters",
                                  "command=printf name?; read n; echo hi $n"),
            stdin=e2e.subprocess.PIPE, stdout=e2e.subprocess.PIPE, stderr=e2e.subprocess.DEVNULL, env=self.client.env)
        try:
            out, _ = proc.communicate(b"bob\n", timeout=30)
        finally:
            e2e.kill_process(proc)
        self.assertIn(b"hi bob", out)
        self.compare("interactive-command.jsonl", self.recorded())

    def test_port_forward_basic(self):
        # Agent 3.0.161.0: both ends choose basic mode. One connection, closed by the user (DisconnectToPort),
        # then Ctrl-C (TerminateSession), as in the recording.
        fwd = e2e.Forwarder(self.client, OLD_AGENT, ["0:%d" % self.echo.port])
        try:
            addr = ("127.0.0.1", fwd.ready[0]["port"])
            # Basic mode has no half-close: read the echo back, then close.
            self.assertEqual(e2e.echo_roundtrip_exact(addr, b"4096\n", timeout=30), b"4096\n")
            e2e.wait_until(lambda: 1 in self.flags_so_far(), 10, message="DisconnectToPort flag")
        finally:
            fwd.stop(sig=signal.SIGINT)
        path = self.recorded_file()
        golden_path = os.path.join(TRANSCRIPTS, "portforward-basic-4KB.jsonl")
        ours, golden = to_client(path), to_client(golden_path)
        self.assertEqual(ours[0][:5], golden[0][:5])
        self.assertEqual(handshake(ours), handshake(golden))
        self.assertEqual(client_flags(path), client_flags(golden_path))  # [DisconnectToPort, TerminateSession]
        self.assertEqual(ours[-1][:5], golden[-1][:5], "session end")

    def flags_so_far(self):
        files = glob.glob(self.dir + "/*.jsonl")
        return client_flags(files[0]) if files else []

    def test_shell_kms(self):
        self.start_emulator("--kms-key-id", "alias/ssmc-fidelity")
        self.client.env["AWS_ENDPOINT_URL_KMS"] = self.emu.endpoint  # the emulator's built-in KMS
        proc = e2e.subprocess.Popen(self.client.ssmc_args("shell", TARGET), stdin=e2e.subprocess.PIPE,
                                    stdout=e2e.subprocess.PIPE, stderr=e2e.subprocess.PIPE, env=self.client.env)
        try:
            out, err = proc.communicate(b"echo hello; exit\n", timeout=30)
        finally:
            e2e.kill_process(proc)
        self.assertIn(b"hello", out, err)
        ours = self.recorded()
        golden = to_client(os.path.join(TRANSCRIPTS, "shell-kms-encrypted.jsonl"))
        self.compare("shell-kms-encrypted.jsonl", ours)
        # HandshakeRequest (KMSEncryption), EncChallengeRequest, HandshakeComplete with the same text; then
        # only encrypted Output.
        stream = [f for f in ours if f[1] == "output_stream_data"]
        gstream = [f for f in golden if f[1] == "output_stream_data"]
        self.assertEqual([f[2] for f in stream[:3]], [f[2] for f in gstream[:3]])
        complete = lambda s: json.loads(s[2][5])["CustomerMessage"]
        self.assertEqual(complete(stream), complete(gstream))
        self.assertTrue(all(f[5] is None or "hello" not in f[5] for f in stream[3:]), "Output not encrypted")

    def test_shell_reconnect(self):
        # The recording cuts the client leg, then the agent leg, in one shell. Here the emulator does both
        # (client leg every 2 s; agent leg every 3 s for 0.5 s): what is typed between drops comes out once,
        # sequence numbers carry on across new legs, and the end is the same.
        self.start_emulator("--drop-client-every", "2", "--drop-agent-every", "3", "--agent-outage", "0.5")
        proc = e2e.subprocess.Popen(self.client.ssmc_args("shell", TARGET), stdin=e2e.subprocess.PIPE,
                                    stdout=e2e.subprocess.PIPE, stderr=e2e.subprocess.DEVNULL, env=self.client.env)
        out = b""

        def read_until(pattern, timeout=30):
            nonlocal out
            deadline = time.monotonic() + timeout
            while pattern not in out:
                left = deadline - time.monotonic()
                self.assertGreater(left, 0, "timed out waiting for %r; got %r" % (pattern, out))
                r, _, _ = select.select([proc.stdout], [], [], left)
                if r:
                    chunk = os.read(proc.stdout.fileno(), 65536)
                    self.assertTrue(chunk, "ssmc exited early; got %r" % out)
                    out += chunk

        def wait_event(name, detail, count):
            def seen():
                files = glob.glob(self.dir + "/*.jsonl")
                return files and sum(1 for e in events(files[0]) if e[0] == name and detail in e[1]) >= count
            e2e.wait_until(seen, 20, message="%s %s x%d" % (name, detail, count))

        try:
            proc.stdin.write(b"echo before-drop\n")
            proc.stdin.flush()
            read_until(b"\nbefore-drop")
            wait_event("websocket_opened", "client", 2)  # dropped and back
            proc.stdin.write(b"echo after-client-drop\n")
            proc.stdin.flush()
            read_until(b"\nafter-client-drop")
            wait_event("debug_drop", "agent", 1)
            proc.stdin.write(b"echo after-agent-drop; exit\n")
            proc.stdin.flush()
            read_until(b"\nafter-agent-drop")
            self.assertEqual(proc.wait(timeout=30), 0)
        finally:
            e2e.kill_process(proc)
        for word in (b"before-drop", b"after-client-drop", b"after-agent-drop"):
            self.assertEqual(out.count(word), 2, out)  # the pty's echo of the command line, then the output
        path = self.recorded_file()
        ours = to_client(path)
        golden = to_client(os.path.join(TRANSCRIPTS, "shell-reconnect.jsonl"))
        self.assertEqual(ours[0][:5], golden[0][:5])
        legs = [e for e in events(path) if e[0] == "websocket_opened"]
        self.assertGreaterEqual(len(legs), 2)
        # One sequence space across legs: every number from 0 up, none restarted.
        seqs = sorted({f[4] for f in ours if f[1] == "output_stream_data"})
        self.assertEqual(seqs, list(range(len(seqs))))
        inputs = sorted({seq for mtype, _, seq, _ in from_client(path) if mtype == "input_stream_data"})
        self.assertEqual(inputs, list(range(len(inputs))))
        self.assertEqual(ours[-1][:5], golden[-1][:5], "session end")


if __name__ == "__main__":
    unittest.main()
