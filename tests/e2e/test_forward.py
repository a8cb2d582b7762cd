"""E2E: `ssmc forward` through ssmc-emulator to a local TCP echo server.

* mux mode (default agent): 50 concurrent connections x 1 MiB through one
  session, SHA-256 per connection, half-close honoured;
* basic mode (agent 3.0.196.0): sequential connections, exact-length echo;
* a refused remote port fails only that connection;
* two -L in one process, IPv6 bind, unix socket listener, signals.
"""

import glob
import hashlib
import json
import os
import select
import shutil
import signal
import socket
import tempfile
import threading
import time
import unittest

import e2e_common as e2e

MUX = "i-0e2e00000000f0001"
BASIC = "i-0e2e00000000f0002"
BASIC_AGENT = "3.0.196.0"


def recv_some(sock, n, timeout=15.0):
    """Reads exactly n bytes (or fewer at EOF)."""
    sock.settimeout(timeout)
    got = bytearray()
    while len(got) < n:
        d = sock.recv(n - len(got))
        if not d:
            break
        got += d
    return bytes(got)


def assert_closed_without_data(test, address, timeout=20.0):
    """A connection accepted locally whose remote side could not be reached must
    be closed without any data."""
    s = e2e.connect(address, timeout=timeout)
    try:
        s.settimeout(timeout)
        try:
            s.sendall(b"hello?")
        except OSError:
            return  # already reset: fine
        try:
            data = s.recv(4096)
        except ConnectionResetError:
            return
        except socket.timeout:
            test.fail("connection to %s was neither closed nor answered within %.0fs" % (address, timeout))
        test.assertEqual(data, b"", "expected the connection to be closed without data")
    finally:
        s.close()


class ForwardBulkMux(unittest.TestCase):
    """50 x 1 MiB concurrently over one mux session (fast profile)."""

    CONNECTIONS = 50
    SIZE = 1024 * 1024

    @classmethod
    def setUpClass(cls):
        e2e.require_binaries()
        cls.emu = e2e.Emulator(targets=[MUX], profile="fast")
        cls.client = e2e.ClientEnv(cls.emu)
        cls.echo = e2e.EchoServer()

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()
        cls.client.cleanup()
        cls.emu.stop()

    def test_50_concurrent_1mib_connections(self):
        fwd = e2e.Forwarder(self.client, MUX, ["0:127.0.0.1:%d" % self.echo.port])
        try:
            ready = fwd.ready[0]
            self.assertEqual(ready["mode"], "mux", ready)
            self.assertEqual(ready["listen"], "127.0.0.1:%d" % ready["port"], ready)
            self.assertTrue(ready["session_id"])
            addr = ("127.0.0.1", ready["port"])
            results = {}
            before = self.echo.accepted

            def one(i):
                payload = os.urandom(self.SIZE)
                try:
                    got = e2e.echo_roundtrip_halfclose(addr, payload, timeout=300)
                    results[i] = (hashlib.sha256(payload).hexdigest(), hashlib.sha256(got).hexdigest(), len(got))
                except Exception as e:  # noqa: BLE001 - reported below
                    results[i] = e

            t0 = time.monotonic()
            threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(self.CONNECTIONS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(360)
            elapsed = time.monotonic() - t0
            failures = []
            for i in range(self.CONNECTIONS):
                r = results.get(i)
                if r is None:
                    failures.append("conn %d: did not finish" % i)
                elif isinstance(r, Exception):
                    failures.append("conn %d: %r" % (i, r))
                elif r[0] != r[1]:
                    failures.append("conn %d: sha256 mismatch, got %d bytes" % (i, r[2]))
            self.assertFalse(failures, "%d/%d connections failed (%.1fs):\n%s\nssmc stderr:\n%s" %
                             (len(failures), self.CONNECTIONS, elapsed, "\n".join(failures[:20]),
                              fwd.stderr_text()))
            self.assertEqual(self.echo.accepted - before, self.CONNECTIONS)
            self.assertIsNone(fwd.proc.poll(), "ssmc forward exited")
        finally:
            rc = fwd.stop(signal.SIGINT)
        self.assertEqual(rc, 0, "exit status after SIGINT; stderr:\n" + fwd.stderr_text())


class ForwardPayloadSize(unittest.TestCase):
    """--payload-size on both ends: larger messages, the same bytes."""

    CLIENT_PAYLOAD = 8192
    AGENT_PAYLOAD = 16384
    SIZE = 4 * 1024 * 1024

    @classmethod
    def setUpClass(cls):
        e2e.require_binaries()
        cls.dir = tempfile.mkdtemp(prefix="ssmc-e2e-payload-")
        cls.emu = e2e.Emulator(targets=[MUX], profile="fast",
                               extra=("--payload-size", str(cls.AGENT_PAYLOAD), "--record-dir", cls.dir))
        cls.client = e2e.ClientEnv(cls.emu)
        cls.echo = e2e.EchoServer()

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()
        cls.client.cleanup()
        cls.emu.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def payload_lengths(self, direction, message_type):
        out = []
        for path in glob.glob(os.path.join(self.dir, "*.jsonl")):
            with open(path) as f:
                for line in f:
                    r = json.loads(line)
                    d = r.get("decoded")
                    if r.get("kind") == "ws" and r.get("dir") == direction and d and d["messageType"] == message_type:
                        out.append(d["payloadLength"])
        return out

    def test_larger_payloads_carry_the_same_bytes(self):
        fwd = e2e.Forwarder(self.client, MUX, ["0:127.0.0.1:%d" % self.echo.port],
                            global_args=("--payload-size", str(self.CLIENT_PAYLOAD)))
        try:
            payload = os.urandom(self.SIZE)
            got = e2e.echo_roundtrip_halfclose(("127.0.0.1", fwd.ready[0]["port"]), payload, timeout=120)
            self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(payload).hexdigest(),
                             "echoed %d of %d bytes" % (len(got), len(payload)))
        finally:
            rc = fwd.stop(signal.SIGINT)
        self.assertEqual(rc, 0, fwd.stderr_text())
        e2e.wait_until(lambda: self.payload_lengths("client->agent", "input_stream_data"), 10,
                       message="recording written")
        up = self.payload_lengths("client->agent", "input_stream_data")
        down = self.payload_lengths("agent->client", "output_stream_data")
        # Never above the limits, and the limits are really used (1024 is the default).
        self.assertLessEqual(max(up), self.CLIENT_PAYLOAD)
        self.assertGreater(max(up), 1024)
        self.assertLessEqual(max(down), self.AGENT_PAYLOAD)
        self.assertGreater(max(down), self.CLIENT_PAYLOAD)

    def test_out_of_range_payload_size_is_a_usage_error(self):
        for bad in ("0", "65537", "big"):
            cp = e2e.run_ssmc(self.client, ["--payload-size", bad, "forward", MUX, "-L", "0:22"])
            self.assertEqual(cp.returncode, 2, e2e.describe(cp))
            self.assertIn("--payload-size", cp.stderr.decode(errors="replace"))


