"""E2E: ssmc as `session-manager-plugin` under the real AWS CLIs.

A temp bin dir holds a symlink session-manager-plugin -> ssmc and comes first
on PATH. `aws ssm start-session` (Debian's AWS CLI v2 at /usr/bin/aws, and
the pip AWS CLI v1) then runs our plugin: a shell session in tmux, and port
forwarding sessions (mux and basic mode) with an echo server behind them.
The bare plugin contract (no args, --version, unknown operation) is checked
too.
"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import e2e_common as e2e

TARGET = "i-0e2e00000000091a1"
BASIC = "i-0e2e00000000091a2"
AWS_V2 = "/usr/bin/aws"
OUTER = r"^OUTER>\s*$"

EMU = None
CLIENT = None
BIN = None


def setUpModule():
    global EMU, CLIENT, BIN
    e2e.require_binaries()
    EMU = e2e.Emulator(targets=[TARGET, BASIC + ",agent=3.0.196.0"], profile="faithful")
    CLIENT = e2e.ClientEnv(EMU)
    BIN = tempfile.mkdtemp(prefix="ssmc-e2e-bin-")
    os.symlink(os.path.abspath(e2e.SSMC), os.path.join(BIN, "session-manager-plugin"))
    CLIENT.env["PATH"] = BIN + os.pathsep + CLIENT.env.get("PATH", "/usr/bin:/bin")


def tearDownModule():
    if BIN:
        shutil.rmtree(BIN, ignore_errors=True)
    if CLIENT:
        CLIENT.cleanup()
    if EMU:
        EMU.stop()


def plugin(*args, timeout=15):
    return subprocess.run([os.path.join(BIN, "session-manager-plugin")] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=CLIENT.env, timeout=timeout)


def version_tuple(v):
    return tuple(int(x) for x in v.split("."))


def cli_v1_command():
    """The pip AWS CLI v1: `python3 -m awscli` if importable, else the first `aws` on PATH that is not /usr/bin/aws."""
    path = CLIENT.env.get("PATH", "")
    py = shutil.which("python3", path=path)
    if py:
        try:
            cp = subprocess.run([py, "-c", "import awscli"], env=CLIENT.env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=30)
            if cp.returncode == 0:
                return [py, "-m", "awscli"]
        except (OSError, subprocess.TimeoutExpired):
            pass
    for d in path.split(os.pathsep):
        cand = os.path.join(d, "aws")
        if os.access(cand, os.X_OK) and os.path.realpath(cand) != os.path.realpath(AWS_V2) and d != BIN:
            try:
                out = subprocess.run([cand, "--version"], env=CLIENT.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                continue
            if out.startswith(b"aws-cli/1."):
                return [cand]
    return None


def cli_command(which):
    if which == "v2":
        if not os.access(AWS_V2, os.X_OK):
            raise unittest.SkipTest("%s (Debian AWS CLI v2) is not installed" % AWS_V2)
        return [AWS_V2]
    cmd = cli_v1_command()
    if cmd is None:
        raise unittest.SkipTest("no AWS CLI v1 (python3 -m awscli, or an aws 1.x on PATH) is available")
    return cmd


def start_session_args(target, *extra):
    return ["ssm", "start-session", "--target", target, "--endpoint-url", EMU.endpoint, "--region", e2e.REGION] + \
        list(extra)


class PluginContract(unittest.TestCase):
    def test_no_arguments_prints_install_message(self):
        cp = plugin()
        self.assertEqual(cp.returncode, 0)
        self.assertEqual(cp.stdout, b"\nThe Session Manager plugin was installed successfully. "
                                    b"Use the AWS CLI to start a session.\n\n")

    def test_version(self):
        cp = plugin("--version")
        self.assertEqual(cp.returncode, 0)
        v = cp.stdout.decode().strip()
        self.assertRegex(v, r"^\d+(\.\d+){0,3}$")
        self.assertEqual(cp.stdout, (v + "\n").encode())
        padded = version_tuple(v) + (0,) * (4 - len(version_tuple(v)))
        self.assertGreater(padded, (1, 2, 497, 0), "the AWS CLI would put the token on the command line")
        # the same via `ssmc plugin --version` and `ssmc --version`
        cp2 = subprocess.run([e2e.SSMC, "plugin", "--version"], stdout=subprocess.PIPE, timeout=15, env=CLIENT.env)
        self.assertEqual(cp2.stdout.decode().strip(), v)
        cp3 = subprocess.run([e2e.SSMC, "--version"], stdout=subprocess.PIPE, timeout=15, env=CLIENT.env)
        self.assertIn(v, cp3.stdout.decode())

    def test_unknown_operation(self):
        cp = plugin("bogus")
        self.assertEqual(cp.returncode, 0)
        self.assertEqual(cp.stdout, b"\nUnknown operation bogus. \nUse session-manager-plugin --version to check "
                                    b"the version.\n\n")

    def test_bad_response_json(self):
        cp = plugin("{not json", "us-east-1", "StartSession", "", '{"Target": "%s"}' % TARGET, EMU.endpoint)
        self.assertEqual(cp.returncode, 0)
        self.assertTrue(cp.stdout.startswith(b"Cannot perform start session: "), cp.stdout)


class _CliShell:
    CLI = None

    def setUp(self):
        self.cli = cli_command(self.CLI)
        self.tmux = e2e.Tmux("ssmc-e2e-cli")
        self.addCleanup(self.tmux.kill)
        env = dict(CLIENT.env)
        env["PS1"] = "OUTER> "
        env["TERM"] = "xterm-256color"
        self.tmux.start("exec /bin/sh", env, width=110, height=30)
        self.tmux.wait_for(r"^[#$>]\s*$", timeout=10)
        self.tmux.type("PS1='OUT''ER> '")  # dash sets its own PS1 for root; set ours explicitly
        self.tmux.wait_for(OUTER, timeout=10)

    def test_shell_session(self):
        script = os.path.join(self.tmux.tmp, "cli.sh")
        e2e.write_env_script(script, CLIENT.env, self.cli + start_session_args(TARGET), report=True)
        self.tmux.type("sh %s" % e2e.shell_quote(script))
        m = self.tmux.wait_for(r"Starting session with SessionId: (\S+)", timeout=60)
        session_id = m.group(1)
        self.tmux.wait_for(r"^[#$]\s*$", timeout=20, after=m.end())
        self.tmux.type("echo plugin-$((6*7))")
        self.tmux.wait_for(r"^plugin-42\s*$", timeout=15)
        self.tmux.type("stty size")
        self.tmux.wait_for(r"^30 110\s*$", timeout=15)
        self.tmux.type("exit")
        m = self.tmux.wait_for(r"Exiting session with sessionId: %s\." % re.escape(session_id), timeout=20)
        m = self.tmux.wait_for(r"^CMD-RC=(\d+)\s*$", timeout=20, after=m.end())
        self.assertEqual(m.group(1), "0", "aws ssm start-session exit status")
        nonblock = re.findall(r"STDIN-NONBLOCK=(\d)", self.tmux.capture())
        self.tmux.wait_for(r"OUTER>", timeout=10, after=m.end())
        self.tmux.type("stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e echo | sort | tr '\\n' ' '; echo")
        self.tmux.wait_for(r"^echo icanon\s*$", timeout=10)
        self.assertEqual(nonblock, ["0"], "the plugin left the terminal (stdin's open file description) in "
                                          "O_NONBLOCK mode; dash then says 'sh: turning off NDELAY mode'")


class CliV2Shell(_CliShell, unittest.TestCase):
    CLI = "v2"


class CliV1Shell(_CliShell, unittest.TestCase):
    CLI = "v1"


class _CliPortForward:
    CLI = None

    def setUp(self):
        self.cli = cli_command(self.CLI)
        self.echo = e2e.EchoServer()
        self.addCleanup(self.echo.stop)

    def run_forward(self, target, document, params, check, expect_mux):
        lport = e2e.free_port()
        param_text = ",".join("%s=%s" % kv for kv in params + [("localPortNumber", str(lport))])
        cmd = self.cli + start_session_args(target, "--document-name", document, "--parameters", param_text)
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                env=CLIENT.env, start_new_session=True)
        reader = e2e.LineReader(proc.stdout)
        self.addCleanup(e2e.kill_process, proc, signal.SIGKILL, 5, True)
        deadline = time.monotonic() + 60
        while True:
            line = reader.next_line(max(0.1, deadline - time.monotonic()))
            if line is None:
                self.fail("no 'Port %d opened' line from %s; output:\n%s" % (lport, " ".join(cmd), "".join(reader.all)))
            if "Port %d opened for sessionId" % lport in line:
                break
        check(("127.0.0.1", lport))
        out_so_far = "".join(reader.all)
        self.assertIn("Starting session with SessionId: ", out_so_far)
        if expect_mux:
            e2e.wait_until(lambda: "Waiting for connections..." in "".join(reader.all), 5,
                           message="'Waiting for connections...'")
            e2e.wait_until(lambda: "Connection accepted for session [" in "".join(reader.all), 5,
                           message="mux 'Connection accepted' line")
        else:
            e2e.wait_until(lambda: "Connection accepted for session " in "".join(reader.all), 5,
                           message="basic 'Connection accepted' line")
        # The CLI ignores SIGINT; the plugin ends the session on it (Ctrl-C in a terminal hits the group).
        os.killpg(proc.pid, signal.SIGINT)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.fail("aws/plugin did not exit within 15s of SIGINT; output:\n" + "".join(reader.all))
        reader.close_when_done(proc.stdout)
        text = "".join(reader.all)
        self.assertEqual(rc, 0, text)
        self.assertIn("Terminate signal received, exiting.", text)
        return text

    def test_port_forwarding_mux(self):
        def check(addr):
            for size in (1, 70000, 512 * 1024):
                payload = os.urandom(size)
                self.assertEqual(e2e.echo_roundtrip_halfclose(addr, payload, timeout=120), payload)

        text = self.run_forward(TARGET, "AWS-StartPortForwardingSession", [("portNumber", str(self.echo.port))],
                                check, expect_mux=True)
        self.assertIn("Exiting session with sessionId:", text)

    def test_port_forwarding_to_remote_host(self):
        def check(addr):
            payload = os.urandom(100000)
            self.assertEqual(e2e.echo_roundtrip_halfclose(addr, payload, timeout=120), payload)

        self.run_forward(TARGET, "AWS-StartPortForwardingSessionToRemoteHost",
                         [("host", "127.0.0.1"), ("portNumber", str(self.echo.port))], check, expect_mux=True)

    def test_port_forwarding_basic_mode(self):
        def check(addr):
            for size in (10, 64 * 1024):
                payload = os.urandom(size)
                self.assertEqual(e2e.echo_roundtrip_exact(addr, payload, timeout=120), payload)

        self.run_forward(BASIC, "AWS-StartPortForwardingSession", [("portNumber", str(self.echo.port))], check,
                         expect_mux=False)


class CliV2PortForward(_CliPortForward, unittest.TestCase):
    CLI = "v2"


class CliV1PortForward(_CliPortForward, unittest.TestCase):
    CLI = "v1"


if __name__ == "__main__":
    unittest.main()
