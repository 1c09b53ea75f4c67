"""
test_agent_pipeline.py - qmgr and the delivery agents carry several
requests over one connection: qmgr writes the next request of a
destination while the agent still delivers the current one, and a
request the agent says it will not read goes back to the queue.

A stand-in agent (a Python thread on private/fake, speaking the delivery
protocol of lib/global/mail_proto.h) shows what qmgr sends and when; the
real local agent shows the max_use end of a connection.
"""
import os
import re
import select
import socket
import threading
import time

from posthorn import Instance, wait_for

BODY = "Subject: pipeline\r\n\r\nhello\r\n"


class Reader:
    """Attribute lists from a socket, with a timeout per list."""

    def __init__(self, sock):
        self.sock = sock
        self.buf = b""

    def string(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                raise TimeoutError
            data = self.sock.recv(65536)
            if not data:
                return None
            self.buf += data
        text, _, self.buf = self.buf.partition(b"\0")
        return text.decode()

    def attrs(self, timeout):
        """One list {name: value}; None at the end of the connection."""
        deadline = time.monotonic() + timeout
        out = {}
        while True:
            name = self.string(deadline)
            if name is None:
                return None
            if name == "":
                return out
            out[name] = self.string(deadline)


def write_list(sock, attrs):
    data = b"".join(k.encode() + b"\0" + str(v).encode() + b"\0" for k, v in attrs.items())
    sock.sendall(data + b"\0")


class FakeAgent(threading.Thread):
    """Accepts qmgr's connections on path. For each request it records
    (connection number, queue id, whether the next request had arrived
    before this one was answered). The answer to the first connection's
    first request waits until the next request is there or wait seconds
    passed (other connections wait 0.2 s); every recipient is delivered.
    The first connection's first answer says more=0 when refuse_more is
    set. With stop_reading, the first
    connection stops reading once it has its second request (qmgr's next
    write there fails), answers the first with more=1, and a moment later
    the second with more=0 -- an agent at its max_use, gone before qmgr
    read its last answer. With hang, the first connection answers nothing
    for that many seconds once it has its second request, then hangs up.
    With vanish, the first connection answers its first request with
    more=1 but has stopped reading before it does (an agent that exits
    between requests after saying it reads another): qmgr's next write
    there fails."""

    def __init__(self, path, wait=3.0, refuse_more=False, stop_reading=False, hang=0.0,
                 vanish=False):
        super().__init__(daemon=True)
        self.path = path
        self.wait = wait
        self.refuse_more = refuse_more
        self.stop_reading = stop_reading
        self.hang = hang
        self.vanish = vanish
        self.requests = []
        self.lock = threading.Lock()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.listen(10)

    def run(self):
        conn_no = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn_no += 1
            threading.Thread(target=self.serve, args=(conn, conn_no), daemon=True).start()

    @staticmethod
    def read_request(f, timeout):
        msg = f.attrs(timeout)
        if msg is None:
            return None
        rcpts = [f.attrs(10) for _ in range(int(msg["rcpt_count"]))]
        return msg, rcpts

    def serve(self, conn, conn_no):
        conn.sendall(b"protocol\0delivery\0\0")
        f = Reader(conn)
        req = self.read_request(f, 30)
        first = True
        while req is not None:
            msg, rcpts = req
            try:                        # the first answer waits for the next request
                nxt = self.read_request(f, self.wait if first and conn_no == 1 else 0.2)
            except TimeoutError:
                nxt = "later"
            with self.lock:
                self.requests.append((conn_no, msg["queue_id"], nxt not in (None, "later")))
            if self.stop_reading and conn_no == 1 and first and nxt not in (None, "later"):
                self.answer_and_stop(conn, rcpts, nxt)
                return
            if self.hang and conn_no == 1:
                time.sleep(self.hang)
                conn.close()
                return
            if self.vanish and conn_no == 1:
                conn.shutdown(socket.SHUT_RD)
                for _ in rcpts:
                    write_list(conn, {"status": 0, "dsn": "2.0.0", "reason": "delivered"})
                write_list(conn, {"more": 1})
                time.sleep(2.0)         # qmgr reads the answer, writes and fails
                conn.close()
                return
            more = 0 if (self.refuse_more and conn_no == 1 and first) else 1
            for _ in rcpts:
                write_list(conn, {"status": 0, "dsn": "2.0.0", "reason": "delivered"})
            write_list(conn, {"more": more})
            first = False
            if not more:
                break
            req = self.read_request(f, 30) if nxt == "later" else nxt
        conn.close()

    def answer_and_stop(self, conn, rcpts, nxt):
        time.sleep(1.0)                 # the third message reaches qmgr
        conn.shutdown(socket.SHUT_RD)   # qmgr's writes fail from now on
        for _ in rcpts:
            write_list(conn, {"status": 0, "dsn": "2.0.0", "reason": "delivered"})
        write_list(conn, {"more": 1})
        time.sleep(1.0)                 # qmgr reads that and tries the third
        msg, rcpts = nxt
        with self.lock:
            self.requests.append((1, msg["queue_id"], False))
        for _ in rcpts:
            write_list(conn, {"status": 0, "dsn": "2.0.0", "reason": "delivered"})
        write_list(conn, {"more": 0})
        conn.close()

    def close(self):
        self.sock.close()


def fake_instance(name, **main):
    return Instance(name, main=dict({"default_transport": "fake",
                                     "fake_destination_concurrency_limit": "1"}, **main))


def submit_three(inst):
    qids = []
    for i in range(3):
        s = inst.session()
        s.cmd("HELO test")
        qids.append(s.message("jonas@example.test", ["user%d@remote.example" % i], BODY))
        s.cmd("QUIT")
        s.close()
    return qids


def deliver_three(name, refuse_more=False, stop_reading=False):
    """Three messages for the fake transport through the stand-in agent:
    (queue ids, the agent's records, the log) once all are removed."""
    with fake_instance(name) as inst:
        inst.start()
        agent = FakeAgent(os.path.join(inst.queue, "private", "fake"), wait=10.0,
                          refuse_more=refuse_more, stop_reading=stop_reading)
        agent.start()
        try:
            qids = submit_three(inst)
            for q in qids:
                inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % q)
            with agent.lock:
                reqs = list(agent.requests)
            assert sorted(q for _, q, _ in reqs) == sorted(qids), reqs
            return qids, reqs, inst.log()
        finally:
            agent.close()


