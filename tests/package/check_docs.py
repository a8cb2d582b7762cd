#!/usr/bin/env python3
"""Keeps the man pages and shell completions honest (ctest label `package`).

Reads the options and commands from the programs' own --help
(`ssmc --help`, `ssmc COMMAND --help`, `ssmc-emulator --help`) and checks:
  * every option and command appears in the man page (docs/man/*.1.in);
  * every option and command appears in the bash and the zsh completion, and
    the completions offer no option the programs do not have;
  * the bash completion answers a few typical requests;
  * the man pages render (man -l) and the zsh script parses (zsh -n), when
    man / zsh are installed.

Usage: check_docs.py --bin-dir BUILD --source-dir SOURCE
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

OPTION_LINE = re.compile(r"^\s+(-{1,2}[A-Za-z][\w-]*(?:,-{1,2}[A-Za-z][\w-]*)*)")


def help_text(cmd):
    cp = subprocess.run(cmd + ["--help"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                        text=True, timeout=30)
    if cp.returncode != 0:
        raise SystemExit("%s --help: exit status %d\n%s" % (" ".join(cmd), cp.returncode, cp.stdout))
    return cp.stdout


def options_of(text):
    opts = set()
    for line in text.splitlines():
        m = OPTION_LINE.match(line)
        if m:
            opts.update(m.group(1).split(","))
    return opts


def subcommands_of(text):
    subs, inside = [], False
    for line in text.splitlines():
        if line.startswith("Subcommands:"):
            inside = True
        elif inside:
            m = re.match(r"^\s+([a-z][\w-]*)\s", line)
            if not m:
                break
            subs.append(m.group(1))
    return subs


def roff_plain(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    text = re.sub(r"\\f[BIRP]|\\&|\\c", "", text)
    return text.replace("\\-", "-").replace("\\(dq", '"')


def mentions(text, word):
    return re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(word), text) is not None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    ssmc = os.path.join(args.bin_dir, "ssmc")
    emulator = os.path.join(args.bin_dir, "ssmc-emulator")
    src = args.source_dir
    bash_file = os.path.join(src, "packaging", "completion", "ssmc.bash")
    zsh_file = os.path.join(src, "packaging", "completion", "_ssmc")
    problems = []

    top = help_text([ssmc])
    commands = subcommands_of(top)
    if not commands:
        raise SystemExit("no subcommands found in `ssmc --help`:\n" + top)
    commands.append("plugin")  # dispatched before CLI11 (as session-manager-plugin); not in --help
    ssmc_opts = options_of(top)
    for c in commands[:-1]:
        ssmc_opts |= options_of(help_text([ssmc, c]))
    emu_opts = options_of(help_text([emulator]))
    print("ssmc: commands %s; %d options; ssmc-emulator: %d options" % (" ".join(commands), len(ssmc_opts),
                                                                        len(emu_opts)))

    pages = {"ssmc": roff_plain(os.path.join(src, "docs", "man", "ssmc.1.in")),
             "ssmc-emulator": roff_plain(os.path.join(src, "docs", "man", "ssmc-emulator.1.in"))}
    with open(bash_file) as f:
        bash = f.read()
    with open(zsh_file) as f:
        zsh = f.read()

    for prog, opts, words in (("ssmc", ssmc_opts, commands), ("ssmc-emulator", emu_opts, [])):
        for w in sorted(opts) + words:
            if not mentions(pages[prog], w):
                problems.append("man page %s.1 does not mention %s" % (prog, w))
            for name, text in (("bash", bash), ("zsh", zsh)):
                if not mentions(text, w):
                    problems.append("%s completion does not offer %s %s" % (name, prog, w))
    known = ssmc_opts | emu_opts
    for name, text in (("bash", bash), ("zsh", zsh)):
        for opt in sorted(set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", text))):
            if opt not in known:
                problems.append("%s completion offers %s, which neither program has" % (name, opt))

    # The bash completion in action (without bash-completion loaded).
    cases = [
        ("_ssmc", ["ssmc", ""], set(commands)),
        ("_ssmc", ["ssmc", "--re"], {"--region", "--reconnect-budget"}),
        ("_ssmc", ["ssmc", "-q", "forward", "i-1", "-"], {"-L", "--ready", "-h", "--help"}),
        ("_ssmc", ["ssmc", "exec", "i-1", "--", "ls", "-"], set()),
        ("_ssmc", ["ssmc", "--profile", ""], {"default", "prod"}),
        ("_ssmc_emulator", ["ssmc-emulator", "--log-level", "w"], {"warn"}),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        config = os.path.join(tmp, "config")
        with open(config, "w") as f:
            f.write("[default]\nregion = us-east-1\n[profile prod]\n")
        for func, words, want in cases:
            script = 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); %s; printf "%%s\\n" "${COMPREPLY[@]}"' % func
            cp = subprocess.run(["bash", "--norc", "-c", script, "bash", bash_file] + words, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, timeout=30,
                                env=dict(os.environ, AWS_CONFIG_FILE=config, AWS_SHARED_CREDENTIALS_FILE="/dev/null"))
            got = set(line for line in cp.stdout.splitlines() if line)
            if cp.returncode != 0 or got != want:
                problems.append("bash completion of %r: got %s, expected %s" % (words, sorted(got), sorted(want)))

    if shutil.which("zsh"):
        cp = subprocess.run(["zsh", "-n", zsh_file], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if cp.returncode != 0:
            problems.append("zsh -n %s: %s" % (zsh_file, cp.stdout))
    if shutil.which("man"):
        for page in ("ssmc", "ssmc-emulator"):
            with tempfile.NamedTemporaryFile("w", suffix=".1") as f:
                with open(os.path.join(src, "docs", "man", page + ".1.in")) as t:
                    f.write(t.read().replace("@PROJECT_VERSION@", "0"))
                f.flush()
                cp = subprocess.run(["man", "-l", f.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                    env=dict(os.environ, MANPAGER="cat", PAGER="cat", MANWIDTH="80"), timeout=60)
                errors = [l for l in cp.stderr.splitlines() if "can't break line" not in l and "cannot adjust" not in l]
                if cp.returncode != 0 or errors or "SYNOPSIS" not in cp.stdout:
                    problems.append("man -l %s.1: status %d %s" % (page, cp.returncode, "; ".join(errors)))

    for p in problems:
        print("FAIL: " + p)
    print("docs check: %s" % ("ok" if not problems else "%d problem(s)" % len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
