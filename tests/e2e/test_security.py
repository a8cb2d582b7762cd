"""E2E: the emulator's API and gateway refuse what they must.

* API calls without a signature, with a wrong secret, an unknown key, a stale
  date or a body changed after signing are rejected with an AWS-shaped JSON
  error (HTTP 400/403).
* A session token opens the data channel once: a second WebSocket with the
  same token is disconnected, and so is a token of another session.
* A client whose first frame is garbage (not JSON, binary, JSON without a
  token) is disconnected, while another session (an `ssmc forward`) keeps
  working.
"""

import datetime
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import json
import socket
import time
import unittest

import e2e_common as e2e

TARGET = "i-0e2e00000000005ec"


def expect_disconnect(test, ws, timeout=10.0):
    """The server must close the connection without sending a data message."""
    ws.sock.settimeout(timeout)
    try:
        op, data = ws.recv()
    except (e2e.WsClosed, ConnectionError) as e:
        return str(e)
    except socket.timeout:
        test.fail("the server kept the connection open for %.0fs" % timeout)
    test.fail("the server sent a data message instead of disconnecting: opcode %d, %r" % (op, data[:80]))


class SecurityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        e2e.require_binaries()
        cls.emu = e2e.Emulator(targets=[TARGET], profile="faithful")
        cls.client = e2e.ClientEnv(cls.emu)

    @classmethod
    def tearDownClass(cls):
        cls.client.cleanup()
        cls.emu.stop()

    def start_session(self, document=None, parameters=None):
        payload = {"Target": TARGET}
        if document:
            payload["DocumentName"] = document
        if parameters:
            payload["Parameters"] = parameters
        status, body, _ = e2e.api_call(self.emu.endpoint, "StartSession", payload)
        self.assertEqual(status, 200, body)
        for k in ("SessionId", "TokenValue", "StreamUrl"):
            self.assertIn(k, body)
        return body

    def assert_aws_error(self, status, body, codes):
        self.assertIn(status, (400, 403), body)
        self.assertIsInstance(body, dict, "error body is not JSON: %r" % (body,))
        self.assertIn("__type", body, body)
        self.assertTrue(any(c in body["__type"] for c in codes), body)
        msg = body.get("message", body.get("Message"))
        self.assertIsInstance(msg, str, body)
        self.assertTrue(msg, body)

    # ------------------------------------------------------------ API auth

    def test_signed_start_session_works(self):
        body = self.start_session()
        self.assertTrue(body["StreamUrl"].startswith("ws://127.0.0.1:%d/" % self.emu.port), body)
        e2e.api_call(self.emu.endpoint, "TerminateSession", {"SessionId": body["SessionId"]})

    def test_unsigned_start_session_rejected(self):
        status, body, headers = e2e.api_call(self.emu.endpoint, "StartSession", {"Target": TARGET}, sign=False)
        self.assert_aws_error(status, body, ["MissingAuthenticationToken"])
        self.assertIn("json", headers.get("Content-Type", ""))

    def test_wrong_secret_rejected(self):
        status, body, _ = e2e.api_call(self.emu.endpoint, "StartSession", {"Target": TARGET}, secret="wrong-secret")
        self.assert_aws_error(status, body, ["InvalidSignature", "SignatureDoesNotMatch"])

    def test_unknown_access_key_rejected(self):
        status, body, _ = e2e.api_call(self.emu.endpoint, "StartSession", {"Target": TARGET},
                                       access_key="AKIAUNKNOWN000000000")
        self.assert_aws_error(status, body, ["UnrecognizedClient", "InvalidClientTokenId"])

    def test_stale_signature_rejected(self):
        import http.client
        import urllib.parse
        body = json.dumps({"Target": TARGET})
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.StartSession"}
        old = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=30)
        headers = e2e.sigv4_headers("POST", self.emu.endpoint + "/", body, "ssm", headers, now=old)
        parts = urllib.parse.urlsplit(self.emu.endpoint)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        conn.close()
        self.assert_aws_error(resp.status, data, ["InvalidSignature", "SignatureExpired", "Expired"])

    def test_body_changed_after_signing_rejected(self):
        import http.client
        import urllib.parse
        body = json.dumps({"Target": TARGET})
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.StartSession"}
        headers = e2e.sigv4_headers("POST", self.emu.endpoint + "/", body, "ssm", headers)
        tampered = json.dumps({"Target": "i-0e2e00000000005ed"})
        parts = urllib.parse.urlsplit(self.emu.endpoint)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        conn.request("POST", "/", body=tampered, headers=headers)
        resp = conn.getresponse()
        data = json.loads(resp.read())
        conn.close()
        self.assert_aws_error(resp.status, data, ["InvalidSignature", "SignatureDoesNotMatch"])

    def test_signed_for_wrong_service_rejected(self):
        status, body, _ = e2e.api_call(self.emu.endpoint, "StartSession", {"Target": TARGET}, service="kms")
        self.assert_aws_error(status, body, ["InvalidSignature", "SignatureDoesNotMatch", "IncompleteSignature"])

    # ------------------------------------------------------------ tokens

    def test_token_is_single_use(self):
        s = self.start_session()
        first = e2e.WsClient(s["StreamUrl"])
        second = None
        try:
            first.send(e2e.open_data_channel_json(s["TokenValue"]))
            op, frame = first.recv()  # the shell's prompt as an output_stream_data AgentMessage
            self.assertEqual(op, 2, "expected a binary AgentMessage")
            self.assertIn(e2e.agent_message_type(frame), ("output_stream_data", "acknowledge"))

            second = e2e.WsClient(s["StreamUrl"])
            second.send(e2e.open_data_channel_json(s["TokenValue"]))
            expect_disconnect(self, second)

            # The first leg is still attached: it keeps getting frames or at least is not closed.
            first.sock.settimeout(0.5)
            try:
                first.recv()
            except socket.timeout:
                pass
        finally:
            first.close()
            if second:
                second.close()
            e2e.api_call(self.emu.endpoint, "TerminateSession", {"SessionId": s["SessionId"]})

    def test_token_of_another_session_refused(self):
        a = self.start_session()
        b = self.start_session()
        ws = e2e.WsClient(b["StreamUrl"])
        try:
            ws.send(e2e.open_data_channel_json(a["TokenValue"]))
            expect_disconnect(self, ws)
        finally:
            ws.close()
            for s in (a, b):
                e2e.api_call(self.emu.endpoint, "TerminateSession", {"SessionId": s["SessionId"]})

    def test_unknown_session_upgrade_refused(self):
        url = "ws://127.0.0.1:%d/v1/data-channel/ssmc-doesnotexist?role=publish_subscribe" % self.emu.port
        with self.assertRaises(e2e.WsClosed) as cm:
            e2e.WsClient(url)
        self.assertIn("404", str(cm.exception))

    def test_garbage_first_frame_disconnected_other_session_unaffected(self):
        echo = e2e.EchoServer()
        fwd = e2e.Forwarder(self.client, TARGET, ["0:127.0.0.1:%d" % echo.port])
        try:
            addr = ("127.0.0.1", fwd.ready[0]["port"])
            payload = b"before-garbage" * 1000
            self.assertEqual(e2e.echo_roundtrip_halfclose(addr, payload, timeout=60), payload)

            garbage = [
                ("non-JSON text", lambda ws, s: ws.send("this is not json {")),
                ("binary first", lambda ws, s: ws.send(b"\x00\x00\x00\x74" + b"x" * 200, binary=True)),
                ("JSON without token", lambda ws, s: ws.send(json.dumps({"MessageSchemaVersion": "1.0"}))),
                ("token in a binary frame",
                 lambda ws, s: ws.send(e2e.open_data_channel_json(s["TokenValue"]).encode(), binary=True)),
            ]
            for name, send in garbage:
                with self.subTest(garbage=name):
                    s = self.start_session()
                    ws = e2e.WsClient(s["StreamUrl"])
                    try:
                        send(ws, s)
                        expect_disconnect(self, ws)
                    finally:
                        ws.close()
                        e2e.api_call(self.emu.endpoint, "TerminateSession", {"SessionId": s["SessionId"]})

            # A client that connects and never sends OpenDataChannel is dropped too (10 s deadline).
            s = self.start_session()
            ws = e2e.WsClient(s["StreamUrl"], timeout=20)
            t0 = time.monotonic()
            try:
                expect_disconnect(self, ws, timeout=20)
                self.assertLess(time.monotonic() - t0, 19)
            finally:
                ws.close()

            self.assertTrue(self.emu.alive(), self.emu.stderr_text())
            self.assertIsNone(fwd.proc.poll(), "ssmc forward died: " + fwd.stderr_text())
            payload = b"after-garbage" * 5000
            self.assertEqual(e2e.echo_roundtrip_halfclose(addr, payload, timeout=60), payload)
            cp = e2e.run_ssmc(self.client, ["-q", "exec", TARGET, "--", "echo", "still-works"])
            self.assertEqual((cp.returncode, cp.stdout), (0, b"still-works\n"), e2e.describe(cp))
        finally:
            fwd.stop()
            echo.stop()