def test_next_request_is_sent_while_the_agent_delivers():
    """With a concurrency of one, the second message's request goes over
    the first one's connection and reaches the agent before it has
    answered the first."""
    qids, reqs, log = deliver_three("pipe-next")
    assert reqs[0][0] == reqs[1][0] == 1, reqs
    assert reqs[0][2], reqs          # the second was there before the first answer
    assert "deferred" not in log


def test_request_the_agent_will_not_read_goes_to_another_connection():
    """The agent answers the first request with more=0 while the second
    is already in the socket: qmgr gives that one to a new connection; no
    message is deferred."""
    qids, reqs, log = deliver_three("pipe-refuse", refuse_more=True)
    assert reqs[0][0] == 1 and reqs[0][2], reqs
    assert reqs[1][0] >= 2, reqs
    assert "deferred" not in log


def test_answer_read_after_the_agent_stopped_reading():
    """The agent stops reading while it still delivers the second request
    (it is at its max_use): qmgr's write of the third request there fails.
    The second request's answer, already on its way, is still read -- the
    message is delivered once, not deferred and sent again -- and the third
    goes to a new connection."""
    qids, reqs, log = deliver_three("pipe-stopread", stop_reading=True)
    assert [c for c, _, _ in reqs[:2]] == [1, 1], reqs
    assert reqs[2][0] >= 2, reqs
    assert "deferred" not in log, log
    assert "malformed or missing" not in log, log


