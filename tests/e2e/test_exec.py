"""E2E: `ssmc exec` against ssmc-emulator.

Stdout/stderr separation, exit codes, stdin handling, binary-safe output,
with the stock document (wrapped by ssmc) and with the separate-streams
document; clear errors for an unknown target and a bad endpoint.
"""

import os
import re
import subprocess
import tempfile
import unittest

import e2e_common as e2e

TARGET = "i-0e2e000000000e001"
SEPARATE = "SSMC-StartNonInteractiveCommandSeparateStreams"
DOCUMENTS = (None, SEPARATE)  # None = ssmc's default (AWS-StartNonInteractiveCommand, wrapped)

EMU = None
CLIENT = None


def setUpModule():
    global EMU, CLIENT
    e2e.require_binaries()
    EMU = e2e.Emulator(targets=[TARGET + ",name=exec-web,tag:env=e2e-prod",
                                "i-0e2e000000000e002,name=twin", "i-0e2e000000000e003,name=twin",
                                "i-0e2e000000000e004,offline"], profile="faithful")
    CLIENT = e2e.ClientEnv(EMU)


def tearDownModule():
    if CLIENT:
        CLIENT.cleanup()
    if EMU:
        EMU.stop()


# ssmc's own session messages (not the remote's stderr). With -q none should
# appear; test_quiet_means_no_session_messages checks that on its own, the
# other tests look only at what is left of stderr once they are taken out.
_SSMC_MESSAGES = [re.compile(rb"ssmc: session \S+ started\n"),
                  re.compile(rb"\n\nExiting session with sessionId: [^\n]+\.\n\n")]


def remote_stderr(cp):
    err = cp.stderr
    for rx in _SSMC_MESSAGES:
        err = rx.sub(b"", err, count=1)
    return err


def exec_args(document, *command, target=TARGET, quiet=True):
    args = (["-q"] if quiet else []) + ["exec", target]
    if document:
        args += ["--document", document]
    return args + ["--"] + list(command)


class ExecStreamsAndExitCodes(unittest.TestCase):
    def check(self, document, code, **kw):
        cp = e2e.run_ssmc(CLIENT, exec_args(document, "sh", "-c", "echo out; echo err >&2; exit %d" % code), **kw)
        label = "document=%s exit=%d\n%s" % (document or "(default)", code, e2e.describe(cp))
        self.assertEqual(cp.returncode, code, label)
        self.assertEqual(cp.stdout, b"out\n", label)
        self.assertEqual(remote_stderr(cp), b"err\n", label)

    def test_exit_codes_stdin_devnull(self):
        for document in DOCUMENTS:
            for code in (0, 1, 42):
                with self.subTest(document=document, code=code):
                    self.check(document, code, stdin=subprocess.DEVNULL)

    def test_exit_codes_stdin_pipe_with_eof(self):
        # stdin is a pipe that delivers some bytes then EOF.
        for document in DOCUMENTS:
            for code in (0, 1, 42):
                with self.subTest(document=document, code=code):
                    self.check(document, code, input=b"ignored input\n")

    def test_stdin_pipe_left_open(self):
        # stdin is a pipe nobody writes to or closes: exec must still finish.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cmd = CLIENT.ssmc_args(*exec_args(document, "sh", "-c", "echo out; echo err >&2; exit 42"))
                p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env=CLIENT.env, cwd=CLIENT.tmp)
                try:
                    rc = p.wait(timeout=60)
                    out, err = p.stdout.read(), p.stderr.read()
                except subprocess.TimeoutExpired:
                    e2e.kill_process(p, timeout=2)
                    self.fail("ssmc exec did not finish while its stdin pipe stayed open: %s" % " ".join(cmd))
                finally:
                    e2e.kill_process(p, timeout=2)
                    for f in (p.stdin, p.stdout, p.stderr):
                        f.close()
                err = remote_stderr(subprocess.CompletedProcess(cmd, rc, out, err))
                self.assertEqual((rc, out, err), (42, b"out\n", b"err\n"))

    def test_stdin_fd_closed(self):
        # fd 0 is not open at all.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                self.check(document, 42, stdin=None, preexec_fn=lambda: os.close(0))

    def test_banner_only_on_stderr(self):
        # Without -q, whatever ssmc says goes to stderr; stdout stays the remote's stdout.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "sh", "-c", "echo out; echo err >&2; exit 3",
                                                    quiet=False))
                self.assertEqual(cp.returncode, 3, e2e.describe(cp))
                self.assertEqual(cp.stdout, b"out\n", e2e.describe(cp))
                self.assertIn(b"err\n", cp.stderr, e2e.describe(cp))
                self.assertNotIn(b"out", cp.stderr, e2e.describe(cp))

    def test_arguments_are_quoted(self):
        # Arguments with spaces and quotes arrive as they were given.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "printf", "[%s]\\n", "a b", "it's", "$HOME", ""))
                self.assertEqual(cp.returncode, 0, e2e.describe(cp))
                self.assertEqual(cp.stdout, b"[a b]\n[it's]\n[$HOME]\n[]\n", e2e.describe(cp))

    def test_no_output_exit_zero(self):
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "true"))
                self.assertEqual((cp.returncode, cp.stdout, remote_stderr(cp)), (0, b"", b""), e2e.describe(cp))

    def test_quiet_means_no_session_messages(self):
        # -q ("No banners"): stderr carries the remote command's stderr only.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "sh", "-c", "echo out; echo err >&2"))
                self.assertEqual(cp.stderr, b"err\n", e2e.describe(cp))


