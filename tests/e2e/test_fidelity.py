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
import shutil
import tempfile
import unittest

import e2e_common as e2e

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


def handshake(frames):
    for f in frames:
        if f[1] == "output_stream_data" and f[2] == 5:
            h = json.loads(f[5])
            h.pop("AgentVersion")
            for a in h["RequestedClientActions"]:
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
        self.emu = e2e.Emulator(extra=("--record-dir", self.dir))
        self.client = e2e.ClientEnv(self.emu)

    def tearDown(self):
        self.client.cleanup()
        self.emu.stop()
        self.echo.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def recorded(self):
        def ended():
            for name in glob.glob(self.dir + "/*.jsonl"):
                with open(name) as f:
                    if '"event":"terminate"' in f.read():
                        return True
            return False
        e2e.wait_until(ended, 15, message="recorded session ended")
        files = glob.glob(self.dir + "/*.jsonl")
        self.assertEqual(len(files), 1, files)
        return to_client(files[0])

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


if __name__ == "__main__":
    unittest.main()
