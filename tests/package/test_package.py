#!/usr/bin/env python3
"""Package test (ctest label `package`): the installed ssmc, used from outside.

1. `cmake --install BUILD --prefix TMP/prefix`, then checks the installed tree
   file by file (nothing missing, nothing extra, links, no internal headers,
   no emulator/CLI code in libssmc.a) and runs the installed programs.
2. Builds tests/package/consumer/ (version_check.cpp and every
   SOURCE/examples/*.cpp) against that prefix twice: with CMake
   (find_package(ssmc CONFIG REQUIRED), ssmc::ssmc) and with a plain compiler
   command using `pkg-config --cflags --libs ssmc`. Each installed public
   header is also compiled on its own (self-contained headers).
3. Runs every program that has `// RUN:` lines, both builds, against the
   installed ssmc-emulator.

Conventions for a program (examples/NAME.cpp is one single-file program):

    // RUN: ARGS...     run it with these arguments (split like a shell, no
                        globbing); $ENDPOINT, $TARGET, $REGION, $ECHO_PORT and
                        $HTTP_PORT are replaced, $$ is a literal $. Several RUN
                        lines: several runs.
    // EXPECT: REGEX    stdout of every run must match (re.search, MULTILINE)
    // EXIT: N          expected exit status (default 0)
    // TIMEOUT: S       seconds per run (default 60)

A program without RUN lines is only built. The runs see the emulator's
credentials and endpoint in the environment (AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL, AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE=/dev/null) and ENDPOINT, TARGET, REGION, ECHO_PORT,
HTTP_PORT too. The emulator has one target, $TARGET = i-0123456789abcdef0
(Name tag `example`, so `name:example` works), runs with `--profile fast`, and
may only reach loopback; $ECHO_PORT is a TCP echo server on 127.0.0.1 and
$HTTP_PORT an HTTP/1.1 server there that answers every GET with 200 and the
body HTTP_BODY ("hello over a forwarded stream\n"), then closes.

Usage: test_package.py --build-dir B --source-dir S --version V [--cxx C]
       [--launcher ccache] [--keep]
"""

import argparse
import glob
import json
import os
import re
import shlex
import shutil
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time

ACCESS_KEY_ID = "AKIAEMULATOR00000000"
SECRET_ACCESS_KEY = "ssmc-emulator-secret-key"
REGION = "us-east-1"
TARGET = "i-0123456789abcdef0"
HTTP_BODY = b"hello over a forwarded stream\n"


class Failure(Exception):
    pass


def step(text):
    print("== " + text, flush=True)


def run(cmd, timeout=600, check=True, **kw):
    """Runs a command, echoing it; returns CompletedProcess with text stdout (stderr merged)."""
    print("$ " + " ".join(shlex.quote(c) for c in cmd), flush=True)
    cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        timeout=timeout, text=True, **kw)
    if check and cp.returncode != 0:
        raise Failure("exit status %d from %s:\n%s" % (cp.returncode, cmd[0], cp.stdout[-6000:]))
    return cp


def cache_value(build_dir, name):
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^%s:[A-Z]+=(.*)$" % re.escape(name), line)
            if m:
                return m.group(1)
    return None


# ------------------------------------------------------------------ 1. install


def expected_layout(dirs, source_dir):
    """Relative path -> 'file' | 'exe' | 'link:TARGET' for everything `cmake --install` must produce."""
    bindir, libdir, incdir, datadir, mandir, docdir = (
        dirs["BINDIR"], dirs["LIBDIR"], dirs["INCLUDEDIR"], dirs["DATADIR"], dirs["MANDIR"], dirs["DOCDIR"])
    want = {
        bindir + "/ssmc": "exe",
        bindir + "/ssmc-emulator": "exe",
        bindir + "/session-manager-plugin": "link:ssmc",
        libdir + "/libssmc.a": "file",
        libdir + "/cmake/ssmc/ssmcConfig.cmake": "file",
        libdir + "/cmake/ssmc/ssmcConfigVersion.cmake": "file",
        libdir + "/cmake/ssmc/ssmcTargets.cmake": "file",
        libdir + "/pkgconfig/ssmc.pc": "file",
        incdir + "/ssmc/version.hpp": "file",
        mandir + "/man1/ssmc.1": "file",
        mandir + "/man1/ssmc-emulator.1": "file",
        mandir + "/man1/session-manager-plugin.1": "link:ssmc.1",
        datadir + "/bash-completion/completions/ssmc": "file",
        datadir + "/bash-completion/completions/ssmc-emulator": "link:ssmc",
        datadir + "/zsh/vendor-completions/_ssmc": "file",
        docdir + "/README.md": "file",
        docdir + "/usage.md": "file",
        docdir + "/emulator.md": "file",
        docdir + "/library.md": "file",
    }
    for path in glob.glob(os.path.join(source_dir, "examples", "*.cpp")):
        want[docdir + "/examples/" + os.path.basename(path)] = "file"
    public = os.path.join(source_dir, "include")
    for path in glob.glob(os.path.join(public, "ssmc", "**", "*.hpp"), recursive=True):
        want[incdir + "/" + os.path.relpath(path, public)] = "file"
    return want


