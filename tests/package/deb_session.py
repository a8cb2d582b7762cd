"""The installed .deb at work (run by scripts/test-deb after `apt-get install`).

Uses only the installed programs: /usr/bin/ssmc-emulator serves, Debian's AWS
CLI v2 (/usr/bin/aws) runs `aws ssm start-session` with a port-forwarding
document, and the test checks that the CLI found /usr/bin/session-manager-plugin
on PATH and that the process it started is the installed ssmc. Also runs the
installed /usr/bin/ssmc directly.
"""

import os
import shutil
import signal
import subprocess
import sys
import time
import unittest

os.environ["SSMC_BUILD_DIR"] = "/usr/bin"  # e2e_common's binaries: the installed ones
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
import e2e_common as e2e  # noqa: E402

PLUGIN = "/usr/bin/session-manager-plugin"
AWS_V2 = "/usr/bin/aws"
TARGET = "i-0deb0000000000001"

EMU = None
CLIENT = None


def setUpModule():
    global EMU, CLIENT
    EMU = e2e.Emulator(targets=[TARGET + ",name=deb"], profile="fast")
    CLIENT = e2e.ClientEnv(EMU)


def tearDownModule():
    if CLIENT:
        CLIENT.cleanup()
    if EMU:
        EMU.stop()


def children(pid):
    """Direct child processes of `pid` (from /proc/*/stat)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may contain spaces; split after the last ')'.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            out.append(int(entry))
    return out


def process_info(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        return os.readlink("/proc/%d/exe" % pid), argv[0].decode()
    except OSError:
        return None, None


class InstalledPackage(unittest.TestCase):
    def test_plugin_is_found_on_path(self):
        found = shutil.which("session-manager-plugin", path=CLIENT.env.get("PATH"))
        self.assertEqual(found, PLUGIN, "PATH finds %s first; the AWS CLI would run that one" % found)
        self.assertEqual(os.readlink(PLUGIN), "ssmc")
        cp = subprocess.run([PLUGIN, "--version"], stdout=subprocess.PIPE, env=CLIENT.env, timeout=15)
        self.assertRegex(cp.stdout.decode(), r"^\d+(\.\d+){3}\n$")

    def test_installed_ssmc_exec(self):
        cp = e2e.run_ssmc(CLIENT, ["-q", "exec", "name:deb", "--", "sh", "-c", "echo from-deb; exit 3"])
        self.assertEqual(cp.args[0], "/usr/bin/ssmc")
        self.assertEqual((cp.returncode, cp.stdout), (3, b"from-deb\n"), e2e.describe(cp))

    def test_aws_cli_port_forwarding_runs_installed_plugin(self):
        if not os.access(AWS_V2, os.X_OK):
            self.fail("%s (Debian's AWS CLI v2, package awscli) is not installed" % AWS_V2)
        echo = e2e.EchoServer()
        self.addCleanup(echo.stop)
        lport = e2e.free_port()
        cmd = [AWS_V2, "ssm", "start-session", "--target", TARGET, "--endpoint-url", EMU.endpoint,
               "--region", e2e.REGION, "--document-name", "AWS-StartPortForwardingSession",
               "--parameters", "portNumber=%d,localPortNumber=%d" % (echo.port, lport)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=CLIENT.env, start_new_session=True)
        self.addCleanup(e2e.kill_process, proc, signal.SIGKILL, 5, True)
        reader = e2e.LineReader(proc.stdout)
        deadline = time.monotonic() + 60
        while True:
            line = reader.next_line(max(0.1, deadline - time.monotonic()))
            if line is None:
                self.fail("no 'Port %d opened' line from aws; output:\n%s" % (lport, "".join(reader.all)))
            if "Port %d opened for sessionId" % lport in line:
                break

        # The plugin the CLI started: argv[0] session-manager-plugin, executable the installed ssmc.
        plugins = [process_info(c) for c in children(proc.pid)]
        self.assertIn(("/usr/bin/ssmc", "session-manager-plugin"), plugins,
                      "processes started by aws: %s" % plugins)

        for size in (1, 100000):
            payload = os.urandom(size)
            self.assertEqual(e2e.echo_roundtrip_halfclose(("127.0.0.1", lport), payload, timeout=60), payload)

        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the CLI ignores it, the plugin ends
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("aws did not exit within 15 s of SIGINT; output:\n" + "".join(reader.all))
        reader.close_when_done(proc.stdout)
        text = "".join(reader.all)
        self.assertEqual(rc, 0, text)
        self.assertIn("Starting session with SessionId: ", text)
        self.assertIn("Exiting session with sessionId:", text)


if __name__ == "__main__":
    unittest.main()
