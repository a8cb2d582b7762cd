"""Shared helpers for the ssmc end-to-end tests (stdlib only).

The binaries come from $SSMC_BUILD_DIR (default /work/main/build/release):
  $SSMC_BUILD_DIR/ssmc and $SSMC_BUILD_DIR/ssmc-emulator.

What is here:
  * Emulator: starts `ssmc-emulator --ready-json`, reads its endpoint, stops it.
  * ClientEnv: a clean environment for ssmc / the AWS CLI (temp HOME, empty
    config files, the emulator's credentials, no host AWS_* variables).
  * run_ssmc / start_ssmc / read_json_lines: run the client with timeouts.
  * EchoServer: a threaded TCP echo server on loopback.
  * Tmux: a private tmux server (unique -L socket) with polling helpers.
  * sigv4_headers / api_call: a small SigV4 signer for raw API calls.
  * WsClient: a minimal WebSocket client over a plain socket.
"""

import datetime
import hashlib
import hmac
import http.client
import json
import os
import queue
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
import uuid

BUILD_DIR = os.environ.get("SSMC_BUILD_DIR", "/work/main/build/release")
SSMC = os.path.join(BUILD_DIR, "ssmc")
EMULATOR = os.path.join(BUILD_DIR, "ssmc-emulator")

ACCESS_KEY_ID = "AKIAEMULATOR00000000"
SECRET_ACCESS_KEY = "ssmc-emulator-secret-key"
REGION = "us-east-1"

# Exit codes documented by `ssmc --help` (src/cli/main.cpp).
EXIT_USAGE = 2
EXIT_CONFIG = 3
EXIT_API = 4
EXIT_CONNECTION = 5


def require_binaries():
    """Fails (not skips) when the binaries are missing: a broken build must be seen."""
    missing = [p for p in (SSMC, EMULATOR) if not os.access(p, os.X_OK)]
    if missing:
        raise AssertionError(
            "binaries not found: %s (set SSMC_BUILD_DIR to the build directory)" % ", ".join(missing))


def tail(path, limit=4000):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-limit:].decode("utf-8", "replace")
    except OSError:
        return ""


def kill_process(proc, sig=signal.SIGTERM, timeout=5.0, group=False):
    """Stops one process we started: `sig`, then SIGKILL after `timeout`."""
    if proc is None or proc.poll() is not None:
        return
    try:
        if group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except (ProcessLookupError, PermissionError):
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass


