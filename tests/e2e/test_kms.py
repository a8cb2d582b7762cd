"""KMS-encrypted sessions (04): the emulator's agent asks for KMSEncryption,
ssmc calls kms:GenerateDataKey (AWS_ENDPOINT_URL_KMS points at the emulator's
built-in KMS), and the session runs encrypted end to end."""

import unittest

import e2e_common as e2e


class KmsEncryptedSession(unittest.TestCase):
    def setUp(self):
        self.emu = e2e.Emulator(extra=("--kms-key-id", "alias/ssmc-e2e"))
        self.client = e2e.ClientEnv(self.emu)
        self.client.env["AWS_ENDPOINT_URL_KMS"] = self.emu.endpoint

    def tearDown(self):
        self.client.cleanup()
        self.emu.stop()

    def test_exec_is_encrypted_and_returns_status(self):
        cp = e2e.run_ssmc(self.client, ["exec", "i-0123456789abcdef0", "--", "sh", "-c", "echo sealed; exit 7"])
        self.assertEqual(cp.returncode, 7, e2e.describe(cp))
        self.assertEqual(cp.stdout, b"sealed\n")
        self.assertIn(b"This session is encrypted using AWS KMS.", cp.stderr)

    def test_kms_unreachable_fails_the_handshake_clearly(self):
        self.client.env["AWS_ENDPOINT_URL_KMS"] = "http://127.0.0.1:%d" % e2e.free_port()
        cp = e2e.run_ssmc(self.client, ["exec", "i-0123456789abcdef0", "--", "true"], timeout=120)
        self.assertNotEqual(cp.returncode, 0, e2e.describe(cp))
        self.assertIn(b"KMS GenerateDataKey failed", cp.stderr)


if __name__ == "__main__":
    unittest.main()
