"""Short fault scenarios (issue #7) against ssmc-emulator: sessions survive
dropped WebSockets (client and agent side), frame loss, duplication and
reordering, a suspended client and a stalled peer, with every byte intact;
and a session that the service really ends (TerminateSession, idle timeout,
maximum duration) or that cannot be resumed ends promptly with the reason.

The long version is `make soak` (scripts/soak)."""

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import unittest

import e2e_common as e2e

TARGET = "i-0123456789abcdef0"
OLD_AGENT = "i-0000000000000b001"  # agent 3.0.161.0: basic port sessions
TARGETS = (TARGET, OLD_AGENT + ",agent=3.0.161.0")
# Flapping, lossy network: used by the survival tests.
LOSSY = ("--loss", "0.02", "--duplicate", "0.01", "--reorder", "0.02")


def parallel_echo(address, payloads, halfclose=True, timeout=180):
    """Echo round trips of every payload on its own connection at once; returns the bytes read per payload."""
    results = [None] * len(payloads)
    errors = []

    def one(i):
        try:
            rt = e2e.echo_roundtrip_halfclose if halfclose else e2e.echo_roundtrip_exact
            results[i] = rt(address, payloads[i], timeout=timeout)
        except Exception as e:  # reported below with the index
            errors.append((i, e))

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 10)
    return results, errors


# credential_process for the expiry test: the first call gets the first key, expiring in 15 min + 2 s;
# every later call the next key, valid for an hour. Counts its calls in a file.
CREDENTIAL_ROTATOR = """import datetime, json
path = %(state)r
try:
    n = int(open(path).read())
except OSError:
    n = 0
open(path, "w").write(str(n + 1))
now = datetime.datetime.now(datetime.timezone.utc)
first = n == 0
life = datetime.timedelta(minutes=15, seconds=2) if first else datetime.timedelta(hours=1)
print(json.dumps({"Version": 1, "AccessKeyId": %(first_id)r if first else %(next_id)r,
                  "SecretAccessKey": %(first_secret)r if first else %(next_secret)r,
                  "Expiration": (now + life).strftime("%%Y-%%m-%%dT%%H:%%M:%%SZ")}))
"""


