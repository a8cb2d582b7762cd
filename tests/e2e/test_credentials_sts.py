"""Assume-role credentials through a real STS fake (python3 -m moto.server).

ssmc resolves `--profile dev` (role_arn + source_profile) by calling
sts:AssumeRole, signed with the source profile's keys, at the STS endpoint
override AWS_ENDPOINT_URL_STS; the session then runs with the temporary
credentials moto issued. (The Debian AWS CLI 2.9.19 cannot point STS at a
fake, so the CLI-vs-ssmc comparison of assume-role results is done in
tests/aws/credential_oracle_test.cpp with pre-filled CLI caches.)
"""

import glob
import os
import socket
import subprocess
import sys
import time
import unittest

import e2e_common as e2e


def moto_available():
    return subprocess.run([sys.executable, "-c", "import moto.server"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0


class AssumeRoleThroughMoto(unittest.TestCase):
    def setUp(self):
        if not moto_available():
            self.skipTest("python3 moto is not installed (pip package 'moto[server]')")
        self.port = e2e.free_port()
        self.moto_log = open(os.path.join("/tmp", "ssmc-e2e-moto-%d.log" % os.getpid()), "w+b")
        self.moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                                     stdout=self.moto_log, stderr=subprocess.STDOUT, start_new_session=True)
        e2e.wait_until(lambda: self._moto_up(), 30, message="moto server listening")
        # The emulator only knows its own key; moto's temporary keys are
        # accepted here because signature checking is off for this test.
        self.emu = e2e.Emulator(extra=("--no-verify-signature",))
        self.client = e2e.ClientEnv(self.emu)

    def _moto_up(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def tearDown(self):
        if hasattr(self, "client"):
            self.client.cleanup()
        if hasattr(self, "emu"):
            self.emu.stop()
        if hasattr(self, "moto"):
            e2e.kill_process(self.moto, group=True)
            self.moto_log.close()

    def moto_requests(self):
        self.moto_log.flush()
        with open(self.moto_log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def test_assume_role_profile_runs_a_session(self):
        with open(self.client.config_file, "w") as f:
            f.write("[profile base]\naws_access_key_id = AKIDBASE000000000000\n"
                    "aws_secret_access_key = base-secret\n\n"
                    "[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\n"
                    "source_profile = base\nrole_session_name = ssmc-e2e\nregion = us-east-1\n")
        env = self.client.env
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:%d" % self.port
        cp = e2e.run_ssmc(self.client, ["--profile", "dev", "-v", "exec", "i-0123456789abcdef0", "--",
                                        "echo", "assumed"], timeout=90)
        self.assertEqual(cp.returncode, 0, e2e.describe(cp))
        self.assertEqual(cp.stdout, b"assumed\n")
        self.assertIn("POST / HTTP/1.1", self.moto_requests(), "ssmc did not call sts:AssumeRole on moto")
        err = cp.stderr.decode()
        self.assertIn("assume-role", err)
        self.assertNotIn("base-secret", err, "a secret reached the log")
        # The assumed role's credentials are cached as the AWS CLI does, owner-only.
        caches = glob.glob(os.path.join(self.client.home, ".aws", "cli", "cache", "*.json"))
        self.assertTrue(caches, "no credential cache was written")
        for path in caches:
            self.assertEqual(os.stat(path).st_mode & 0o777, 0o600, path)
        self.assertEqual(glob.glob(os.path.join(self.client.home, ".aws", "cli", "cache", "*.tmp*")), [])

    def test_missing_source_profile_is_one_clear_line(self):
        with open(self.client.config_file, "w") as f:
            f.write("[profile dev]\nrole_arn = arn:aws:iam::123456789012:role/dev\nsource_profile = nope\n")
        env = self.client.env
        del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
        env["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:%d" % self.port
        cp = e2e.run_ssmc(self.client, ["--profile", "dev", "exec", "i-0123456789abcdef0", "--", "true"])
        self.assertEqual(cp.returncode, e2e.EXIT_CONFIG, e2e.describe(cp))
        lines = [l for l in cp.stderr.decode().splitlines() if l.strip()]
        self.assertEqual(len(lines), 1, cp.stderr.decode())
        self.assertIn("nope", lines[0])


if __name__ == "__main__":
    unittest.main()