def test_request_behind_a_silent_agent_goes_to_another_connection():
    """The agent takes the first request and the one queued behind it and
    then answers nothing: after ipc_timeout qmgr gives up on that
    connection, defers the request in delivery ("unknown mail transport
    error", retried later) and gives the one behind it, which the agent
    never answered, to a new connection instead of deferring it too."""
    with fake_instance("pipe-hang", ipc_timeout="3s") as inst:
        inst.start()
        agent = FakeAgent(os.path.join(inst.queue, "private", "fake"), wait=10.0, hang=8.0)
        agent.start()
        try:
            qids = submit_three(inst)
            inst.wait_log(r"warning: %s: timeout while waiting for transport fake" % qids[0])
            for q in qids[1:]:
                inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % q)
            log = inst.log()
            assert re.search(r"%s: to=<user0@remote.example>, .*status=deferred "
                             r"\(unknown mail transport error\)" % qids[0], log), log
            assert not re.search(r"%s: to=.*status=deferred" % qids[1], log), log
            assert qids[0] in inst.cmd("postqueue", "-p").stdout
            with agent.lock:
                conns = {q: c for c, q, _ in agent.requests}
            assert conns[qids[0]] == 1 and conns[qids[1]] >= 2, agent.requests
        finally:
            agent.close()


def test_request_to_an_agent_gone_between_requests_goes_to_another_connection():
    """The agent answers the first request saying it reads another, but
    has stopped reading (it exits between requests). The second message
    has too many recipients to be queued behind the first, so it waits in
    qmgr and is written when the answer comes; that write fails. The agent
    never saw it: it goes to a new connection and is delivered, not
    deferred."""
    with fake_instance("pipe-vanish", fake_destination_recipient_limit="100") as inst:
        inst.start()
        agent = FakeAgent(os.path.join(inst.queue, "private", "fake"), wait=3.0, vanish=True)
        agent.start()
        try:
            qids = []
            for rcpts in (["user0@remote.example"],
                          ["many%d@remote.example" % i for i in range(70)]):
                s = inst.session()
                s.cmd("HELO test")
                qids.append(s.message("jonas@example.test", rcpts, BODY))
                s.cmd("QUIT")
                s.close()
            for q in qids:
                inst.wait_log(r"postfix/qmgr\[\d+\]: %s: removed" % q)
            log = inst.log()
            assert "deferred" not in log, log
            assert "cannot send request" not in log, log
            with agent.lock:
                conns = {q: c for c, q, _ in agent.requests}
            assert conns == {qids[0]: 1, qids[1]: 2}, agent.requests
        finally:
            agent.close()


def test_local_max_use_ends_a_connection_without_losing_a_request():
    """The real local agent with max_use=2 and a concurrency of one: six
    messages put on hold (header_checks), then released at once, so that
    qmgr queues requests on each connection; every local process says "no
    more" on its second delivery and the request queued behind it goes to
    the next process. All six delivered, none deferred."""
    with Instance("pipe-maxuse", main={"local_destination_concurrency_limit": "1",
                                       "max_use": "2"}) as inst:
        with open(inst.conf + "/header_checks", "w") as f:
            f.write("/^Subject: pipeline/ HOLD\n")
        inst.params["header_checks"] = "regexp:%s/header_checks" % inst.conf
        inst.write_main()
        inst.start()
        for i in range(6):
            s = inst.session()
            s.cmd("HELO test")
            s.message("jonas@example.test", ["root@example.test"], BODY)
            s.cmd("QUIT")
            s.close()
        wait_for(lambda: len(inst.queue_files("hold")) == 6, 30, "six held messages")
        inst.cmd("postsuper", "-H", "ALL", check=True)
        wait_for(lambda: len(inst.messages("root")) == 6, 30, "six messages for root")
        log = inst.log()
        assert "status=deferred" not in log, log
        assert "unknown mail transport error" not in log, log
        assert len(set(re.findall(r"postfix/local\[(\d+)\]: \w+: to=<root@", log))) >= 3, log