def wait_until(predicate, timeout, interval=0.05, message="condition"):
    """Polls `predicate` until it returns a truthy value or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, message))
        time.sleep(interval)


class LineReader:
    """Reads a pipe line by line on a thread; lines come out of a queue."""

    def __init__(self, stream):
        self.lines = queue.Queue()
        self.all = []
        self._thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self._thread.start()

    def _run(self, stream):
        try:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace")
                self.all.append(line)
                self.lines.put(line)
        except (OSError, ValueError):
            pass
        self.lines.put(None)

    def close_when_done(self, stream, timeout=2.0):
        self._thread.join(timeout)
        if not self._thread.is_alive():
            try:
                stream.close()
            except (OSError, ValueError):
                pass

    def next_line(self, timeout):
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return None


# ---------------------------------------------------------------- emulator


class Emulator:
    """One ssmc-emulator process. Use as a context manager or call stop()."""

    def __init__(self, targets=("i-0123456789abcdef0",), profile="faithful", extra=(), env=None,
                 log_level="warn", startup_timeout=15.0):
        require_binaries()
        self.tmp = tempfile.mkdtemp(prefix="ssmc-e2e-emu-")
        self.stderr_path = os.path.join(self.tmp, "emulator.stderr")
        cmd = [EMULATOR, "--ready-json", "--profile", profile, "--log-level", log_level]
        for t in targets:
            cmd += ["--target", t]
        cmd += list(extra)
        self.cmd = cmd
        run_env = dict(os.environ) if env is None else dict(env)
        for k in list(run_env):
            if k.startswith("AWS_"):
                del run_env[k]
        run_env.pop("PS1", None)
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=run_env, cwd=self.tmp, start_new_session=True)
        self.reader = reader = LineReader(self.proc.stdout)
        line = reader.next_line(startup_timeout)
        if not line:
            self.stop()
            raise AssertionError("ssmc-emulator did not print its ready line (cmd %s): %s" %
                                 (" ".join(cmd), tail(self.stderr_path)))
        info = json.loads(line)
        self.endpoint = info["endpoint"]
        self.port = int(info["port"])
        self.region = info.get("region", REGION)
        self.host = urllib.parse.urlsplit(self.endpoint).hostname

    def stderr_text(self):
        return tail(self.stderr_path, 20000)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        kill_process(self.proc, signal.SIGTERM, timeout=5)
        self.reader.close_when_done(self.proc.stdout)
        try:
            self._stderr.close()
        except OSError:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------- client env


class ClientEnv:
    """A clean environment for ssmc and the AWS CLI against one emulator."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.tmp = tempfile.mkdtemp(prefix="ssmc-e2e-client-")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(self.home)
        self.config_file = os.path.join(self.tmp, "aws-config")
        self.credentials_file = os.path.join(self.tmp, "aws-credentials")
        open(self.config_file, "w").close()
        open(self.credentials_file, "w").close()
        env = {}
        for k, v in os.environ.items():
            if k.startswith("AWS_") or k in ("PS1", "TMUX", "TMUX_PANE"):
                continue
            env[k] = v
        env.update({
            "HOME": self.home,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_CONFIG_FILE": self.config_file,
            "AWS_SHARED_CREDENTIALS_FILE": self.credentials_file,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_PAGER": "",
            "LANG": env.get("LANG", "C.UTF-8"),
        })
        self.env = env

    def ssmc_args(self, *args, endpoint=None):
        return [SSMC, "--region", REGION, "--endpoint-url", endpoint or self.emulator.endpoint] + list(args)

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_ssmc(client, args, timeout=60, stdin=subprocess.DEVNULL, input=None, endpoint=None, preexec_fn=None):
    """Runs ssmc to completion; returns CompletedProcess (bytes)."""
    cmd = client.ssmc_args(*args, endpoint=endpoint)
    kwargs = {}
    if input is not None:
        kwargs["input"] = input
    else:
        kwargs["stdin"] = stdin
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=client.env,
                              timeout=timeout, cwd=client.tmp, preexec_fn=preexec_fn, **kwargs)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("ssmc timed out after %ss: %s\nstdout: %r\nstderr: %s" %
                             (timeout, " ".join(cmd), (e.stdout or b"")[-2000:],
                              (e.stderr or b"")[-2000:].decode("utf-8", "replace")))


def describe(cp):
    """One-paragraph description of a CompletedProcess for assertion messages."""
    return "cmd: %s\nexit: %s\nstdout: %r\nstderr: %s" % (
        " ".join(cp.args) if isinstance(cp.args, list) else cp.args, cp.returncode, cp.stdout[-3000:],
        cp.stderr[-3000:].decode("utf-8", "replace"))


class Forwarder:
    """`ssmc forward TARGET -L ... --ready` running in the background."""

    def __init__(self, client, target, specs, extra=(), ready_timeout=30.0, global_args=()):
        self.tmp = tempfile.mkdtemp(prefix="ssmc-e2e-fwd-")
        self.stderr_path = os.path.join(self.tmp, "ssmc.stderr")
        self._stderr = open(self.stderr_path, "wb")
        args = list(global_args) + ["forward", target]
        for s in specs:
            args += ["-L", s]
        args += ["--ready"] + list(extra)
        self.cmd = client.ssmc_args(*args)
        self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._stderr, env=client.env, cwd=client.tmp)
        self.reader = LineReader(self.proc.stdout)
        self.ready = []
        deadline = time.monotonic() + ready_timeout
        while len(self.ready) < len(specs):
            line = self.reader.next_line(max(0.1, deadline - time.monotonic()))
            if line is None:
                self.stop()
                raise AssertionError("ssmc forward did not report ready for all %d forwards within %.0fs\n"
                                     "cmd: %s\nexit: %s\nstdout so far: %r\nstderr: %s" %
                                     (len(specs), ready_timeout, " ".join(self.cmd), self.proc.poll(),
                                      self.reader.all, tail(self.stderr_path)))
            line = line.strip()
            if not line:
                continue
            event = json.loads(line)
            if event.get("event") == "ready":
                self.ready.append(event)

    def stderr_text(self):
        return tail(self.stderr_path)

    def stop(self, sig=signal.SIGTERM):
        kill_process(self.proc, sig, timeout=10)
        self.reader.close_when_done(self.proc.stdout)
        try:
            self._stderr.close()
        except OSError:
            pass
        rc = self.proc.returncode
        shutil.rmtree(self.tmp, ignore_errors=True)
        return rc