class Faults(unittest.TestCase):
    def setUp(self):
        self.emu = None
        self.client = None
        self.echo = e2e.EchoServer()
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            e2e.kill_process(p)
        if self.client:
            self.client.cleanup()
        if self.emu:
            try:
                os.kill(self.emu.proc.pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
            self.emu.stop()
        self.echo.stop()

    def start(self, *extra, profile="fast", log_level="warn"):
        self.emu = e2e.Emulator(targets=TARGETS, profile=profile, extra=extra, log_level=log_level)
        self.client = e2e.ClientEnv(self.emu)

    def forward(self, target=TARGET, extra=(), global_args=()):
        fwd = e2e.Forwarder(self.client, target, ["0:%d" % self.echo.port], extra=extra, global_args=global_args)
        self.addCleanup(fwd.stop)
        return fwd, ("127.0.0.1", fwd.ready[0]["port"])

    # ------------------------------------------------------------ survival

    def test_mux_forward_survives_drops_loss_duplication_reordering(self):
        # The client's leg cut every 0.2 s (and resumed at a new URL each time), the agent leg down every
        # 0.3 s, 2 % loss, 1 % duplication, 2 % reordering: 8 connections x 2 MiB both ways.
        # (Time-based client drops: a leg cut after a fixed small number of frames can livelock, since
        # both ends resend their backlog at once and the cut always comes before the acks; see
        # docs/emulator.md, --drop-client-after.)
        self.start("--drop-client-every", "0.2", "--resume-new-url", "--drop-agent-every", "0.3",
                   "--agent-outage", "0.1", *LOSSY)
        fwd, addr = self.forward()
        payloads = [os.urandom(2 << 20) for _ in range(8)]
        results, errors = parallel_echo(addr, payloads)
        self.assertEqual(errors, [], fwd.stderr_text())
        for i, (sent, got) in enumerate(zip(payloads, results)):
            self.assertEqual(e2e.sha256(got), e2e.sha256(sent), "connection %d: %d of %d bytes" %
                             (i, len(got), len(sent)))
        self.assertIn("ssmc: reconnected", fwd.stderr_text())  # the drops really happened
        self.assertIsNone(fwd.proc.poll(), "the forward must still be running")
        # And a new connection after all that.
        self.assertEqual(e2e.echo_roundtrip_halfclose(addr, b"still-here", timeout=60), b"still-here")

    def test_basic_forward_survives_drops(self):
        # Every leg is cut after 200 frames. (Fewer livelock since batched writes: after a resume the
        # agent resends its whole backlog in one write, and with a backlog over about N/2 frames every
        # leg dies before an acknowledgement gets through; docs/emulator.md, --drop-client-after.)
        self.start("--drop-client-after", "200", *LOSSY)
        fwd, addr = self.forward(target=OLD_AGENT)
        payload = os.urandom(2 << 20)
        got = e2e.echo_roundtrip_exact(addr, payload, timeout=120)
        self.assertEqual(e2e.sha256(got), e2e.sha256(payload), fwd.stderr_text())
        self.assertIn("ssmc: reconnected", fwd.stderr_text())

    def test_exec_output_survives_drops(self):
        # 3 MB of random data streamed while every client leg is cut after 30 frames, with duplication and
        # reordering; the remote side prints its own SHA-256 on stderr. (No random loss here: the agent
        # drains unacknowledged data for only 2 s after the command ends, as the real one does, so losing
        # the last frames twice in a row would lose them for good; loss is covered by the forward tests.)
        self.start("--drop-client-after", "30", "--duplicate", "0.01", "--reorder", "0.02")
        cmd = "head -c 3000000 /dev/urandom > \"$1\"; cat \"$1\"; sha256sum \"$1\" >&2; rm -f \"$1\""
        path = os.path.join(self.client.tmp, "remote.bin")
        cp = e2e.run_ssmc(self.client, ["exec", TARGET, "--document", "SSMC-StartNonInteractiveCommandSeparateStreams",
                                        "--", "sh", "-c", cmd, "sh", path], timeout=180)
        self.assertEqual(cp.returncode, 0, e2e.describe(cp))
        self.assertEqual(len(cp.stdout), 3000000)
        self.assertIn(e2e.sha256(cp.stdout).encode(), cp.stderr, e2e.describe(cp))  # the remote digest
        self.assertIn(b"ssmc: reconnected", cp.stderr)

    def test_stalled_consumer_holds_the_client_back_without_loss(self):
        # The agent takes input for 0.05 s, then stops for 1 s (nothing delivered, nothing acknowledged),
        # and so on: ssmc's window fills and it retransmits into the stall. 4 connections x 4 MiB both ways
        # (longer than one 0.05 s phase) still arrive intact, and a stall is not mistaken for a dead
        # connection (no reconnect).
        self.start("--stall-consumer-every", "0.05", "--stall-consumer-for", "1", log_level="info")
        fwd, addr = self.forward()
        payloads = [os.urandom(4 << 20) for _ in range(4)]
        t0 = time.monotonic()
        results, errors = parallel_echo(addr, payloads)
        elapsed = time.monotonic() - t0
        self.assertEqual(errors, [], fwd.stderr_text())
        for i, (sent, got) in enumerate(zip(payloads, results)):
            self.assertEqual(e2e.sha256(got), e2e.sha256(sent), "connection %d" % i)
        stalls = self.emu.stderr_text().count("consumer stalled")
        self.assertGreaterEqual(stalls, 1, "the emulator never stalled (%.1f s):\n%s" %
                                (elapsed, self.emu.stderr_text()))
        self.assertNotIn("connection lost", fwd.stderr_text())
        self.assertIsNone(fwd.proc.poll(), "the forward must still be running")

    def test_delay_and_jitter(self):
        # 40 ms more each way plus up to 20 ms of jitter (which also reorders frames): a one-byte echo
        # takes at least the 80 ms the delay adds, and 2 connections x 2 MiB both ways arrive intact.
        self.start("--delay", "40", "--jitter", "20")
        fwd, addr = self.forward()
        s = e2e.connect(addr, timeout=30)
        try:
            s.settimeout(30)
            t0 = time.monotonic()
            s.sendall(b"x")
            self.assertEqual(s.recv(1), b"x")
            rtt = time.monotonic() - t0
        finally:
            s.close()
        self.assertGreaterEqual(rtt, 0.080, "the delay was not applied")
        self.assertLess(rtt, 5.0)
        payloads = [os.urandom(2 << 20) for _ in range(2)]
        results, errors = parallel_echo(addr, payloads)
        self.assertEqual(errors, [], fwd.stderr_text())
        for i, (sent, got) in enumerate(zip(payloads, results)):
            self.assertEqual(e2e.sha256(got), e2e.sha256(sent), "connection %d" % i)
        self.assertNotIn("connection lost", fwd.stderr_text())

    def test_credentials_expiring_mid_session_are_refreshed(self):
        # The emulator takes its key for 4 s only (then ExpiredTokenException, as AWS answers expired
        # temporary credentials) and a second key throughout. credential_process hands out the first key,
        # expiring 15 min + 2 s later (so ssmc's 15-minute refresh window opens 2 s in), and the second
        # key on every later call. The client WebSocket is cut every 6 s: the ResumeSession and signed
        # reconnect after a cut need fresh credentials. The session must go on with them.
        rotated_id, rotated_secret = "AKIAROTATED000000000", "rotated-secret-for-the-e2e-test"
        self.start("--expire-access-key-after", "4", "--extra-credential", rotated_id + ":" + rotated_secret,
                   "--drop-client-every", "6", log_level="info")
        state = os.path.join(self.client.tmp, "credential-calls")
        script = os.path.join(self.client.tmp, "creds.py")
        with open(script, "w") as f:
            f.write(CREDENTIAL_ROTATOR % {"state": state, "first_id": e2e.ACCESS_KEY_ID,
                                          "first_secret": e2e.SECRET_ACCESS_KEY, "next_id": rotated_id,
                                          "next_secret": rotated_secret})
        with open(self.client.config_file, "w") as f:
            f.write("[default]\ncredential_process = %s %s\n" % (sys.executable, script))
        for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            self.client.env.pop(k, None)
        fwd, addr = self.forward(global_args=("-v",))
        self.assertEqual(e2e.echo_roundtrip_halfclose(addr, b"before", timeout=30), b"before")
        e2e.wait_until(lambda: "ssmc: reconnected" in fwd.stderr_text(), 30,
                       message="a reconnect after the first key expired")
        self.assertEqual(e2e.echo_roundtrip_halfclose(addr, b"after", timeout=30), b"after")
        with open(state) as f:
            calls = int(f.read())
        self.assertGreaterEqual(calls, 2, "credential_process ran once: nothing was refreshed")
        self.assertIsNone(fwd.proc.poll(), "the forward must still be running:\n" + fwd.stderr_text())
        for secret in (rotated_secret, e2e.SECRET_ACCESS_KEY):
            self.assertNotIn(secret, fwd.stderr_text())
            self.assertNotIn(secret, self.emu.stderr_text())

    def test_corrupted_digests_and_paused_publication(self):
        # 2 % of the frames both ways get a flipped digest byte (each end drops them and the sender's
        # RTO resends), and the agent is told pause_publication/start_publication every 0.3 s:
        # 4 connections x 1 MiB both ways arrive intact, without any reconnect.
        self.start("--corrupt", "0.02", "--pause-every", "0.3")
        fwd, addr = self.forward(global_args=("-vv",))
        payloads = [os.urandom(1 << 20) for _ in range(4)]
        results, errors = parallel_echo(addr, payloads)
        self.assertEqual(errors, [], fwd.stderr_text())
        for i, (sent, got) in enumerate(zip(payloads, results)):
            self.assertEqual(e2e.sha256(got), e2e.sha256(sent), "connection %d" % i)
        self.assertNotIn("connection lost", fwd.stderr_text())
        self.assertIn("dropped a frame: payload SHA-256 digest mismatch", fwd.stderr_text(),
                      "the corruption happened and ssmc dropped those frames")

    def test_agent_side_drops_are_not_client_reconnects(self):
        # The agent's leg goes down (the client's WebSocket stays up): no ResumeSession, no "connection lost",
        # the data still arrives complete (both engines retransmit).
        self.start("--drop-agent-every", "0.5", "--agent-outage", "0.4")
        fwd, addr = self.forward()
        payload = os.urandom(2 << 20)
        self.assertEqual(e2e.sha256(e2e.echo_roundtrip_halfclose(addr, payload, timeout=120)), e2e.sha256(payload))
        self.assertNotIn("connection lost", fwd.stderr_text())

    # ------------------------------------------------------------ dead peers and suspension

    def test_suspended_client_continues(self):
        # SIGSTOP the client for longer than its keep-alive timeout, then SIGCONT: the open connection and
        # the session carry on (a reconnect if the leg died meanwhile).
        self.start()
        fwd, addr = self.forward()
        s = e2e.connect(addr, timeout=60)
        try:
            s.sendall(b"before-stop\n")
            self.assertEqual(s.recv(100), b"before-stop\n")
            os.kill(fwd.proc.pid, signal.SIGSTOP)
            time.sleep(8)
            os.kill(fwd.proc.pid, signal.SIGCONT)
            payload = os.urandom(256 * 1024)
            s.sendall(payload)
            got = bytearray()
            while len(got) < len(payload):
                d = s.recv(65536)
                self.assertTrue(d, "connection closed after SIGCONT: %s" % fwd.stderr_text())
                got += d
            self.assertEqual(bytes(got), payload)
        finally:
            s.close()
        self.assertEqual(e2e.echo_roundtrip_halfclose(addr, b"new-after-cont", timeout=60), b"new-after-cont")

    def test_stalled_peer_detected_and_session_continues(self):
        # The whole service stalls (SIGSTOP: TCP stays open, nothing answers, not even pongs). With a 2 s
        # keep-alive timeout ssmc must notice while the stall lasts, then resume when it ends.
        self.start()
        args = ["--keepalive-timeout", "2", "forward", TARGET, "-L", "0:%d" % self.echo.port, "--ready"]
        proc = subprocess.Popen(self.client.ssmc_args(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.client.env)
        self.procs.append(proc)
        reader = e2e.LineReader(proc.stdout)
        ready = json.loads(reader.next_line(30))
        addr = ("127.0.0.1", ready["port"])
        errs = e2e.LineReader(proc.stderr)
        s = e2e.connect(addr, timeout=90)
        try:
            s.sendall(b"ping-1\n")
            self.assertEqual(s.recv(100), b"ping-1\n")
            os.kill(self.emu.proc.pid, signal.SIGSTOP)
            stalled_at = time.monotonic()
            e2e.wait_until(lambda: any("connection lost" in line for line in errs.all), 9,
                           message="ssmc to notice the stalled peer")
            noticed_after = time.monotonic() - stalled_at
            time.sleep(max(0.0, 8 - noticed_after))
            os.kill(self.emu.proc.pid, signal.SIGCONT)
            s.sendall(b"ping-2\n")
            got = b""
            while len(got) < 7:
                d = s.recv(100)
                self.assertTrue(d, "".join(errs.all))
                got += d
            self.assertEqual(got, b"ping-2\n")
            e2e.wait_until(lambda: any("ssmc: reconnected" in line for line in errs.all), 30,
                           message="reconnected")
        finally:
            s.close()
        self.assertLess(noticed_after, 8, "noticed only after the stall ended")

    # ------------------------------------------------------------ real ends

    def test_terminate_session_ends_without_reconnect(self):
        for extra in ((), ("--short-channel-closed",)):
            with self.subTest(extra=extra):
                if self.emu:
                    self.client.cleanup()
                    self.emu.stop()
                self.start(*extra)
                cp_holder = {}
                proc = subprocess.Popen(self.client.ssmc_args("exec", TARGET, "--", "sleep", "30"),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.client.env)
                self.procs.append(proc)
                session = e2e.wait_until(lambda: self.session_id_of(proc, cp_holder), 20, message="session id")
                status, _, _ = e2e.api_call(self.emu.endpoint, "TerminateSession", {"SessionId": session})
                self.assertEqual(status, 200)
                out, err = proc.communicate(timeout=15)
                err = cp_holder.get("err", b"") + err
                self.assertNotEqual(proc.returncode, 0)
                self.assertNotIn(b"reconnecting", err)

    @staticmethod
    def session_id_of(proc, holder):
        r, _, _ = select.select([proc.stderr], [], [], 0.1)
        if r:
            holder["err"] = holder.get("err", b"") + os.read(proc.stderr.fileno(), 4096)
        for line in holder.get("err", b"").splitlines():
            if line.startswith(b"ssmc: session ") and line.endswith(b" started"):
                return line.split()[2].decode()
        return None

    def test_idle_timeout_ends_forward_despite_keepalive(self):
        # An open but idle forwarded connection, and a short keep-alive: neither counts as input, so the
        # service's idle timeout still ends the session, with its reason shown.
        self.start("--idle-timeout", "3")
        args = ["--keepalive-timeout", "1", "forward", TARGET, "-L", "0:%d" % self.echo.port, "--ready"]
        proc = subprocess.Popen(self.client.ssmc_args(*args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.client.env)
        self.procs.append(proc)
        ready = json.loads(e2e.LineReader(proc.stdout).next_line(30))
        s = e2e.connect(("127.0.0.1", ready["port"]), timeout=30)
        try:
            s.sendall(b"x")
            self.assertEqual(s.recv(10), b"x")
            rc = proc.wait(timeout=30)
        finally:
            s.close()
        err = proc.stderr.read()
        self.assertEqual(rc, e2e.EXIT_CONNECTION, err)
        self.assertIn(b"Session timed out after being idle", err)

    def test_max_session_duration(self):
        self.start("--max-session-duration", "2")
        cp = e2e.run_ssmc(self.client, ["exec", TARGET, "--", "sleep", "20"], timeout=30)
        self.assertEqual(cp.returncode, e2e.EXIT_CONNECTION, e2e.describe(cp))
        self.assertIn(b"Session reached the maximum session duration", cp.stderr)

    def test_service_gone_gives_up_within_budget(self):
        # The emulator dies for good: ssmc tries to resume for --reconnect-budget seconds, then says so.
        self.start()
        args = ["--reconnect-budget", "3", "exec", TARGET, "--document", "SSMC-StartNonInteractiveCommandSeparateStreams",
                "--", "sh", "-c", "echo up; sleep 30"]  # separate streams: "up" arrives at once
        proc = subprocess.Popen(self.client.ssmc_args(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=self.client.env)
        self.procs.append(proc)
        holder = {}
        self.assertEqual(proc.stdout.readline(), b"up\n")  # the data channel is up
        self.emu.proc.kill()
        self.emu.proc.wait(5)
        started = time.monotonic()
        out, err = proc.communicate(timeout=30)
        err = holder.get("err", b"") + err
        self.assertEqual(proc.returncode, e2e.EXIT_CONNECTION, err)
        self.assertIn(b"reconnecting", err)
        self.assertLess(time.monotonic() - started, 25)


if __name__ == "__main__":
    unittest.main()
