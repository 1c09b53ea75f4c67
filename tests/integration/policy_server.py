#!/usr/bin/python3
"""
policy_server.py - a small Postfix-style SMTPD access policy server for
test_policy.py.

Run by the spawn service (master.cf argv=/usr/bin/python3 policy_server.py
LOGDIR [EXIT_STATUS]) it speaks the policy protocol on stdin/stdout: each
request is name=value lines ending with an empty line, the answer one
"action=..." line and an empty line. Every request is appended as one JSON
line to LOGDIR/requests.log together with the process id, user id and
environment variable names, so the tests can check what posthorn sent and
how the command was run. At end of input it exits with EXIT_STATUS.

test_policy.py also imports decide() for its inet policy server thread.
"""
import json
import os
import sys


def decide(attrs):
    sender = attrs.get("sender", "")
    if sender == "bad@example.com":
        return "REJECT Sender is bad"
    if sender == "defer@example.com":
        return "DEFER_IF_PERMIT Try again later"
    if sender == "prepend@example.com":
        return "PREPEND X-Policy: checked by policy_server"
    if sender == "code@example.com":
        return "550 5.7.0 Policy says no"
    if sender == "ok@example.com":
        return "OK"
    return "DUNNO"


def main():
    logdir = sys.argv[1] if len(sys.argv) > 1 else None
    exit_status = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    attrs = {}
    for raw in sys.stdin:
        line = raw.rstrip("\n")
        if line:
            name, _, value = line.partition("=")
            attrs[name] = value
            continue
        if logdir:
            with open(os.path.join(logdir, "requests.log"), "a") as f:
                f.write(json.dumps({"pid": os.getpid(), "uid": os.getuid(),
                                    "env": sorted(os.environ), "attrs": attrs}) + "\n")
        sys.stdout.write("action=%s\n\n" % decide(attrs))
        sys.stdout.flush()
        attrs = {}
    sys.exit(exit_status)


if __name__ == "__main__":
    main()