def check_layout(prefix, want):
    found = {}
    for root, dirnames, filenames in os.walk(prefix):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(root, d))]:
            path = os.path.join(root, name)
            found[os.path.relpath(path, prefix)] = path
    problems = []
    for rel, kind in sorted(want.items()):
        path = os.path.join(prefix, rel)
        if kind.startswith("link:"):
            if not os.path.islink(path):
                problems.append("%s: not a symlink" % rel)
            elif os.readlink(path) != kind[5:]:
                problems.append("%s -> %s, expected -> %s" % (rel, os.readlink(path), kind[5:]))
        elif not os.path.isfile(path) or os.path.islink(path):
            problems.append("%s: missing" % rel)
        elif kind == "exe" and not os.access(path, os.X_OK):
            problems.append("%s: not executable" % rel)
    extra = [rel for rel in found if rel not in want and not re.match(r".*/cmake/ssmc/ssmcTargets-[a-z]+\.cmake$", rel)]
    if extra:
        problems.append("unexpected files installed: " + ", ".join(sorted(extra)))
    if problems:
        raise Failure("installed tree:\n  " + "\n  ".join(problems))
    print("installed %d files as expected:" % len(found))
    for rel in sorted(found):
        print("  " + rel + (" -> " + os.readlink(found[rel]) if os.path.islink(found[rel]) else ""))


def check_archive(lib):
    members = run(["ar", "t", lib]).stdout.split()
    symbols = run(["nm", "-C", "--defined-only", lib], timeout=120).stdout
    for bad in ("main.cpp.o", "emulator.cpp.o", "agent.cpp.o", "recorder.cpp.o"):
        if bad in members:
            raise Failure("libssmc.a contains %s (emulator/CLI code)" % bad)
    if re.search(r"\bssmc::emulator::", symbols):
        raise Failure("libssmc.a defines ssmc::emulator symbols")
    if "ssmc::version_string()" not in symbols:
        raise Failure("libssmc.a does not define ssmc::version_string()")
    print("libssmc.a: %d objects, no emulator/CLI code" % len(members))


def check_programs(prefix, dirs, version):
    bindir = os.path.join(prefix, dirs["BINDIR"])
    client_version = run([os.path.join(bindir, "ssmc"), "--version"]).stdout.strip()
    plugin = os.path.join(bindir, "session-manager-plugin")
    if run([plugin, "--version"]).stdout.strip() != client_version:
        raise Failure("session-manager-plugin --version differs from ssmc --version (%s)" % client_version)
    out = run([plugin]).stdout
    if "The Session Manager plugin was installed successfully" not in out:
        raise Failure("session-manager-plugin without arguments printed: %r" % out)
    run([os.path.join(bindir, "ssmc-emulator"), "--help"])
    pc_dir = os.path.join(prefix, dirs["LIBDIR"], "pkgconfig")
    env = dict(os.environ, PKG_CONFIG_PATH=pc_dir)
    got = run(["pkg-config", "--modversion", "ssmc"], env=env).stdout.strip()
    if got != version:
        raise Failure("pkg-config --modversion ssmc = %s, expected %s" % (got, version))
    pcfiledir = run(["pkg-config", "--variable=pcfiledir", "ssmc"], env=env).stdout.strip()
    if os.path.realpath(pcfiledir) != os.path.realpath(pc_dir):
        raise Failure("pkg-config found ssmc.pc in %s, not in the test prefix" % pcfiledir)


# ------------------------------------------------------------------ 2. build


def programs(source_dir):
    consumer = os.path.join(source_dir, "tests", "package", "consumer")
    srcs = [os.path.join(consumer, "version_check.cpp"), os.path.join(consumer, "whole_archive.cpp")]
    srcs += sorted(glob.glob(os.path.join(source_dir, "examples", "*.cpp")))
    return srcs


