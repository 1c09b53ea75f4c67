#!/bin/sh
# posttls-finger.sh - Postfix's TLS probe against posthorn and against
# Postfix: the same posttls-finger(1) runs (Debian's postfix package) on
# a posthorn instance and on a Postfix 3.7 instance with the same
# certificate and the same smtpd_tls_* settings, outputs compared.
#
# Not part of `make check` (it needs the postfix package; it installs
# nothing: posthorn goes into a temporary DESTDIR, Postfix runs from a
# private config directory). Run as root from the top of the tree, after
# `make`:  tests/posttls-finger.sh
#
# Both servers: STARTTLS at level may, smtpd_tls_ask_ccert = yes with a
# throw-away CA in smtpd_tls_CAfile, smtpd_tls_loglevel = 2. The probes:
#   may          opportunistic, no certificate checks
#   secure       -F the server certificate as CA file, match the host name
#   fingerprint  -d sha256 with the server certificate's fingerprint
#   fingerprint  with a wrong fingerprint (must fail the same way)
#   client cert  -k/-K a certificate the CA signed (server logs "Trusted")
#                and a self-signed one ("Untrusted")
# Each probe's output is normalised (ports, host names in the banner,
# session ids, times) and the two are diffed; the servers' "TLS
# connection established", "subject_CN=..." and certificate verification
# lines are compared too. Prints everything;
# exits 0 when the normalised outputs are the same, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
. tests/postfix_side.sh
need_postfix /usr/sbin/posttls-finger /usr/sbin/postfix /usr/lib/postfix/sbin/master
install_root ptf
POSTHORN_ROOT=$root python3 - <<'EOF'
import difflib, os, re, shutil, subprocess, sys, tempfile, time
sys.path.insert(0, "tests/integration")
import posthorn
from posthorn import Instance, wait_for, port_open
from test_tls_ccert import ClientCerts, fingerprint

posthorn.ROOT = os.environ["POSTHORN_ROOT"]
posthorn.ensure_system_accounts()

HOST = "mail.example.test"


def server_params(certs):
    return {"smtpd_tls_cert_file": certs.rsa_cert, "smtpd_tls_key_file": certs.rsa_key,
            "smtpd_tls_security_level": "may", "smtpd_tls_ask_ccert": "yes",
            "smtpd_tls_CAfile": certs.ca_cert, "smtpd_tls_loglevel": "2",
            "smtpd_tls_received_header": "yes", "smtputf8_enable": "no"}