class SecretsNeverLeak(unittest.TestCase):
    """A whole session at -vv: a forward with a transfer and reconnects (each with a new token), then an
    exec. The secret key and every token the service issued never appear in ssmc's output, and no token
    in its command line or environment (the key is there only as the caller's own variable)."""

    def test_no_secret_in_logs_argv_or_environment(self):
        rec = tempfile.mkdtemp(prefix="ssmc-e2e-secrets-")
        self.addCleanup(shutil.rmtree, rec, True)
        emu = e2e.Emulator(targets=[TARGET], profile="fast", log_level="debug",
                           extra=("--record-dir", rec, "--drop-client-every", "1", "--resume-new-url"))
        self.addCleanup(emu.stop)
        client = e2e.ClientEnv(emu)
        self.addCleanup(client.cleanup)
        echo = e2e.EchoServer()
        self.addCleanup(echo.stop)
        fwd = e2e.Forwarder(client, TARGET, ["0:127.0.0.1:%d" % echo.port], global_args=("-vv",))
        self.addCleanup(fwd.stop)
        payload = os.urandom(1 << 20)
        self.assertEqual(e2e.echo_roundtrip_halfclose(("127.0.0.1", fwd.ready[0]["port"]), payload, timeout=60),
                         payload)
        e2e.wait_until(lambda: "ssmc: reconnected" in fwd.stderr_text(), 20, message="a reconnect (new token)")
        with open("/proc/%d/cmdline" % fwd.proc.pid, "rb") as f:
            cmdline = f.read().decode(errors="replace")
        with open("/proc/%d/environ" % fwd.proc.pid, "rb") as f:
            environ = f.read().decode(errors="replace").split("\0")
        e2e.kill_process(fwd.proc, signal.SIGTERM, timeout=10)
        with open(fwd.stderr_path, "rb") as f:  # the whole log, not a tail
            fwd_log = f.read().decode(errors="replace")
        fwd.stop()
        cp = e2e.run_ssmc(client, ["-vv", "exec", TARGET, "--", "echo", "hi"])
        self.assertEqual(cp.returncode, 0, e2e.describe(cp))
        # Every token the gateway saw (OpenDataChannel after StartSession and each ResumeSession).
        tokens = set()
        for path in glob.glob(os.path.join(rec, "*.jsonl")):
            with open(path) as f:
                for line in f:
                    r = json.loads(line)
                    if r.get("kind") == "ws" and r.get("ws_type") == "text" and "TokenValue" in r.get("text", ""):
                        tokens.add(json.loads(r["text"])["TokenValue"])
        self.assertGreaterEqual(len(tokens), 3, "expected the first token and at least one resume per session")
        outputs = {"forward stderr": fwd_log, "exec stdout": cp.stdout.decode(errors="replace"),
                   "exec stderr": cp.stderr.decode(errors="replace"), "forward argv": cmdline,
                   "forward environment": "\n".join(environ)}
        for secret in sorted(tokens) + [e2e.SECRET_ACCESS_KEY]:
            for name, text in outputs.items():
                if name == "forward environment" and secret == e2e.SECRET_ACCESS_KEY:
                    # The caller's own AWS_SECRET_ACCESS_KEY, and only that.
                    self.assertEqual([v for v in environ if secret in v], ["AWS_SECRET_ACCESS_KEY=" + secret])
                    continue
                self.assertNotIn(secret, text, "a secret (%s...) reached the %s" % (secret[:4], name))
        self.assertIn("reconnected", fwd_log)  # the log covers the session
        for path in glob.glob(os.path.join(rec, "*.jsonl")):  # the emulator's recordings hold tokens
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)