def build_with_cmake(tmp, prefix, source_dir, cxx, launcher):
    build = os.path.join(tmp, "cmake-build")
    cmd = ["cmake", "-S", os.path.join(source_dir, "tests", "package", "consumer"), "-B", build, "-G", "Ninja",
           "-DCMAKE_PREFIX_PATH=" + prefix, "-DCMAKE_CXX_COMPILER=" + cxx,
           "-DSSMC_EXAMPLES_DIR=" + os.path.join(source_dir, "examples")]
    if launcher:
        cmd.append("-DCMAKE_CXX_COMPILER_LAUNCHER=" + launcher)
    run(cmd)
    found = cache_value(build, "ssmc_DIR")
    if not found or not os.path.realpath(found).startswith(os.path.realpath(prefix) + os.sep):
        raise Failure("find_package(ssmc) used %s, not the test prefix" % found)
    run(["cmake", "--build", build, "-j2"], timeout=1800)
    return {os.path.splitext(os.path.basename(s))[0]: os.path.join(build, os.path.splitext(os.path.basename(s))[0])
            for s in programs(source_dir)}


def build_with_pkg_config(tmp, prefix, dirs, source_dir, cxx, launcher):
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, dirs["LIBDIR"], "pkgconfig"))
    flags = shlex.split(run(["pkg-config", "--cflags", "--libs", "ssmc"], env=env).stdout)
    cflags = shlex.split(run(["pkg-config", "--cflags", "ssmc"], env=env).stdout)
    print("pkg-config --cflags --libs ssmc: " + " ".join(flags))
    out_dir = os.path.join(tmp, "pkg-config-build")
    os.makedirs(out_dir)
    compiler = ([launcher] if launcher else []) + [cxx, "-std=c++20", "-Wall", "-Wextra", "-Wpedantic", "-Werror"]
    # Each public header compiles on its own.
    inc = os.path.join(prefix, dirs["INCLUDEDIR"])
    for header in sorted(glob.glob(os.path.join(inc, "ssmc", "**", "*.hpp"), recursive=True)):
        rel = os.path.relpath(header, inc)
        tu = os.path.join(out_dir, "header_" + re.sub(r"\W", "_", rel) + ".cpp")
        with open(tu, "w") as f:
            f.write("#include <%s>\n#include <%s>  // twice: include guards\n" % (rel, rel))
        run(compiler + ["-fsyntax-only", tu] + cflags, timeout=600)
    built = {}
    for src in programs(source_dir):
        name = os.path.splitext(os.path.basename(src))[0]
        exe = os.path.join(out_dir, name)
        link = flags
        if name == "whole_archive":  # every object of libssmc.a, so every dependency is needed
            link = [f for lib in flags for f in (["-Wl,--whole-archive", lib, "-Wl,--no-whole-archive"]
                                                  if lib == "-lssmc" else [lib])]
        run(compiler + [src, "-o", exe] + link, timeout=1200)
        built[name] = exe
    return built


# ------------------------------------------------------------------ 3. run


