"""ssmc-emulator --record-dir writes JSONL transcripts in the format of
../shared/testdata/transcripts/, readable by transcript-summary.py."""

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import e2e_common as e2e

SUMMARY = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "tools", "transcript-summary.py")


class Recording(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ssmc-e2e-rec-")
        self.emu = e2e.Emulator(extra=("--record-dir", self.dir))
        self.client = e2e.ClientEnv(self.emu)

    def tearDown(self):
        self.client.cleanup()
        self.emu.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_exec_session_is_recorded_frame_by_frame(self):
        cp = e2e.run_ssmc(self.client, ["exec", "i-0123456789abcdef0", "--", "echo", "recorded"])
        self.assertEqual(cp.returncode, 0, e2e.describe(cp))
        e2e.wait_until(lambda: any("terminate" in open(f).read() for f in glob.glob(self.dir + "/*.jsonl")), 10,
                       message="transcript complete")
        files = glob.glob(self.dir + "/*.jsonl")
        self.assertEqual(len(files), 1)
        records = [json.loads(l) for l in open(files[0])]
        self.assertEqual([r["seq"] for r in records], list(range(1, len(records) + 1)))
        ws = [r for r in records if r["kind"] == "ws"]
        dirs = {r["dir"] for r in ws}
        self.assertEqual(dirs, {"client->mgs", "agent->client", "client->agent", "mgs->client"})
        # The client's OpenDataChannel, as text, like the golden transcripts; the file is owner-only.
        opens = [r for r in ws if r["dir"] == "client->mgs"]
        self.assertEqual(len(opens), 1)
        self.assertEqual(opens[0]["ws_type"], "text")
        self.assertIn("TokenValue", json.loads(opens[0]["text"]))
        self.assertEqual(os.stat(files[0]).st_mode & 0o777, 0o600)
        ws = [r for r in ws if r["ws_type"] == "binary"]
        for r in ws:
            self.assertEqual(len(bytes.fromhex(r["hex"])), r["len"])
            self.assertTrue(r["decoded"]["digestOk"], r)
        types = [r["decoded"]["messageType"] for r in ws]
        self.assertEqual(types[0], "output_stream_data")  # the HandshakeRequest: the agent speaks first
        self.assertEqual(types[-1], "channel_closed")
        if os.path.exists(SUMMARY):
            out = subprocess.run([sys.executable, SUMMARY, files[0], "--all"], stdout=subprocess.PIPE, timeout=30)
            self.assertEqual(out.returncode, 0)
            self.assertIn(b"channel_closed", out.stdout)


if __name__ == "__main__":
    unittest.main()