class ExecBinarySafe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="ssmc-e2e-exec-")
        cls.random_path = os.path.join(cls.tmp, "random.bin")
        cls.random = os.urandom(100000)
        with open(cls.random_path, "wb") as f:
            f.write(cls.random)
        cls.allbytes_path = os.path.join(cls.tmp, "allbytes.bin")
        cls.allbytes = bytes(range(256)) * 16 + b"\r\n\r\x00\x00\xff"
        with open(cls.allbytes_path, "wb") as f:
            f.write(cls.allbytes)

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_logs_to_a_full_disk_lose_nothing_else(self):
        # stderr (debug log, banners, remote stderr) on a full device: every write fails with ENOSPC.
        # The session must not notice: stdout complete, the remote exit status returned.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cmd = CLIENT.ssmc_args("-vv", *exec_args(document, "sh", "-c", "echo out; echo err >&2; exit 5"))
                with open("/dev/full", "wb") as full:
                    cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=full,
                                        env=CLIENT.env, cwd=CLIENT.tmp, timeout=60)
                self.assertEqual(cp.returncode, 5)
                self.assertEqual(cp.stdout, b"out\n")

    def test_random_stdout(self):
        # The emulator's agent runs on this host, so the remote `cat` reads our file.
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "cat", self.random_path), timeout=120)
                self.assertEqual(cp.returncode, 0, e2e.describe(cp))
                self.assertEqual(len(cp.stdout), len(self.random), "length differs; stderr: %r" % cp.stderr[-500:])
                self.assertEqual(e2e.sha256(cp.stdout), e2e.sha256(self.random))
                self.assertEqual(remote_stderr(cp), b"")

    def test_random_stdout_and_stderr_with_digest(self):
        # The same random bytes on stdout and on stderr (tee), plus an exit code.
        cmd = "cat %s | tee /dev/stderr; exit 7" % self.random_path
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "sh", "-c", cmd), timeout=120)
                self.assertEqual(cp.returncode, 7, e2e.describe(cp))
                self.assertEqual(e2e.sha256(cp.stdout), e2e.sha256(self.random), "stdout differs")
                self.assertEqual(e2e.sha256(remote_stderr(cp)), e2e.sha256(self.random), "stderr differs")

    def test_all_byte_values(self):
        for document in DOCUMENTS:
            with self.subTest(document=document):
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "sh", "-c",
                                                    "cat %s; cat %s >&2" % (self.allbytes_path, self.allbytes_path)))
                self.assertEqual(cp.returncode, 0, e2e.describe(cp))
                self.assertEqual(cp.stdout, self.allbytes)
                self.assertEqual(remote_stderr(cp), self.allbytes)

    def test_remote_digest_matches(self):
        # Remote generates random data, prints it and its own SHA-256 (on stderr).
        cmd = "head -c 100000 /dev/urandom > \"$1\"; cat \"$1\"; sha256sum \"$1\" >&2; rm -f \"$1\""
        for document in DOCUMENTS:
            with self.subTest(document=document):
                path = os.path.join(self.tmp, "remote-%s.bin" % (document or "default"))
                cp = e2e.run_ssmc(CLIENT, exec_args(document, "sh", "-c", cmd, "sh", path), timeout=120)
                self.assertEqual(cp.returncode, 0, e2e.describe(cp))
                err = remote_stderr(cp).split()
                remote_digest = err[0].decode() if err else ""
                self.assertEqual(len(cp.stdout), 100000)
                self.assertEqual(e2e.sha256(cp.stdout), remote_digest)