class PostfixServer:
    """A Postfix 3.7 smtpd with the same TLS settings, in a private config."""

    def __init__(self, certs):
        self.dir = tempfile.mkdtemp(prefix="posthorn-ptf-pf-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.etc = os.path.join(self.dir, "etc")
        os.makedirs(self.etc)
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "spool"))
        shutil.chown(os.path.join(self.dir, "data"), "postfix")
        self.port = posthorn.free_port()
        self.maillog = os.path.join(self.dir, "maillog")
        with open("/usr/share/postfix/master.cf.dist") as f:
            master = f.read()
        master = re.sub(r"(?m)^([a-z].*?\s+(unix|inet|fifo|pass|unix-dgram)\s+\S+\s+\S+\s+)[y-]",
                        r"\1n", master)
        master = re.sub(r"(?m)^smtp(\s+)inet", r"127.0.0.1:%d\1inet" % self.port, master)
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(master)
        main = {"compatibility_level": "3.6", "queue_directory": os.path.join(self.dir, "spool"),
                "data_directory": os.path.join(self.dir, "data"), "myhostname": HOST,
                "mydestination": "", "inet_interfaces": "127.0.0.1", "inet_protocols": "ipv4",
                "maillog_file": self.maillog, "maillog_file_prefixes": "/tmp",
                "alias_maps": "", "alias_database": "",
                "smtpd_peername_lookup": "no"}
        main.update(server_params(certs))
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            for k, v in main.items():
                f.write("%s = %s\n" % (k, v))

    def start(self):
        p = subprocess.run(["/usr/sbin/postfix", "-c", self.etc, "start"], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise SystemExit("Postfix did not start: " + p.stdout + p.stderr)
        wait_for(lambda: port_open(self.port), 20, "Postfix on port %d" % self.port)

    def log(self):
        return open(self.maillog, errors="replace").read() if os.path.exists(self.maillog) else ""

    def stop(self):
        subprocess.run(["/usr/sbin/postfix", "-c", self.etc, "stop"], capture_output=True)
        time.sleep(1)
        shutil.rmtree(self.dir, ignore_errors=True)


def finger(port, opts, match, etc):
    """posttls-finger with the Postfix instance's main.cf (MAIL_CONFIG)."""
    p = subprocess.run(["posttls-finger", "-t", "10", "-T", "10"] + opts
                       + ["[127.0.0.1]:%d" % port] + match,
                       capture_output=True, text=True, errors="replace", timeout=60,
                       env=dict(os.environ, MAIL_CONFIG=etc))
    if "fatal:" in p.stdout + p.stderr:
        raise SystemExit("posttls-finger failed: " + p.stdout + p.stderr)
    return p.stdout + p.stderr


def normalise(text, port):
    out = []
    for line in text.splitlines():
        line = line.replace(":%d" % port, ":PORT")
        line = re.sub(r"^posttls-finger: ", "", line)
        line = re.sub(r"< 220 \S+ ESMTP .*", "< 220 HOST ESMTP NAME", line)
        line = re.sub(r"(session|Session) (ID|id)[:=]\s*\S+", r"\1 \2 X", line)
        line = re.sub(r"\b\d+\.\d+\b (seconds|s)\b", "N", line)
        out.append(line)
    return out


def established(log):
    return [re.sub(r".*postfix/smtpd\[\d+\]: ", "", l) for l in log.splitlines()
            if re.search(r"TLS connection established from|subject_CN=|certificate|verif", l)]


def compare(theirs, ours, what):
    """Print ours and the differences from theirs; True when the same."""
    print("-- %s:" % what)
    print("\n".join("   " + l for l in ours))
    diff = list(difflib.unified_diff(theirs, ours, "Postfix", "posthorn", lineterm="", n=0))
    if diff:
        print("-- differences (- Postfix, + posthorn):")
        print("\n".join("   " + l for l in diff))
    else:
        print("-- the same from Postfix")
    return not diff


same = True
with ClientCerts() as certs:
    fp = fingerprint(certs.rsa_cert)
    wrong = fingerprint(certs.ec_cert)
    probes = [          # (name, options, match arguments)
        ("may", ["-l", "may", "-c"], []),
        ("secure", ["-l", "secure", "-F", certs.rsa_cert, "-c"], [HOST]),
        ("fingerprint", ["-l", "fingerprint", "-d", "sha256", "-c"], [fp]),
        ("fingerprint, wrong", ["-l", "fingerprint", "-d", "sha256", "-c"], [wrong]),
        ("client certificate", ["-l", "may", "-k", certs.client_cert, "-K", certs.client_key,
                                "-c"], []),
        ("untrusted client certificate", ["-l", "may", "-k", certs.rogue_cert,
                                          "-K", certs.rogue_key, "-c"], []),
        ("SMTP chat", ["-l", "may"], []),
    ]
    pf = PostfixServer(certs)
    with Instance("ptf", main=server_params(certs)) as inst:
        inst.start()
        pf.start()
        try:
            for name, opts, match in probes:
                ours = normalise(finger(inst.port, opts, match, pf.etc), inst.port)
                theirs = normalise(finger(pf.port, opts, match, pf.etc), pf.port)
                print("== %s: posttls-finger %s [127.0.0.1]:PORT %s"
                      % (name, " ".join(opts), " ".join(match)))
                same &= compare(theirs, ours, "against posthorn")
            time.sleep(1)
            print("== the servers' log lines")
            same &= compare(established(pf.log()), established(inst.log()), "posthorn's")
        finally:
            pf.stop()
print("== result: %s" % ("same" if same else "DIFFERENT"))
sys.exit(0 if same else 1)
EOF
