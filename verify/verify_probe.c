/*
 * verify_probe.c - queue an address verification probe.
 *
 * Interface (verify.h): verify_probe_send(). The probe is an empty
 * message from $address_verify_sender to the address, marked
 * "trace_flags=probe" (mail_proto.h), queued through public/cleanup
 * with address mapping allowed, so it takes every rewriting and routing
 * step real mail takes; qmgr and the delivery agents then only find out
 * whether it could be delivered (deliver.h DELIVER_TRACE_PROBE) and
 * report that back to this service.
 *
 * SECURITY: addr comes from smtpd (a remote client's address, bounded
 * by the request parser); it is written as one RCPT record, never parsed
 * here.
 *
 * DIAGNOSTICS: a cleanup that cannot be reached or refuses the probe is
 * a warning and a -1 return (the address stays "in progress").
 */
#include <sys/time.h>

#include "cleanup_clnt.h"
#include "mail_proto.h"
#include "msg.h"
#include "record.h"
#include "verify.h"

int
verify_probe_send(const char *sender, const char *addr)
{
    VSTRING *id = vstring_alloc(32);
    VSTRING *why = vstring_alloc(100);
    struct timeval tv;
    STREAM *c;
    int     status;

    if ((c = cleanup_clnt_open(CLEANUP_FLAG_MAP_OK, id)) == NULL) {
        vstring_free(id);
        vstring_free(why);
        return -1;
    }
    gettimeofday(&tv, 0);
    rec_printf(c, REC_TYPE_TIME, "%ld %ld", (long) tv.tv_sec, (long) tv.tv_usec);
    rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_RWR_CONTEXT, "local");
    rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_LOG_IDENT, STR(id));
    rec_printf(c, REC_TYPE_ATTR, "%s=%s", ATTR_TRACE_FLAGS, TRACE_FLAGS_PROBE);
    rec_puts(c, REC_TYPE_FROM, sender);
    rec_puts(c, REC_TYPE_RCPT, addr);
    rec_puts(c, REC_TYPE_MESG, "");
    status = cleanup_clnt_finish_id(c, STR(id), why);
    if (status != CLEANUP_STAT_OK)
        msg_warn("probe for <%s> not queued (status %d%s%s)", addr, status,
                 LEN(why) ? ": " : "", STR(why));
    else if (msg_verbose)
        msg_info("%s: probe for <%s>", STR(id), addr);
    vstring_free(id);
    vstring_free(why);
    return status == CLEANUP_STAT_OK ? 0 : -1;
}