def run_specs(src):
    runs, expects, exit_code, timeout = [], [], 0, 60.0
    with open(src, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*//\s*(RUN|EXPECT|EXIT|TIMEOUT):\s?(.*?)\s*$", line)
            if not m:
                continue
            key, value = m.groups()
            if key == "RUN":
                runs.append(value)
            elif key == "EXPECT":
                expects.append(value)
            elif key == "EXIT":
                exit_code = int(value)
            else:
                timeout = float(value)
    return runs, expects, exit_code, timeout


class EchoServer:
    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        self._echo(conn)

    @staticmethod
    def _echo(conn):
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                conn.sendall(data)

    def stop(self):
        self.sock.close()


class HttpServer(EchoServer):
    """Answers each request (read up to the blank line) with 200 and HTTP_BODY, then closes: HTTP/1.1 with
    Content-Length and Connection: close. Anything but GET gets 405."""

    def _serve(self, conn):
        with conn:
            head = b""
            try:
                conn.settimeout(30)
                while b"\r\n\r\n" not in head and len(head) < 65536:
                    data = conn.recv(65536)
                    if not data:
                        return
                    head += data
                status, body = ("200 OK", HTTP_BODY) if head.startswith(b"GET ") else ("405 Method Not Allowed", b"")
                conn.sendall(b"HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n%s" % (status.encode(), len(body), body))
            except OSError:
                return


class Emulator:
    def __init__(self, binary, tmp):
        self.log_path = os.path.join(tmp, "emulator.log")
        self.log = open(self.log_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        self.proc = subprocess.Popen(
            [binary, "--ready-json", "--profile", "fast", "--log-level", "warn", "--target", TARGET + ",name=example"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=self.log, env=env, cwd=tmp,
            start_new_session=True)
        line = self.proc.stdout.readline()
        if not line:
            self.stop()
            raise Failure("the installed ssmc-emulator did not start:\n" + self.log_text())
        self.endpoint = json.loads(line)["endpoint"]

    def log_text(self):
        with open(self.log_path, "rb") as f:
            return f.read()[-4000:].decode("utf-8", "replace")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


def run_programs(builds, sources, prefix, dirs, tmp):
    specs = {os.path.splitext(os.path.basename(s))[0]: run_specs(s) for s in sources}
    if not any(runs for runs, _, _, _ in specs.values()):
        print("no program has RUN lines")
        return
    echo = EchoServer()
    http = HttpServer()
    emulator = Emulator(os.path.join(prefix, dirs["BINDIR"], "ssmc-emulator"), tmp)
    home = os.path.join(tmp, "home")
    os.makedirs(home, exist_ok=True)
    values = {"ENDPOINT": emulator.endpoint, "TARGET": TARGET, "REGION": REGION, "ECHO_PORT": str(echo.port),
              "HTTP_PORT": str(http.port)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(values)
    env.update({"HOME": home, "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": emulator.endpoint,
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                "AWS_EC2_METADATA_DISABLED": "true"})
    try:
        for how, built in builds:
            for name, (runs, expects, exit_code, timeout) in sorted(specs.items()):
                for line in runs:
                    args = [string.Template(a).substitute(values) for a in shlex.split(line)]
                    cmd = [built[name]] + args
                    started = time.monotonic()
                    try:
                        cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, env=env, cwd=tmp, timeout=timeout, text=True,
                                            errors="replace")
                    except subprocess.TimeoutExpired as e:
                        raise Failure("%s (%s build) %s: no exit within %gs; stdout: %s\nemulator log:\n%s" % (
                            name, how, line, timeout, e.stdout, emulator.log_text()))
                    took = time.monotonic() - started
                    problems = []
                    if cp.returncode != exit_code:
                        problems.append("exit status %d, expected %d" % (cp.returncode, exit_code))
                    problems += ["stdout does not match /%s/" % rx for rx in expects
                                 if not re.search(rx, cp.stdout, re.MULTILINE)]
                    if problems:
                        raise Failure("%s (%s build) %s: %s\n--- stdout:\n%s\n--- stderr:\n%s\n--- emulator log:\n%s"
                                      % (name, how, line, "; ".join(problems), cp.stdout[-4000:],
                                         cp.stderr[-4000:], emulator.log_text()))
                    print("ok  %-24s %-10s %-40s %.1fs" % (name, how, line[:40], took), flush=True)
    finally:
        emulator.stop()
        echo.stop()
        http.stop()


# ------------------------------------------------------------------ main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    ap.add_argument("--version", required=True, help="the project version (CMake PROJECT_VERSION)")
    ap.add_argument("--cxx", default="c++")
    ap.add_argument("--launcher", default="", help="compiler launcher, e.g. ccache")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = ap.parse_args()
    if args.launcher and not shutil.which(args.launcher):
        args.launcher = ""
    dirs = {d: cache_value(args.build_dir, "CMAKE_INSTALL_" + d) or default for d, default in (
        ("BINDIR", "bin"), ("LIBDIR", "lib"), ("INCLUDEDIR", "include"), ("DATADIR", "share"),
        ("MANDIR", "share/man"), ("DOCDIR", "share/doc/ssmc"))}
    dirs = {d: v.replace("${datarootdir}", "share").replace("${PROJECT_NAME}", "ssmc") for d, v in dirs.items()}
    tmp = tempfile.mkdtemp(prefix="ssmc-package-test-")
    prefix = os.path.join(tmp, "prefix")
    ok = False
    try:
        step("cmake --install into %s" % prefix)
        run(["cmake", "--install", args.build_dir, "--prefix", prefix])
        check_layout(prefix, expected_layout(dirs, args.source_dir))
        check_archive(os.path.join(prefix, dirs["LIBDIR"], "libssmc.a"))
        check_programs(prefix, dirs, args.version)

        step("consumer: find_package(ssmc CONFIG REQUIRED) + ssmc::ssmc")
        cmake_built = build_with_cmake(tmp, prefix, args.source_dir, args.cxx, args.launcher)
        step("consumer: pkg-config --cflags --libs ssmc")
        pc_built = build_with_pkg_config(tmp, prefix, dirs, args.source_dir, args.cxx, args.launcher)

        step("run the programs against the installed ssmc-emulator")
        run_programs([("cmake", cmake_built), ("pkg-config", pc_built)], programs(args.source_dir), prefix, dirs, tmp)
        ok = True
    except (Failure, subprocess.TimeoutExpired) as e:
        print("FAIL: %s" % e, flush=True)
    finally:
        if args.keep:
            print("temporary files kept in %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print("package test: %s" % ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