class ExecTargets(unittest.TestCase):
    def test_name_and_tag_lookup(self):
        for target in ("name:exec-web", "tag:env=e2e-prod"):
            with self.subTest(target=target):
                cp = e2e.run_ssmc(CLIENT, exec_args(None, "echo", "looked-up", target=target))
                self.assertEqual((cp.returncode, cp.stdout), (0, b"looked-up\n"), e2e.describe(cp))

    def test_ambiguous_name(self):
        cp = e2e.run_ssmc(CLIENT, exec_args(None, "true", target="name:twin"))
        self.assertEqual(cp.returncode, e2e.EXIT_USAGE, e2e.describe(cp))
        self.assertIn(b"i-0e2e000000000e002", cp.stderr)
        self.assertIn(b"i-0e2e000000000e003", cp.stderr)

    def test_unknown_target(self):
        for target in ("i-0000000000000dead", "name:no-such-name"):
            with self.subTest(target=target):
                cp = e2e.run_ssmc(CLIENT, exec_args(None, "true", target=target))
                self.assertEqual(cp.returncode, e2e.EXIT_API, e2e.describe(cp))
                self.assertEqual(cp.stdout, b"")
                err = cp.stderr.decode("utf-8", "replace").strip()
                self.assertTrue(err.startswith("ssmc:"), err)
                self.assertIn(target.split(":")[-1], err)
                self.assertEqual(len(err.splitlines()), 1, "expected one line: %r" % err)

    def test_offline_target(self):
        cp = e2e.run_ssmc(CLIENT, exec_args(None, "true", target="i-0e2e000000000e004"))
        self.assertEqual(cp.returncode, e2e.EXIT_API, e2e.describe(cp))
        self.assertIn(b"not connected", cp.stderr)

    def test_unknown_document(self):
        cp = e2e.run_ssmc(CLIENT, exec_args("No-Such-Document", "true"))
        self.assertEqual(cp.returncode, e2e.EXIT_API, e2e.describe(cp))
        self.assertIn(b"No-Such-Document", cp.stderr)


class ExecBadEndpoint(unittest.TestCase):
    def assert_one_line_error(self, cp):
        self.assertNotEqual(cp.returncode, 0, e2e.describe(cp))
        self.assertNotIn(cp.returncode, (70, 134, 139, -6, -11), "crash/internal error\n" + e2e.describe(cp))
        self.assertEqual(cp.stdout, b"", e2e.describe(cp))
        err = cp.stderr.decode("utf-8", "replace").strip()
        self.assertTrue(err, "no error message\n" + e2e.describe(cp))
        self.assertEqual(len(err.splitlines()), 1, "expected a one-line error, got:\n%s" % err)
        self.assertTrue(err.startswith("ssmc:"), err)

    def test_unreachable_endpoint(self):
        port = e2e.free_port()  # nothing listens there
        cp = e2e.run_ssmc(CLIENT, exec_args(None, "true"), endpoint="http://127.0.0.1:%d" % port, timeout=90)
        self.assert_one_line_error(cp)
        self.assertIn(b"127.0.0.1", cp.stderr)
        self.assertEqual(cp.returncode, e2e.EXIT_CONNECTION, "unreachable endpoint has its own exit code")

    def test_malformed_endpoint(self):
        for url in ("not a url", "ftp://127.0.0.1:1/", "http://"):
            with self.subTest(url=url):
                cp = e2e.run_ssmc(CLIENT, exec_args(None, "true"), endpoint=url, timeout=60)
                self.assert_one_line_error(cp)
                self.assertEqual(cp.returncode, e2e.EXIT_CONFIG, "a bad endpoint URL is a configuration error")

    def test_wrong_secret(self):
        env = dict(CLIENT.env)
        env["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        cp = subprocess.run(CLIENT.ssmc_args(*exec_args(None, "true")), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, timeout=60)
        self.assertEqual(cp.returncode, e2e.EXIT_API, e2e.describe(cp))
        self.assertIn(b"signature", cp.stderr.lower())


if __name__ == "__main__":
    unittest.main()