class ForwardModes(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        e2e.require_binaries()
        cls.emu = e2e.Emulator(targets=[MUX, BASIC + ",agent=" + BASIC_AGENT], profile="faithful")
        cls.client = e2e.ClientEnv(cls.emu)

    @classmethod
    def tearDownClass(cls):
        cls.client.cleanup()
        cls.emu.stop()

    def setUp(self):
        self.echo = e2e.EchoServer()
        self.cleanups = []

    def tearDown(self):
        for f in reversed(self.cleanups):
            f()
        self.echo.stop()

    def forward(self, target, specs):
        fwd = e2e.Forwarder(self.client, target, specs)
        self.cleanups.append(fwd.stop)
        return fwd

    # ---------------------------------------------------------- basic mode

    def test_basic_mode_sequential_connections(self):
        fwd = self.forward(BASIC, ["0:127.0.0.1:%d" % self.echo.port])
        ready = fwd.ready[0]
        self.assertEqual(ready["mode"], "basic", ready)
        addr = ("127.0.0.1", ready["port"])
        for i, size in enumerate((256 * 1024, 1, 4096, 256 * 1024, 100000)):
            with self.subTest(connection=i, size=size):
                payload = os.urandom(size)
                got = e2e.echo_roundtrip_exact(addr, payload, timeout=120)
                self.assertEqual(len(got), size, "short echo; ssmc stderr:\n" + fwd.stderr_text())
                self.assertEqual(hashlib.sha256(got).hexdigest(), hashlib.sha256(payload).hexdigest())
                self.assertIsNone(fwd.proc.poll(), "ssmc forward exited: " + fwd.stderr_text())

    # ---------------------------------------------------------- failures

    def test_refused_remote_port_fails_only_that_connection(self):
        port = self.echo.port
        fwd = self.forward(MUX, ["0:127.0.0.1:%d" % port])
        addr = ("127.0.0.1", fwd.ready[0]["port"])
        long_lived = e2e.connect(addr)
        self.cleanups.append(long_lived.close)
        long_lived.sendall(b"ping-1")
        self.assertEqual(recv_some(long_lived, 6), b"ping-1")

        self.echo.stop_listening()  # the remote port now refuses; the open connection lives on
        assert_closed_without_data(self, addr)
        assert_closed_without_data(self, addr)

        long_lived.sendall(b"ping-2")
        self.assertEqual(recv_some(long_lived, 6), b"ping-2", "the other connection on the session broke")
        self.assertIsNone(fwd.proc.poll(), "ssmc forward exited: " + fwd.stderr_text())

        self.echo.port = port
        self.echo.start()  # listening again on the same port: new connections work again
        payload = os.urandom(64 * 1024)
        self.assertEqual(e2e.echo_roundtrip_halfclose(addr, payload, timeout=60), payload)
        long_lived.sendall(b"ping-3")
        self.assertEqual(recv_some(long_lived, 6), b"ping-3")

    def test_nothing_ever_listening(self):
        dead = e2e.free_port()
        ldead, lgood = e2e.free_port(), e2e.free_port()
        fwd = self.forward(MUX, ["%d:127.0.0.1:%d" % (ldead, dead), "%d:127.0.0.1:%d" % (lgood, self.echo.port)])
        self.assertEqual(sorted(r["port"] for r in fwd.ready), sorted([ldead, lgood]))
        for _ in range(3):
            assert_closed_without_data(self, ("127.0.0.1", ldead))
            payload = b"x" * 1000
            self.assertEqual(e2e.echo_roundtrip_halfclose(("127.0.0.1", lgood), payload, timeout=30), payload)
        self.assertIsNone(fwd.proc.poll(), "ssmc forward exited: " + fwd.stderr_text())

    def test_host_not_allowed_by_target(self):
        # The emulator's agent only dials allow-listed hosts: the connection fails, the session stays.
        fwd = self.forward(MUX, ["0:not-allowed.invalid:%d" % self.echo.port])
        addr = ("127.0.0.1", fwd.ready[0]["port"])
        assert_closed_without_data(self, addr)
        assert_closed_without_data(self, addr)
        self.assertIsNone(fwd.proc.poll(), "ssmc forward exited: " + fwd.stderr_text())

    # ---------------------------------------------------------- listeners

    def test_two_forwards_in_one_process(self):
        echo2 = e2e.EchoServer()
        self.cleanups.append(echo2.stop)
        # one with an explicit host (…ToRemoteHost document), one without (AWS-StartPortForwardingSession)
        fwd = self.forward(MUX, ["0:127.0.0.1:%d" % self.echo.port, "0:%d" % echo2.port])
        self.assertEqual(len(fwd.ready), 2)
        ports = {r["port"] for r in fwd.ready}
        self.assertEqual(len(ports), 2, fwd.ready)
        self.assertEqual(len({r["session_id"] for r in fwd.ready}), 2, fwd.ready)
        before = (self.echo.accepted, echo2.accepted)
        results = {}

        def run(port):
            payload = os.urandom(200 * 1024)
            results[port] = e2e.echo_roundtrip_halfclose(("127.0.0.1", port), payload, timeout=120) == payload

        threads = [threading.Thread(target=run, args=(p,), daemon=True) for p in ports]
        for t in threads:
            t.start()
        for t in threads:
            t.join(150)
        self.assertEqual(results, {p: True for p in ports}, fwd.stderr_text())
        self.assertEqual((self.echo.accepted - before[0], echo2.accepted - before[1]), (1, 1))

    def test_fixed_local_port(self):
        lport = e2e.free_port()
        fwd = self.forward(MUX, ["127.0.0.1:%d:127.0.0.1:%d" % (lport, self.echo.port)])
        self.assertEqual(fwd.ready[0]["port"], lport)
        payload = b"fixed-port" * 100
        self.assertEqual(e2e.echo_roundtrip_halfclose(("127.0.0.1", lport), payload, timeout=30), payload)

    def test_local_port_in_use(self):
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        self.cleanups.append(blocker.close)
        lport = blocker.getsockname()[1]
        cp = e2e.run_ssmc(self.client, ["forward", MUX, "-L", "%d:127.0.0.1:%d" % (lport, self.echo.port),
                                        "--ready"], timeout=30)
        self.assertEqual(cp.returncode, 7, e2e.describe(cp))
        self.assertIn(str(lport).encode(), cp.stderr)

    def test_ipv6_bind(self):
        if not e2e.ipv6_loopback_available():
            self.skipTest("::1 is not available on this host")
        fwd = self.forward(MUX, ["[::1]:0:127.0.0.1:%d" % self.echo.port])
        ready = fwd.ready[0]
        self.assertEqual(ready["listen"], "[::1]:%d" % ready["port"], ready)
        payload = os.urandom(100 * 1024)
        self.assertEqual(e2e.echo_roundtrip_halfclose(("::1", ready["port"]), payload, timeout=60), payload)

    def test_unix_socket_listener(self):
        d = tempfile.mkdtemp(prefix="ssmc-e2e-sock-")
        self.cleanups.append(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        path = os.path.join(d, "x.sock")
        fwd = self.forward(MUX, ["unix:%s:127.0.0.1:%d" % (path, self.echo.port)])
        ready = fwd.ready[0]
        self.assertEqual(ready["listen"], path, ready)
        self.assertTrue(os.path.exists(path))
        for size in (1, 100 * 1024):
            payload = os.urandom(size)
            self.assertEqual(e2e.echo_roundtrip_halfclose(path, payload, timeout=60), payload)
        rc = fwd.stop(signal.SIGINT)
        self.assertEqual(rc, 0)
        self.assertFalse(os.path.exists(path), "unix socket left behind after exit")

    def test_unix_socket_listener_basic_mode(self):
        d = tempfile.mkdtemp(prefix="ssmc-e2e-sock-")
        self.cleanups.append(lambda: __import__("shutil").rmtree(d, ignore_errors=True))
        path = os.path.join(d, "b.sock")
        fwd = self.forward(BASIC, ["unix:%s:127.0.0.1:%d" % (path, self.echo.port)])
        self.assertEqual(fwd.ready[0]["mode"], "basic")
        payload = os.urandom(32 * 1024)
        self.assertEqual(e2e.echo_roundtrip_exact(path, payload, timeout=60), payload)

    # ---------------------------------------------------------- ssh-proxy

    def test_ssh_proxy_stdio(self):
        # `ssmc ssh-proxy TARGET PORT`: stdin/stdout to the target's port (AWS-StartSSHSession).
        import subprocess
        for target in (MUX, BASIC):
            with self.subTest(target=target):
                cmd = self.client.ssmc_args("ssh-proxy", target, str(self.echo.port))
                err = tempfile.TemporaryFile()
                self.cleanups.append(err.close)
                p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                     env=self.client.env)
                self.cleanups.append(lambda p=p: e2e.kill_process(p, timeout=2))
                payload = os.urandom(200 * 1024)
                t = threading.Thread(target=lambda: (p.stdin.write(payload), p.stdin.flush()), daemon=True)
                t.start()
                got = bytearray()
                deadline = time.monotonic() + 60
                while len(got) < len(payload) and time.monotonic() < deadline:
                    # Unbuffered reads on the fd with select: never blocks past the deadline.
                    ready, _, _ = select.select([p.stdout.fileno()], [], [], max(0.0, deadline - time.monotonic()))
                    if not ready:
                        break  # no byte within the deadline: reported as a short read below
                    d = os.read(p.stdout.fileno(), 65536)
                    if not d:
                        break
                    got += d
                t.join(10)
                if len(got) != len(payload):
                    err.seek(0)
                    self.fail("short read: %d of %d bytes; stderr: %r" % (len(got), len(payload), err.read()[-2000:]))
                self.assertEqual(hashlib.sha256(bytes(got)).hexdigest(), hashlib.sha256(payload).hexdigest())
                if t.is_alive():
                    self.fail("ssmc stopped reading stdin (the writer is still blocked)")
                p.stdin.close()  # stdin EOF ends the session with status 0
                try:
                    rc = p.wait(timeout=15)
                except Exception:  # noqa: BLE001
                    self.fail("ssmc ssh-proxy did not exit within 15s of stdin EOF")
                self.assertEqual(rc, 0)
                p.stdout.close()

    # ---------------------------------------------------------- signals

    def test_signals_end_forward(self):
        for target in (MUX, BASIC):
            for sig in (signal.SIGINT, signal.SIGTERM):
                with self.subTest(target=target, signal=sig.name):
                    fwd = e2e.Forwarder(self.client, target, ["0:127.0.0.1:%d" % self.echo.port])
                    try:
                        payload = b"sig" * 100
                        addr = ("127.0.0.1", fwd.ready[0]["port"])
                        self.assertEqual(e2e.echo_roundtrip_exact(addr, payload, timeout=30), payload)
                        t0 = time.monotonic()
                        fwd.proc.send_signal(sig)
                        try:
                            rc = fwd.proc.wait(timeout=10)
                        except Exception:  # noqa: BLE001
                            self.fail("ssmc forward did not exit within 10s of %s" % sig.name)
                        self.assertLess(time.monotonic() - t0, 10)
                        allowed = (0,) if sig == signal.SIGINT else (0, 130)
                        self.assertIn(rc, allowed, fwd.stderr_text())
                        with self.assertRaises(OSError):
                            e2e.connect(addr, timeout=2).close()
                    finally:
                        fwd.stop()

    def test_usage_errors(self):
        for spec in ("abc", "0:127.0.0.1:notaport", "70000:127.0.0.1:80", "unix:/tmp/only-path"):
            with self.subTest(spec=spec):
                cp = e2e.run_ssmc(self.client, ["forward", MUX, "-L", spec, "--ready"], timeout=30)
                self.assertEqual(cp.returncode, e2e.EXIT_USAGE, e2e.describe(cp))
                self.assertEqual(cp.stdout, b"")


if __name__ == "__main__":
    unittest.main()
