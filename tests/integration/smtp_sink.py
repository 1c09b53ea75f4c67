"""
smtp_sink.py - the one SMTP/LMTP server the integration tests talk to:
it records every transaction (and every connection's commands) and
answers as each test asks (rcpt_reply, dot_replies, greeting, EHLO
keywords).

    with SmtpSink() as srv:                      # 127.0.0.1, a free port
        ... relayhost = [127.0.0.1]:srv.port ...
        t = srv.wait()                           # the first transaction
"""
import base64
import re
import socket
import socketserver
import threading

from posthorn import wait_for


def _address(cmd):
    """The address between < and > in a MAIL or RCPT command ("" if none)."""
    m = re.search(r"<([^>]*)>", cmd)
    return m.group(1) if m else ""


class _Server(socketserver.ThreadingTCPServer):
    """Threads per connection; the address can be bound again at once."""
    allow_reuse_address = True
    daemon_threads = True


class SmtpSink:
    """A small SMTP/LMTP server that records every transaction.

    rcpt_reply(addr) -> reply line for RCPT TO; dot_replies(rcpts) -> the
    reply lines after the final dot (one for SMTP, one per recipient for
    LMTP); on_message(t), when given, instead answers the final dot of
    transaction t (a content filter re-injects there). Transactions are
    dicts: helo, mail (the command line), sender (its address), rcpts (the
    RCPT command lines), accepted (the addresses answered 2xx), data (raw
    bytes as received, dot-stuffed, CRLF) and body (un-stuffed). conns has
    one list per connection: the command verbs received, then "<closed>"
    when the session ended; lines has every command line received, over
    all connections; xforward in a transaction has the XFORWARD command
    lines since the last one (accepted with 250 when the EHLO keywords
    include XFORWARD). drop_connections() cuts every open session (as a
    server restart would).

    TLS (optional): tls is a server-side ssl.SSLContext; STARTTLS is then
    offered in the EHLO reply (RFC 3207: the session starts over after
    it), or with wrapper=True every connection starts with the handshake
    (SMTPS). Transactions then have "tls": the protocol version ("TLSv1.3")
    or None, and "tls_reused": whether the client resumed an earlier TLS
    session (the sink's one SSLContext issues and accepts the tickets).

    AUTH (optional): auth lists the mechanisms to offer ("PLAIN", "LOGIN");
    auth_tls_only offers them only inside TLS. Every attempt is recorded in
    auths as a dict: mech, user, password, tls (the version or None), ok;
    it succeeds (235) when users is None or maps user to that password.
    """

    def __init__(self, host="127.0.0.1", port=0, lmtp=False, greeting="220 sink.test ESMTP",
                 ehlo=("sink.test", "PIPELINING", "SIZE 10240000", "8BITMIME", "DSN"),
                 rcpt_reply=None, dot_replies=None, on_message=None, tls=None, wrapper=False,
                 auth=(), auth_tls_only=False, users=None):
        self.lmtp = lmtp
        self.auth = auth
        self.auth_tls_only = auth_tls_only
        self.users = users
        self.auths = []
        self.tls = tls
        self.wrapper = wrapper
        self.greeting = greeting
        self.ehlo = ehlo
        self.rcpt_reply = rcpt_reply or (lambda a: "250 2.1.5 Ok")
        self.dot_replies = dot_replies or (
            lambda rcpts: ["250 2.0.0 <%s> Saved" % r for r in rcpts] if lmtp
            else ["250 2.0.0 Ok: queued as SINK1"])
        self.on_message = on_message
        self.transactions = []
        self.lines = []
        self.conns = []
        self.socks = []
        self.lock = threading.Lock()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                cmds = []
                with outer.lock:
                    outer.socks.append(self.connection)
                    outer.conns.append(cmds)
                try:
                    if outer.wrapper:
                        conn = outer.tls.wrap_socket(self.connection, server_side=True)
                        outer.session(conn.makefile("rb"), conn.makefile("wb"), cmds, conn)
                    else:
                        outer.session(self.rfile, self.wfile, cmds, self.connection)
                except (OSError, ValueError):
                    pass                # a failed handshake, a dropped client
                finally:
                    with outer.lock:
                        cmds.append("<closed>")

        self.server = _Server((host, port), Handler)
        # A listening socket that never blocks: accept() after a spurious
        # readiness (a client gone again) must not hang serve_forever, or
        # close() (server.shutdown) waits for it for ever. Accepted sockets
        # are blocking again (Python's accept, no default timeout).
        self.server.socket.setblocking(False)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()
        return False

    def drop_connections(self):
        """Close every open connection (as a server restart would)."""
        with self.lock:
            for s in self.socks:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def messages(self):
        """The number of DATA commands received, over all connections."""
        with self.lock:
            return sum(c.count("DATA") for c in self.conns)

    def session(self, rfile, wfile, cmds, conn=None):
        def send(*lines):
            wfile.write(b"".join(l.encode() + b"\r\n" for l in lines))
            wfile.flush()

        send(self.greeting)
        if not self.greeting.startswith("2"):
            return
        t = None
        xforward = []
        tls = conn.version() if self.wrapper else None
        while True:
            line = rfile.readline(65536)
            if not line:
                return
            cmd = line.rstrip(b"\r\n").decode("utf-8", "replace")
            verb = cmd[:4].upper()
            with self.lock:
                cmds.append(verb)
                self.lines.append(cmd)
            if verb in ("EHLO", "LHLO"):
                ehlo = list(self.ehlo)
                if self.tls and not tls:
                    ehlo.insert(1, "STARTTLS")
                if self.auth and (tls or not self.auth_tls_only):
                    ehlo.insert(1, "AUTH " + " ".join(self.auth))
                send(*["250-" + k for k in ehlo[:-1]] + ["250 " + ehlo[-1]])
                helo = cmd
            elif verb == "STAR" and self.tls and not tls:
                send("220 2.0.0 Ready to start TLS")
                conn = self.tls.wrap_socket(conn, server_side=True)
                rfile, wfile = conn.makefile("rb"), conn.makefile("wb")
                tls, t, helo, xforward = conn.version(), None, None, []
            elif verb == "HELO":
                send("250 sink.test")
                helo = cmd
            elif verb == "AUTH" and self.auth and (tls or not self.auth_tls_only):
                self._auth(cmd, rfile, send, tls)
            elif verb == "XFOR" and any(k.startswith("XFORWARD") for k in self.ehlo):
                xforward.append(cmd)
                send("250 2.0.0 Ok")
            elif verb == "MAIL":
                t = {"helo": helo, "mail": cmd, "sender": _address(cmd),
                     "rcpts": [], "accepted": [], "xforward": xforward, "tls": tls,
                     "tls_reused": bool(tls) and conn.session_reused}
                xforward = []
                send("250 2.1.0 Ok")
            elif verb == "RCPT":
                addr = _address(cmd)
                t["rcpts"].append(cmd)
                reply = self.rcpt_reply(addr)
                if reply.startswith("2"):
                    t["accepted"].append(addr)
                send(reply)
            elif verb == "DATA":
                if not t or not t["accepted"]:
                    send("554 5.5.1 Error: no valid recipients")
                    continue
                send("354 End data with <CR><LF>.<CR><LF>")
                raw = b""
                while True:
                    l = rfile.readline(1 << 20)
                    if not l:
                        return
                    if l == b".\r\n":
                        break
                    raw += l
                t["data"] = raw
                t["body"] = b"".join(l[1:] if l.startswith(b".") else l
                                     for l in raw.splitlines(keepends=True))
                with self.lock:
                    self.transactions.append(t)
                if self.on_message:
                    send(*self.on_message(t))
                else:
                    send(*self.dot_replies(t["accepted"]))
            elif verb == "RSET":
                t = None
                send("250 2.0.0 Ok")
            elif verb == "QUIT":
                send("221 2.0.0 Bye")
                return
            else:
                send("502 5.5.2 Error: command not recognized")

    def _auth(self, cmd, rfile, send, tls):
        """One AUTH PLAIN or LOGIN exchange (RFC 4616, draft-murchison-sasl-login)."""
        words = cmd.split()
        mech = words[1].upper() if len(words) > 1 else ""

        def ask(prompt):
            send("334 " + prompt)
            return rfile.readline(65536).rstrip(b"\r\n")

        try:
            if mech == "PLAIN":
                raw = base64.b64decode(words[2] if len(words) > 2 else ask(""))
                _, user, password = raw.split(b"\0", 2)
            elif mech == "LOGIN":
                user = base64.b64decode(words[2] if len(words) > 2
                                        else ask(base64.b64encode(b"Username:").decode()))
                password = base64.b64decode(ask(base64.b64encode(b"Password:").decode()))
            else:
                send("504 5.5.4 Unsupported mechanism")
                return
        except (ValueError, TypeError):
            send("501 5.5.2 Cannot decode response")
            return
        user, password = user.decode(), password.decode()
        ok = self.users is None or self.users.get(user) == password
        with self.lock:
            self.auths.append({"mech": mech, "user": user, "password": password,
                               "tls": tls, "ok": ok})
        send("235 2.7.0 Authentication successful" if ok
             else "535 5.7.8 Error: authentication failed: authentication failure")

    def wait(self, n=1, timeout=30):
        wait_for(lambda: len(self.transactions) >= n, timeout, "%d transaction(s)" % n)
        return self.transactions[n - 1]