# ---------------------------------------------------------------- TCP helpers


def free_port(family=socket.AF_INET, host="127.0.0.1"):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def ipv6_loopback_available():
    if not socket.has_ipv6:
        return False
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            s.bind(("::1", 0))
        finally:
            s.close()
        return True
    except OSError:
        return False


class EchoServer:
    """Threaded TCP echo server: echoes while reading; at EOF shuts down its write side."""

    def __init__(self, host="127.0.0.1", port=0):
        self.host = host
        self.listener = None
        self.accepted = 0
        self.lock = threading.Lock()
        self.conns = []
        self.stopped = threading.Event()
        self.port = port
        self.start()

    def start(self):
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((self.host, self.port))
        ls.listen(128)
        self.port = ls.getsockname()[1]
        self.listener = ls
        self.stopped.clear()
        threading.Thread(target=self._accept_loop, args=(ls,), daemon=True).start()

    def _accept_loop(self, ls):
        while not self.stopped.is_set():
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(120)
        try:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
            conn.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            conn.close()

    def stop_listening(self):
        """Closes the listener only (existing connections go on)."""
        self.stopped.set()
        if self.listener is not None:
            try:
                self.listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.listener.close()
            self.listener = None

    def stop(self):
        self.stop_listening()
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass
            self.conns = []