if __name__ == "__main__":
    unittest.main()


class TlsTest(unittest.TestCase):
    """`ssmc-emulator --tls --cert-out FILE`: https API and wss data channel with a generated certificate.
    ssmc verifies it: trusted with --ca-bundle (or AWS_CA_BUNDLE), refused without (exit 5)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ssmc-e2e-tls-")
        self.ca = os.path.join(self.dir, "emulator-ca.pem")
        self.emu = e2e.Emulator(targets=(TARGET,), extra=("--tls", "--cert-out", self.ca))
        self.client = e2e.ClientEnv(self.emu)

    def tearDown(self):
        self.client.cleanup()
        self.emu.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_trusted_with_ca_bundle(self):
        self.assertTrue(self.emu.endpoint.startswith("https://"), self.emu.endpoint)
        with open(self.ca) as f:
            self.assertIn("BEGIN CERTIFICATE", f.read())
        cp = e2e.run_ssmc(self.client, ["--ca-bundle", self.ca, "exec", TARGET, "--", "echo", "over-tls"])
        self.assertEqual((cp.returncode, cp.stdout), (0, b"over-tls\n"), e2e.describe(cp))
        env_cp = subprocess.run(self.client.ssmc_args("exec", TARGET, "--", "echo", "env-ca"), capture_output=True,
                                timeout=60, env=dict(self.client.env, AWS_CA_BUNDLE=self.ca))
        self.assertEqual((env_cp.returncode, env_cp.stdout), (0, b"env-ca\n"), env_cp.stderr)

    def test_untrusted_certificate_refused(self):
        cp = e2e.run_ssmc(self.client, ["exec", TARGET, "--", "echo", "must-not-run"])
        self.assertEqual(cp.returncode, e2e.EXIT_CONNECTION, e2e.describe(cp))
        self.assertIn(b"certificate verify failed", cp.stderr)
        self.assertNotIn(b"must-not-run", cp.stdout)

    def test_cert_out_needs_tls(self):
        cp = subprocess.run([e2e.EMULATOR, "--cert-out", self.ca + ".x"], capture_output=True, timeout=10)
        self.assertEqual(cp.returncode, 2)
        self.assertIn(b"--cert-out needs --tls", cp.stderr)
