"""
test_sql_mx.py - a primary and a backup MX over one PostgreSQL database
(docs/SCALING.md): the primary (127.0.0.2) delivers virt.example into
Maildirs with virtual_mailbox_domains/maps from pgsql; the backup
(127.0.0.3) has relay_domains and relay_recipient_maps from the same
database (through proxy:) and relays to the primary (transport_maps).

Shown: mail to the backup reaches the primary's Maildir; an unknown user
is refused at RCPT by both; a user INSERTed into the database is
accepted by both with no reload; while the primary is down the backup
queues the mail, and delivers it once the primary is back.
"""
from posthorn import Instance, wait_for
from sqldb import PostgreSQL
from test_sql import maildir_files, pg_cf, pg_schema, rcpt, send, virtual_sql_instance


def primary_instance(pg):
    inst = virtual_sql_instance("mx-primary", pg, retry_interval="1")
    inst.addr = "127.0.0.2"
    inst.params.update({"inet_interfaces": inst.addr, "myhostname": "mx1.example.test"})
    inst.write_main()
    return inst


def backup_instance(pg, primary):
    inst = Instance("mx-backup")
    inst.addr = "127.0.0.3"
    dom = pg_cf(inst, "domains.cf", pg, "SELECT domain FROM domains WHERE domain = '%s'")
    rcpts = pg_cf(inst, "recipients.cf", pg,
                  "SELECT 'ok' FROM mailbox WHERE local = '%u' AND domain = '%d'",
                  retry_interval="1")
    inst.params.update({
        "inet_interfaces": inst.addr,
        "myhostname": "mx2.example.test",
        "relay_domains": "proxy:pgsql:" + dom,
        "relay_recipient_maps": "proxy:pgsql:" + rcpts,
        "transport_maps": "inline:{virt.example=relay:[%s]:%d}" % (primary.addr, primary.port),
    })
    inst.write_main()
    return inst


def test_sql_primary_and_backup_mx():
    with PostgreSQL() as pg:
        pg_schema(pg)
        with primary_instance(pg) as mx1, backup_instance(pg, mx1) as mx2:
            mx1.start()
            mx2.start()
            send(mx2, "alice@virt.example")
            wait_for(lambda: len(maildir_files(mx1, "virt.example/alice")) == 1, 30,
                     "alice's message relayed by the backup")
            r = rcpt(mx2, "bob@virt.example")
            assert r == ["550 5.1.1 <bob@virt.example>: Recipient address rejected: "
                         "User unknown in relay recipient table"], r
            r = rcpt(mx1, "bob@virt.example")
            assert r == ["550 5.1.1 <bob@virt.example>: Recipient address rejected: "
                         "User unknown in virtual mailbox table"], r
            pg.sql("INSERT INTO mailbox VALUES ('carol', 'virt.example')")
            assert rcpt(mx1, "carol@virt.example") == ["250 2.1.5 Ok"]
            assert rcpt(mx2, "carol@virt.example") == ["250 2.1.5 Ok"]
            mx1.stop()
            qid = send(mx2, "carol@virt.example")
            mx2.wait_log(r"%s: to=<carol@virt\.example>, relay=none, .*status=deferred" % qid)
            mx1.start()
            mx2.cmd("postqueue", "-f", check=True)
            wait_for(lambda: len(maildir_files(mx1, "virt.example/carol")) == 1, 30,
                     "carol's message once the primary is back")
            assert "status=bounced" not in mx2.log() + mx1.log()