def connect(address, timeout=10.0):
    """address: (host, port) tuple or a unix socket path."""
    if isinstance(address, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        fam = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(address)
    except BaseException:
        s.close()
        raise
    return s


def echo_roundtrip_halfclose(address, payload, timeout=120.0):
    """Sends all of payload (on a thread), half-closes, reads to EOF. Returns the bytes read."""
    s = connect(address, timeout=timeout)
    s.settimeout(timeout)
    errors = []

    def sender():
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    chunks = []
    try:
        while True:
            d = s.recv(262144)
            if not d:
                break
            chunks.append(d)
    finally:
        t.join(timeout)
        s.close()
    if errors:
        raise errors[0]
    return b"".join(chunks)


def echo_roundtrip_exact(address, payload, timeout=120.0):
    """Sends payload (on a thread) and reads exactly len(payload) bytes back; no half-close."""
    s = connect(address, timeout=timeout)
    s.settimeout(timeout)
    errors = []

    def sender():
        try:
            s.sendall(payload)
        except OSError as e:
            errors.append(e)

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    got = bytearray()
    try:
        while len(got) < len(payload):
            d = s.recv(min(262144, len(payload) - len(got)))
            if not d:
                break
            got += d
    finally:
        t.join(timeout)
        s.close()
    if errors:
        raise errors[0]
    return bytes(got)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- tmux


class Tmux:
    """A private tmux server (unique -L socket name), one session, one pane."""

    def __init__(self, name_prefix="ssmc-e2e"):
        if shutil.which("tmux") is None:
            raise unittest.SkipTest("tmux is not installed")
        self.socket = "%s-%d-%s" % (name_prefix, os.getpid(), uuid.uuid4().hex[:8])
        self.tmp = tempfile.mkdtemp(prefix="ssmc-e2e-tmux-")
        self.conf = os.path.join(self.tmp, "tmux.conf")
        with open(self.conf, "w") as f:
            f.write("set -g status off\nset -g history-limit 5000\nset -g remain-on-exit on\n"
                    "set -sg escape-time 0\n")
        self.target = "e2e"
        self.started = False
        self.env = None

    def _tmux(self, *args, check=True, timeout=10):
        cp = subprocess.run(["tmux", "-L", self.socket, "-f", self.conf] + list(args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, timeout=timeout, env=self.env)
        if check and cp.returncode != 0:
            raise AssertionError("tmux %s failed: %s" % (" ".join(args), cp.stderr.decode("utf-8", "replace")))
        return cp.stdout.decode("utf-8", "replace")

    def start(self, command, env, width=100, height=30):
        """Starts `command` (a shell command line) in a detached session."""
        self.env = dict(env)
        self.env.pop("TMUX", None)
        self.env.setdefault("TERM", "xterm-256color")
        self._tmux("new-session", "-d", "-s", self.target, "-x", str(width), "-y", str(height), command)
        self.started = True

    def send(self, *keys):
        self._tmux("send-keys", "-t", self.target, *keys)

    def type(self, text, enter=True):
        self._tmux("send-keys", "-t", self.target, "-l", text)
        if enter:
            self._tmux("send-keys", "-t", self.target, "Enter")

    def capture(self):
        return self._tmux("capture-pane", "-p", "-J", "-t", self.target, "-S", "-2000")

    def pane_size(self):
        out = self._tmux("display-message", "-p", "-t", self.target, "#{pane_height} #{pane_width}")
        return out.strip()

    def pane_dead(self):
        return self._tmux("display-message", "-p", "-t", self.target, "#{pane_dead}").strip() == "1"

    def wait_for(self, pattern, timeout=15.0, after=0):
        """Polls the screen until `pattern` (regex) matches the text after offset `after`.
        Returns the match."""
        rx = re.compile(pattern, re.M)
        deadline = time.monotonic() + timeout
        text = ""
        while True:
            text = self.capture()
            m = rx.search(text, after)
            if m:
                return m
            if time.monotonic() >= deadline:
                raise AssertionError("timed out after %.1fs waiting for /%s/ on the tmux screen:\n%s" %
                                     (timeout, pattern, text[-3000:]))
            time.sleep(0.05)

    def resize(self, width, height):
        self._tmux("resize-window", "-t", self.target, "-x", str(width), "-y", str(height))

    def kill(self):
        if self.started:
            try:
                self._tmux("kill-server", check=False)
            except (subprocess.TimeoutExpired, OSError):
                pass
            self.started = False
        shutil.rmtree(self.tmp, ignore_errors=True)


def shell_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


NONBLOCK_CHECK = ("import fcntl, os; "
                  "print('STDIN-NONBLOCK=%d' % bool(fcntl.fcntl(0, fcntl.F_GETFL) & os.O_NONBLOCK))")


def write_env_script(path, env, command, report=False):
    """A /bin/sh script that exports exactly `env` and runs `command` (a list).
    With report, it then prints STDIN-NONBLOCK=0|1 (whether the terminal was left
    non-blocking) and CMD-RC=<exit status>; else it execs the command."""
    import sys
    with open(path, "w") as f:
        f.write("#!/bin/sh\n")
        for k, v in sorted(env.items()):
            if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k):
                continue
            f.write("export %s=%s\n" % (k, shell_quote(v)))
        line = " ".join(shell_quote(c) for c in command)
        if report:
            f.write("%s\nrc=$?\n%s -c %s\necho \"CMD-RC=$rc\"\n" % (
                line, shell_quote(sys.executable), shell_quote(NONBLOCK_CHECK)))
        else:
            f.write("exec %s\n" % line)
    os.chmod(path, 0o755)


# ---------------------------------------------------------------- SigV4


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sigv4_headers(method, url, body, service, headers, access_key=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY,
                  region=REGION, now=None):
    """Returns `headers` plus X-Amz-Date and Authorization (SigV4, header form)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    date = now.strftime("%Y%m%d")
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc
    out = dict(headers)
    out["Host"] = host
    out["X-Amz-Date"] = amz_date
    canon = {k.lower(): " ".join(str(v).strip().split()) for k, v in out.items()}
    signed = sorted(canon)
    canonical_headers = "".join("%s:%s\n" % (k, canon[k]) for k in signed)
    signed_headers = ";".join(signed)
    path = parts.path or "/"
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                     for k, v in sorted(pairs))
    body_bytes = body if isinstance(body, bytes) else body.encode("utf-8")
    canonical = "\n".join([method, path, query, canonical_headers, signed_headers,
                           hashlib.sha256(body_bytes).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (date, region, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + secret).encode(), date), region), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        access_key, scope, signed_headers, signature)
    return out


def api_call(endpoint, operation, payload, sign=True, secret=SECRET_ACCESS_KEY, access_key=ACCESS_KEY_ID,
             service="ssm", target_prefix="AmazonSSM", timeout=15):
    """POSTs a JSON 1.1 call; returns (status, parsed JSON body or raw text, headers)."""
    body = json.dumps(payload)
    headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "%s.%s" % (target_prefix, operation)}
    if sign:
        headers = sigv4_headers("POST", endpoint + "/", body, service, headers, access_key=access_key, secret=secret)
    parts = urllib.parse.urlsplit(endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        resp = conn.getresponse()
        raw = resp.read().decode("utf-8", "replace")
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw
        return resp.status, data, dict(resp.getheaders())
    finally:
        conn.close()


# ---------------------------------------------------------------- WebSocket


class WsClosed(Exception):
    pass


class WsClient:
    """Minimal RFC 6455 client: masked frames out, unfragmented-or-fragmented frames in."""

    def __init__(self, url, timeout=10.0, headers=None):
        parts = urllib.parse.urlsplit(url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
        self.sock.settimeout(timeout)
        try:
            self._upgrade(parts, headers)
        except BaseException:
            self.sock.close()
            raise

    def _upgrade(self, parts, headers):
        target = parts.path + ("?" + parts.query if parts.query else "")
        key = os.urandom(16)
        import base64
        key_b64 = base64.b64encode(key).decode()
        req = ["GET %s HTTP/1.1" % target, "Host: %s" % parts.netloc, "Upgrade: websocket",
               "Connection: Upgrade", "Sec-WebSocket-Key: %s" % key_b64, "Sec-WebSocket-Version: 13"]
        for k, v in (headers or {}).items():
            req.append("%s: %s" % (k, v))
        self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            d = self.sock.recv(4096)
            if not d:
                raise WsClosed("connection closed during the upgrade")
            head += d
        head, self.buf = head.split(b"\r\n\r\n", 1)
        status_line = head.split(b"\r\n")[0].decode()
        self.status = int(status_line.split()[1])
        if self.status != 101:
            raise WsClosed("upgrade refused: %s" % status_line)
        expect = base64.b64encode(hashlib.sha1((key_b64 + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode())
                                  .digest()).decode()
        if expect.encode() not in head:
            raise WsClosed("bad Sec-WebSocket-Accept")

    def send(self, data, binary=False, opcode=None):
        if isinstance(data, str):
            data = data.encode()
        op = opcode if opcode is not None else (0x2 if binary else 0x1)
        header = bytearray([0x80 | op])
        n = len(data)
        if n < 126:
            header.append(0x80 | n)
        elif n < 65536:
            header.append(0x80 | 126)
            header += struct.pack("!H", n)
        else:
            header.append(0x80 | 127)
            header += struct.pack("!Q", n)
        mask = os.urandom(4)
        header += mask
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.sock.sendall(bytes(header) + masked)

    def _read_exact(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise WsClosed("EOF")
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        """Returns (opcode, payload) of the next data message; answers pings; raises WsClosed."""
        message, first_op = b"", None
        while True:
            b0, b1 = self._read_exact(2)
            fin, op = b0 & 0x80, b0 & 0x0F
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read_exact(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read_exact(8))[0]
            if b1 & 0x80:
                mask = self._read_exact(4)
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(self._read_exact(n)))
            else:
                payload = self._read_exact(n)
            if op == 0x8:
                raise WsClosed("close frame %r" % payload[:2])
            if op == 0x9:
                self.send(payload, opcode=0xA)
                continue
            if op == 0xA:
                continue
            if first_op is None:
                first_op = op
            message += payload
            if fin:
                return first_op, message

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def agent_message_type(frame):
    """MessageType of a binary AgentMessage (02 §4): 4-byte header length, then 32 bytes of type."""
    if len(frame) < 36:
        return None
    return frame[4:36].decode("ascii", "replace").strip().strip("\x00")


def open_data_channel_json(token):
    return json.dumps({"MessageSchemaVersion": "1.0", "RequestId": str(uuid.uuid4()), "TokenValue": token,
                       "ClientId": str(uuid.uuid4()), "ClientVersion": "1.2.896.0"})
