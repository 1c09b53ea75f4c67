"""
test_memory.py - the private memory of the daemons that run in dozens
under load (smtpd, cleanup): what each process writes to its heap after
one mail transaction stays small. Under relay load an instance runs ~20
smtpd, ~20 smtp and ~15 cleanup processes, so a start-up table every
process builds (before: all 832 built-in parameters entered in the main.cf
hash table, ~180 kB of heap each) multiplies (docs/PERFORMANCE.md,
section 13). Likewise a shared library's relocated pages: libdb (~40 kB
per process) is mapped only by a daemon that opens a hash: or btree:
table (lib/dict/stub/dict_db_stub.c loads dict_db.so).
"""
from posthorn import Instance, wait_for

# kB of private dirty [heap] pages; before the lazy parameter table an
# smtpd had ~310 and a cleanup ~300, after ~110-170 (one hash: alias table
# open in smtpd for local_recipient_maps).
HEAP_BUDGET_KB = 220


def heap_dirty_kb(pid):
    """Private_Dirty of the [heap] mapping of pid, kB."""
    heap, total = False, 0
    with open("/proc/%s/smaps" % pid) as f:
        for line in f:
            if line[0] in "0123456789abcdef" and "-" in line.split()[0]:
                heap = line.rstrip().endswith("[heap]")
            elif heap and line.startswith("Private_Dirty:"):
                total += int(line.split()[1])
    return total


def maps_of(pid):
    with open("/proc/%s/maps" % pid) as f:
        return f.read()


def one_transaction(inst, look):
    """Start inst, deliver one message to a /dev/null alias over SMTP
    (one unknown recipient refused on the way: smtpd's hash:aliases is
    open), then call look() while the smtpd still serves the session and
    the cleanup waits for the next one; returns what look() returns."""
    inst.write_aliases("postmaster: root\nsink: /dev/null\n")
    inst.start()
    s = inst.session(helo="EHLO client.example", sender="a@client.example")
    assert s.cmd("RCPT TO:<sink@mail.example.test>")[-1].startswith("250")
    assert s.cmd("RCPT TO:<nosuchuser@mail.example.test>")[0].startswith("550")
    assert s.data("Subject: memory\r\n\r\nbody\r\n")[-1].startswith("250")
    inst.wait_log(r"to=<sink@mail.example.test>.*status=sent")
    wait_for(lambda: inst.pids("smtpd") and inst.pids("cleanup"), 10,
             "smtpd and cleanup processes")
    try:
        return look()
    finally:
        s.close()


def test_memory_smtpd_and_cleanup_heap_stays_small():
    with Instance("memory") as inst:
        heaps = one_transaction(inst, lambda: {
            comm: [heap_dirty_kb(p) for p in inst.pids(comm)] for comm in ("smtpd", "cleanup")})
        for comm, sizes in heaps.items():
            assert sizes and max(sizes) < HEAP_BUDGET_KB, (comm, sizes)


def test_memory_libdb_only_where_a_hash_table_is_open():
    with Instance("memdb") as inst:
        smtpd, cleanup = one_transaction(inst, lambda: (
            [maps_of(p) for p in inst.pids("smtpd")], [maps_of(p) for p in inst.pids("cleanup")]))
        # smtpd opened hash:aliases (local_recipient_maps): dict_db.so and libdb
        assert smtpd and all("dict_db.so" in m and "libdb" in m for m in smtpd)
        # cleanup has no such table in this configuration
        assert cleanup and not any("libdb" in m or "dict_db.so" in m for m in cleanup)
