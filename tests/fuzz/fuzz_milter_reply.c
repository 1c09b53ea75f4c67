/*
 * fuzz_milter_reply.c - libFuzzer harness for what a milter sends back
 * (lib/global/milter_proto.c): the packet reader with its length bound,
 * the reply parser, the SETSYMLIST parser, the end-of-message loop that
 * collects modifications, and the verdicts of envelope events. A milter
 * is another program, maybe on another host: its bytes are untrusted.
 *
 * Input: 4 bytes of negotiated protocol flags, then the milter's byte
 * stream (length-prefixed packets), read through a socket.
 */
#include <sys/socket.h>

#include "../../lib/global/milter.h"
#include "mem.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    MILTERS ms;
    MILTER  m, *list[1] = {&m};
    MILTER_EDITS edits;
    ARGV   *lists[MILTER_MAC_STAGES] = {0};
    VSTRING *reply;
    int     sv[2];

    if (size < 4 || size > FUZZ_PIPE_MAX || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
        return 0;
    if (write(sv[1], data + 4, size - 4) != (ssize_t) (size - 4)) {
        close(sv[0]);
        close(sv[1]);
        return 0;
    }
    shutdown(sv[1], SHUT_WR);
    (void) milter_symlist_parse((const char *) data, size, lists);
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        argv_free(lists[i]);
    memset(&ms, 0, sizeof(ms));
    memset(&m, 0, sizeof(m));
    ms.list = list;
    ms.count = 1;
    ms.mac_vals = argv_alloc();
    m.name = "fuzz";
    m.cmd_timeout = m.content_timeout = m.conn_timeout = 1;
    m.fp = stream_fdopen(sv[0]);
    m.fd = sv[0];
    m.state = MILTER_ST_READY;
    m.actions = 0x1FF;
    m.pflags = ((unsigned long) data[0] << 24 | (unsigned long) data[1] << 16
                | (unsigned long) data[2] << 8 | data[3]) & 0x3FFFFF & ~SMFIP_NOBODY;
    m.pkt = vstring_alloc(MILTER_PACKET_MAX);
    reply = vstring_alloc(1024);
    (void) milters_helo(&ms, "helo.example", reply);
    (void) milter_body(&ms, &m, "body\r\n", 6, reply);
    m.state = MILTER_ST_READY;
    milter_edits_init(&edits, 100000);
    if (m.fp)
        (void) milter_eom(&ms, &m, &edits, reply);
    milter_edits_free(&edits);
    if (m.fp)
        (void) stream_close(m.fp);
    close(sv[1]);
    vstring_free(m.pkt);
    vstring_free(reply);
    argv_free(ms.mac_vals);
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        argv_free(m.symlist[i]);
    return 0;
}
