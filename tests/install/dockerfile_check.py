#!/usr/bin/env python3
"""A Dockerfile checked without Docker (there is none on the test machines):
the rules of Docker's Dockerfile reference that a file can break on its own.

- Lines: parser directives only at the top; comments; a line ending in the
  escape character (\\) continues on the next, with comment lines inside a
  continuation dropped. Heredocs (<<EOF) are refused: not checked here.
- Each instruction is one Docker knows; the first (after ARGs) is FROM,
  whose image reference must be well formed.
- Exec form ([...]) must be a JSON array of strings; SHELL must use it.
- ENV and LABEL are KEY=value pairs (or ENV's old KEY value); COPY and ADD
  have a source and a destination after their --flags; EXPOSE takes ports.
- A shell-form RUN, CMD or ENTRYPOINT must pass `sh -n`.

Prints each instruction, one a line, as `KEYWORD ARGS` (ENV one line per
variable, `ENV KEY=value`; exec form as the JSON list), for the caller to
check the contents; problems go to stderr, one a line, and the exit status
is 1.

    dockerfile_check.py Dockerfile
"""
import json
import re
import shlex
import subprocess
import sys

KEYWORDS = {"ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
            "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
            "WORKDIR"}
SHELL_FORM = {"RUN", "CMD", "ENTRYPOINT"}
# name[:tag][@digest], the grammar of distribution/reference, lower-case path.
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REFERENCE = re.compile(
    rf"^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?{COMPONENT}(?:/{COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+:[0-9a-fA-F]{32,})?$")


def logical_lines(text, problems):
    """(line number, instruction text) after directives, comments and
    continuations."""
    out, buf, start, top = [], "", 0, True
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if top and re.match(r"^#\s*(syntax|escape|check)\s*=", stripped, re.I):
            if re.match(r"^#\s*escape\s*=", stripped, re.I):
                problems.append(f"{n}: an escape directive is not checked here")
            continue
        top = False
        if stripped.startswith("#") or (not stripped and not buf):
            continue
        if not buf:
            start = n
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        out.append((start, buf.strip()))
        buf = ""
    if buf:
        problems.append(f"{start}: the last instruction ends in a continuation")
    return out


def exec_form(args):
    try:
        value = json.loads(args)
    except json.JSONDecodeError as e:
        return None, f"exec form is not valid JSON ({e.msg})"
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        return None, "exec form must be a non-empty JSON array of strings"
    return value, None


def check(path):
    problems, out = [], []
    text = open(path, encoding="utf-8").read()
    seen_from = False
    for n, line in logical_lines(text, problems):
        word, _, args = line.partition(" ")
        keyword, args = word.upper(), args.strip()
        bad = lambda why: problems.append(f"{n}: {keyword}: {why}")
        if keyword not in KEYWORDS:
            problems.append(f"{n}: unknown instruction '{word}'")
            continue
        if "<<" in args and keyword in {"RUN", "COPY", "ADD"}:
            bad("heredocs are not checked here")
            continue
        if not args:
            bad("no arguments")
            continue
        if keyword != "ARG" and not seen_from and keyword != "FROM":
            bad("comes before the first FROM")
        if keyword == "FROM":
            seen_from = True
            words = [w for w in args.split() if not w.startswith("--platform=")]
            if len(words) not in (1, 3) or (len(words) == 3 and words[1].upper() != "AS"):
                bad("expected FROM image [AS name]")
            elif not REFERENCE.match(words[0]):
                bad(f"'{words[0]}' is not an image reference")
            out.append(f"FROM {words[0]}")
        elif args.startswith("[") and keyword in SHELL_FORM | {"SHELL", "COPY", "ADD", "VOLUME"}:
            value, why = exec_form(args)
            if why:
                bad(why)
                continue
            out.append(f"{keyword} {json.dumps(value)}")
        elif keyword == "SHELL":
            bad("SHELL takes the exec form only")
        elif keyword in SHELL_FORM:
            r = subprocess.run(["sh", "-n"], input=args, text=True, capture_output=True)
            if r.returncode != 0:
                bad(f"sh -n: {r.stderr.strip()}")
            out.append(f"{keyword} {args}")
        elif keyword in {"ENV", "LABEL"}:
            try:
                words = shlex.split(args)
            except ValueError as e:
                bad(str(e))
                continue
            if keyword == "ENV" and "=" not in words[0]:
                if len(words) < 2:
                    bad(f"'{words[0]}' has no value")
                    continue
                words = [f"{words[0]}={' '.join(words[1:])}"]  # the old ENV KEY value
            for w in words:
                key, eq, _ = w.partition("=")
                if not eq or not re.match(r"^[A-Za-z_][A-Za-z0-9_.-]*$", key):
                    bad(f"'{w}' is not KEY=value")
                out.append(f"{keyword} {w}")
        elif keyword in {"COPY", "ADD"}:
            words = args.split()
            flags = [w for w in words if w.startswith("--")]
            paths = words[len(flags):]
            if any(w.startswith("--") for w in paths):
                bad("flags must come first")
            for f in flags:
                if not re.match(r"^--(chown|chmod|from|link|parents|exclude|keep-git-dir|checksum)(=.+)?$", f):
                    bad(f"unknown flag {f}")
            if len(paths) < 2:
                bad("needs a source and a destination")
            out.append(f"{keyword} {' '.join(paths)}")
        elif keyword == "EXPOSE":
            for p in args.split():
                if not re.match(r"^[0-9]+(-[0-9]+)?(/(tcp|udp))?$", p):
                    bad(f"'{p}' is not a port")
            out.append(f"{keyword} {args}")
        else:
            out.append(f"{keyword} {args}")
    if not seen_from:
        problems.append("no FROM")
    for p in problems:
        print(f"{path}:{p}", file=sys.stderr)
    print("\n".join(out))
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: dockerfile_check.py Dockerfile")
    sys.exit(check(sys.argv[1]))
