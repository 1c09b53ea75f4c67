/*
 * qmgr_message.c - one queue file in the active queue: read its
 * envelope, group its recipients into delivery entries, mark delivered
 * recipients DONE, and decide its fate when every entry has finished.
 *
 * Interface (qmgr.h): qmgr_message_list, qmgr_message_count (the active
 * messages), qmgr_message_read(), qmgr_message_free(),
 * qmgr_message_group(), qmgr_message_mark_done(), qmgr_message_finish(),
 * qmgr_message_backoff(); qmgr_message_resolve_fn (resolve_clnt by
 * default).
 *
 * Reading: the envelope up to MESG, then (at content offset + content
 * size from Postfix's SIZE record) the extracted section up to END. RCPT records become
 * recipients with the offset of their record; DONE records are counted
 * but skipped; ORCP, DSN_ORCPT and DSN_NOTIFY apply to the next RCPT/DONE.
 * A FILT record ('L' outside the content, either section) sends every
 * recipient to the filter. The DSN named attributes arrive as the
 * REC_TYPE_DSN_* pseudo types (rec_get()).
 *
 * Grouping: each recipient still to deliver is resolved to (transport,
 * nexthop). Its queue is keyed by the lowercased nexthop, or by the
 * lowercased recipient plus nexthop when the transport's recipient limit
 * is 1 (then the concurrency limit is per recipient, as in Postfix).
 * Recipients of one message for one queue share an entry until it holds
 * <transport>_destination_recipient_limit of them (the entry being
 * filled is only used within one grouping round, fill_gen). Resolver
 * failures defer the recipient ("address resolver failure"); a syntax
 * error bounces it ("bad address syntax"). A message with a content
 * filter sends every other recipient to the filter's transport and
 * nexthop instead of the resolver's (one entry per queue, as usual).
 *
 * Durability: a recipient is marked DONE (type byte overwritten in
 * place, not synced: a lost mark only repeats a delivery) only after its delivery was reported or its bounce
 * was logged; the file is unlinked only when every recipient is DONE,
 * otherwise it is moved to deferred/ with its mtime set to the next
 * retry time (set before the move, so a crash in between only retries
 * early; the move is not synced either: lost, it leaves the file in
 * active/, which start-up recovery sends back to incoming/).
 *
 * SECURITY: the file is opened O_NOFOLLOW; record lengths are bounded
 * by REC_MAX_DEFAULT (the content is skipped, not read); the
 * SIZE record offsets are checked against the file; any malformed or
 * unknown record makes the file corrupt (the caller moves it aside).
 *
 * DIAGNOSTICS: none fatal; a queue file that cannot be opened, read,
 * updated, moved, removed or have its retry time set is a warning with the
 * queue id (the message stays for a later scan); a missing recipient
 * record and an invalid content filter are warnings.
 */
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include "deliver.h"
#include "mail_proto.h"
#include "mem.h"
#include "msg.h"
#include "queue.h"
#include "record.h"
#include "rewrite_clnt.h"
#include "qmgr.h"

QMGR_MESSAGE *qmgr_message_list;
int     qmgr_message_count;
static unsigned long qmgr_message_group_gen;   /* one per qmgr_message_group() call */

/* What the reader remembers between records. */
typedef struct READ_STATE {
    QMGR_MESSAGE *msg;
    char   *orcp;               /* pending ORCP */
    char   *dsn_orcpt;          /* pending DSN_ORCPT */
    int     dsn_notify;
    int     have_from;
    int     have_time;
    long    done_count;
    REC_WALK walk;              /* Postfix's pointer records */
} READ_STATE;

static void
message_state_clear(READ_STATE *st)
{
    mem_free(st->orcp);
    mem_free(st->dsn_orcpt);
    st->orcp = st->dsn_orcpt = 0;
    st->dsn_notify = 0;
}

static void
message_add_rcpt(READ_STATE *st, const char *addr, long offset)
{
    QMGR_MESSAGE *msg = st->msg;
    QMGR_RCPT *r;

    if (msg->rcpt_count == msg->rcpt_cap) {
        msg->rcpt_cap = msg->rcpt_cap ? msg->rcpt_cap * 2 : 8;
        msg->rcpt = mem_realloc_array(msg->rcpt, msg->rcpt_cap, sizeof(*msg->rcpt));
    }
    r = msg->rcpt + msg->rcpt_count++;
    memset(r, 0, sizeof(*r));
    r->address = mem_strdup(addr);
    r->orig_rcpt = st->orcp ? st->orcp : mem_strdup("");
    r->dsn_orcpt = st->dsn_orcpt ? st->dsn_orcpt : mem_strdup("");
    r->dsn_notify = st->dsn_notify;
    r->offset = offset;
    r->state = QMGR_RCPT_TODO;
    st->orcp = st->dsn_orcpt = 0;
    st->dsn_notify = 0;
}

/*
 * The client attributes for the delivery request (XFORWARD, the local
 * command environment), as Postfix's qmgr takes them: the log_* ones
 * (the up-stream client after XFORWARD; Postfix's names) win over the
 * real client's, which only fill in for a queue file without log_*.
 * The SMTP AUTH ones (sasl_*) go along for pipe's ${sasl_*} macros.
 */
static const struct {
    const char *name;
    size_t  offset;
    int     bit;                /* 0: a real-client attribute */
} message_client_attrs[] = {
    {ATTR_LOG_CLIENT_NAME, offsetof(QMGR_MESSAGE, client_name), 1 << 0},
    {ATTR_CLIENT_NAME, offsetof(QMGR_MESSAGE, client_name), 0},
    {ATTR_LOG_CLIENT_ADDR, offsetof(QMGR_MESSAGE, client_addr), 1 << 1},
    {ATTR_CLIENT_ADDR, offsetof(QMGR_MESSAGE, client_addr), 0},
    {"client_address", offsetof(QMGR_MESSAGE, client_addr), 0},     /* Postfix */
    {ATTR_LOG_CLIENT_PORT, offsetof(QMGR_MESSAGE, client_port), 1 << 2},
    {ATTR_CLIENT_PORT, offsetof(QMGR_MESSAGE, client_port), 0},
    {ATTR_LOG_HELO_NAME, offsetof(QMGR_MESSAGE, client_helo), 1 << 3},
    {ATTR_HELO_NAME, offsetof(QMGR_MESSAGE, client_helo), 0},
    {ATTR_LOG_PROTO_NAME, offsetof(QMGR_MESSAGE, client_proto), 1 << 4},
    {ATTR_PROTO_NAME, offsetof(QMGR_MESSAGE, client_proto), 0},
    {ATTR_LOG_IDENT, offsetof(QMGR_MESSAGE, log_ident), 1 << 5},
    {ATTR_RWR_CONTEXT, offsetof(QMGR_MESSAGE, rewrite_context), 1 << 6},
    {ATTR_SASL_METHOD, offsetof(QMGR_MESSAGE, sasl_method), 1 << 7},
    {ATTR_SASL_USERNAME, offsetof(QMGR_MESSAGE, sasl_username), 1 << 8},
    {ATTR_SASL_SENDER, offsetof(QMGR_MESSAGE, sasl_sender), 1 << 9},
};

#define MESSAGE_CLIENT_COUNT (sizeof(message_client_attrs) / sizeof(message_client_attrs[0]))
#define MESSAGE_CLIENT_LOG_MASK 0x1f    /* the log_client_* ... log_protocol_name bits */

static void
message_client_attr(QMGR_MESSAGE *msg, const char *name, size_t nlen, const char *value)
{
    for (size_t i = 0; i < MESSAGE_CLIENT_COUNT; i++) {
        char  **slot = (char **) ((char *) msg + message_client_attrs[i].offset);
        int     bit = message_client_attrs[i].bit;

        if (strlen(message_client_attrs[i].name) != nlen
            || strncmp(message_client_attrs[i].name, name, nlen) != 0)
            continue;
        if (bit == 0 && *slot)          /* a log_* value (or a first one) stays */
            return;
        mem_free(*slot);
        *slot = mem_strdup(value);
        msg->client_from_log |= bit;
        return;
    }
}

/* After the envelope: with log_* attributes present, a real-client value
 * does not stand in for a log_* one that is absent (HELO unavailable). */
static void
message_client_done(QMGR_MESSAGE *msg)
{
    if ((msg->client_from_log & MESSAGE_CLIENT_LOG_MASK) == 0)
        return;
    for (size_t i = 0; i < MESSAGE_CLIENT_COUNT; i++) {
        char  **slot = (char **) ((char *) msg + message_client_attrs[i].offset);
        int     bit = message_client_attrs[i].bit & MESSAGE_CLIENT_LOG_MASK;

        if (bit && !(msg->client_from_log & bit)) {
            mem_free(*slot);
            *slot = 0;
        }
    }
}

/* ATTR name=value: the few that the delivery request carries. */
static void
message_attr(QMGR_MESSAGE *msg, const char *data)
{
    const char *eq = strchr(data, '=');
    size_t  nlen;

    if (eq == 0)
        return;
    nlen = (size_t) (eq - data);
    if (strcmp(data, ATTR_TRACE_FLAGS "=" TRACE_FLAGS_VERIFY) == 0)
        msg->trace_flags |= DELIVER_TRACE_VERIFY;
    if (strcmp(data, ATTR_TRACE_FLAGS "=" TRACE_FLAGS_PROBE) == 0)
        msg->trace_flags |= DELIVER_TRACE_VERIFY | DELIVER_TRACE_PROBE;
    if (nlen == strlen(ATTR_ENCODING) && strncmp(data, ATTR_ENCODING, nlen) == 0) {
        mem_free(msg->encoding);
        msg->encoding = mem_strdup(eq + 1);
    } else {
        message_client_attr(msg, data, nlen, eq + 1);
    }
}

/*
 * CONTENT_FILTER "transport:nexthop" (cleanup writes one; the last one
 * wins). A value without a transport name is ignored, as Postfix does.
 */
static void
message_filter(QMGR_MESSAGE *msg, const char *data)
{
    const char *colon = strchr(data, ':');

    if (colon == 0 || colon == data) {
        msg_warn("%s: ignoring invalid content filter: \"%.100s\"", msg->queue_id, data);
        return;
    }
    mem_free(msg->filter);
    msg->filter = mem_strdup(data);
}

/*
 * One record of the envelope or extracted section. Returns 1 to go on,
 * 0 at the section's end (MESG or END), -1 for a corrupt file.
 */
static int
message_record(READ_STATE *st, int type, const char *data, long offset,
               const char **why)
{
    QMGR_MESSAGE *msg = st->msg;
    long    sec, usec = 0;

    switch (type) {
    case REC_TYPE_TIME:
        if (sscanf(data, "%ld %ld", &sec, &usec) < 1 || sec < 0) {
            *why = "bad TIME record";
            return -1;
        }
        msg->arrival_time = (double) sec + (double) usec / 1e6;
        st->have_time = 1;
        return 1;
    case REC_TYPE_FROM:
        if (st->have_from) {
            *why = "duplicate sender record";
            return -1;
        }
        msg->sender = mem_strdup(data);
        st->have_from = 1;
        return 1;
    case REC_TYPE_ATTR:
        message_attr(msg, data);
        return 1;
    case REC_TYPE_ORCP:
        mem_free(st->orcp);
        st->orcp = mem_strdup(data);
        return 1;
    case REC_TYPE_DSN_ORCPT:
        mem_free(st->dsn_orcpt);
        st->dsn_orcpt = mem_strdup(data);
        return 1;
    case REC_TYPE_DSN_NOTIFY:
        st->dsn_notify = atoi(data);
        return 1;
    case REC_TYPE_DSN_ENVID:
        mem_free(msg->dsn_envid);
        msg->dsn_envid = mem_strdup(data);
        return 1;
    case REC_TYPE_DSN_RET:
        msg->dsn_ret = atoi(data);
        return 1;
    case REC_TYPE_CONTENT_FILTER:
        message_filter(msg, data);
        return 1;
    case REC_TYPE_FLGS:                 /* Postfix's flags: digits only; an */
        if (strchr(data, ':') != NULL)  /* earlier posthorn's content filter */
            message_filter(msg, data);
        return 1;
    case REC_TYPE_RCPT:
        if (*data == 0) {
            *why = "empty recipient record";
            return -1;
        }
        message_add_rcpt(st, data, offset);
        return 1;
    case REC_TYPE_DONE:
        st->done_count++;
        message_state_clear(st);
        return 1;
    case REC_TYPE_MESG:
    case REC_TYPE_END:
        return 0;
    case REC_TYPE_EOF:
        *why = "premature end of file";
        return -1;
    case REC_TYPE_ERROR:
        *why = "bad record";
        return -1;
    default:
        if (!rec_type_known(type)) {
            *why = "unknown record type";
            return -1;
        }
        return 1;               /* CTIM FULL WARN XTRA ... */
    }
}

/* Read records until the section ends at expect (REC_TYPE_MESG or _END). */
static int
message_section(READ_STATE *st, STREAM *fp, VSTRING *buf, size_t max,
                int expect, const char **why)
{
    int     type, rc;

    for (;;) {
        type = rec_get_walk(fp, buf, max, &st->walk);
        if (type == REC_TYPE_MESG || type == REC_TYPE_END) {
            if (type != expect) {
                *why = "unexpected section boundary";
                return -1;
            }
            return 0;
        }
        if (type == REC_TYPE_NORM || type == REC_TYPE_SIZE) {
            *why = "record out of place";
            return -1;
        }
        if ((rc = message_record(st, type, STR(buf), st->walk.offset, why)) < 0)
            return -1;
    }
}

static int
message_read_file(READ_STATE *st, STREAM *fp, const char **why)
{
    QMGR_MESSAGE *msg = st->msg;
    size_t  max = REC_MAX_DEFAULT;      /* envelope records are short */
    VSTRING *buf = vstring_alloc(max);
    REC_SIZE sz;
    long    data_off = 0, xtra_off = 0;
    struct stat st_buf;
    int     rc = -1;

    if (rec_get(fp, buf, max) != REC_TYPE_SIZE || rec_size_parse(STR(buf), &sz) < 0) {
        *why = "missing or bad size record";
    } else if (fstat(stream_fd(fp), &st_buf) < 0
               || (data_off = sz.data_offset, xtra_off = REC_SIZE_XTRA(&sz)) >= st_buf.st_size) {
        *why = "size record does not match the file";
    } else if (message_section(st, fp, buf, max, REC_TYPE_MESG, why) < 0) {
        /* why is set */
    } else if (stream_tell(fp) != data_off) {
        *why = "content offset mismatch";
    } else if (stream_seek(fp, xtra_off) < 0 || rec_get(fp, buf, max) != REC_TYPE_XTRA) {
        *why = "missing extracted section";
    } else if (message_section(st, fp, buf, max, REC_TYPE_END, why) < 0) {
        /* why is set */
    } else if (!st->have_from || !st->have_time) {
        *why = !st->have_from ? "missing sender record" : "missing arrival time record";
    } else {
        msg->size = sz.data_size;
        msg->data_offset = data_off;
        msg->nrcpt = sz.rcpt_count > 0 ? sz.rcpt_count : msg->rcpt_count + st->done_count;
        rc = 0;
    }
    vstring_free(buf);
    return rc;
}

QMGR_MESSAGE *
qmgr_message_read(const char *queue, const char *id, const char **why)
{
    VSTRING *path = vstring_alloc(256);
    READ_STATE st;
    STREAM *fp;
    struct timeval tv;

    *why = 0;
    fp = stream_open(queue_path(path, queue, id), O_RDONLY | O_NOFOLLOW, 0);
    vstring_free(path);
    if (fp == 0)                /* not corrupt: the caller looks at errno */
        return 0;
    memset(&st, 0, sizeof(st));
    st.msg = mem_alloc(sizeof(QMGR_MESSAGE));
    st.msg->queue_id = mem_strdup(id);
    gettimeofday(&tv, 0);
    st.msg->active_time = (double) tv.tv_sec + (double) tv.tv_usec / 1e6;
    if (message_read_file(&st, fp, why) < 0) {
        message_state_clear(&st);
        qmgr_message_free(st.msg);
        st.msg = 0;
    }
    message_state_clear(&st);
    stream_close(fp);
    if (st.msg) {
        if (!st.msg->encoding)
            st.msg->encoding = mem_strdup("");
        if (!st.msg->dsn_envid)
            st.msg->dsn_envid = mem_strdup("");
        message_client_done(st.msg);
        for (size_t i = 0; i < MESSAGE_CLIENT_COUNT; i++) {
            char  **slot = (char **) ((char *) st.msg + message_client_attrs[i].offset);

            if (!*slot)
                *slot = mem_strdup("");
        }
    }
    return st.msg;
}

void
qmgr_message_free(QMGR_MESSAGE *msg)
{
    if (msg == 0)
        return;
    for (int i = 0; i < msg->rcpt_count; i++) {
        mem_free(msg->rcpt[i].address);
        mem_free(msg->rcpt[i].orig_rcpt);
        mem_free(msg->rcpt[i].dsn_orcpt);
        mem_free(msg->rcpt[i].reason);
    }
    mem_free(msg->rcpt);
    mem_free(msg->queue_id);
    mem_free(msg->sender);
    mem_free(msg->encoding);
    mem_free(msg->dsn_envid);
    mem_free(msg->client_name);
    mem_free(msg->client_addr);
    mem_free(msg->client_port);
    mem_free(msg->client_helo);
    mem_free(msg->client_proto);
    mem_free(msg->log_ident);
    mem_free(msg->rewrite_context);
    mem_free(msg->sasl_method);
    mem_free(msg->sasl_username);
    mem_free(msg->sasl_sender);
    mem_free(msg->filter);
    mem_free(msg);
}

static int
qmgr_message_resolve_default(const char *sender, const char *addr, VSTRING *transport,
                             VSTRING *nexthop, VSTRING *recipient, int *flags)
{
    RESOLVE_REPLY reply;
    int     rc;

    resolve_reply_init(&reply);
    rc = resolve_clnt(sender, addr, &reply);
    if (rc == 0) {
        vstring_strcpy(transport, STR(reply.transport));
        vstring_strcpy(nexthop, STR(reply.nexthop));
        vstring_strcpy(recipient, STR(reply.recipient));
        *flags = reply.flags;
    }
    resolve_reply_free(&reply);
    return rc;
}

QMGR_RESOLVE_FN qmgr_message_resolve_fn = qmgr_message_resolve_default;

/* The entry of msg being filled for queue q (a new one when full). */
static QMGR_ENTRY *
message_fill_entry(QMGR_QUEUE *q, QMGR_MESSAGE *msg)
{
    if (q->fill_gen == qmgr_message_group_gen && q->fill_entry
        && q->fill_entry->rcpt_count < q->transport->rcpt_limit)
        return q->fill_entry;
    q->fill_gen = qmgr_message_group_gen;
    q->fill_entry = qmgr_entry_create(q, msg);
    return q->fill_entry;
}

/*
 * Content filtering overrides the resolver's answer (FILTER_README):
 * filter is "transport:nexthop"; an empty nexthop means
 * default_filter_nexthop, else the recipient's domain, else myhostname.
 * Returns 0, or -1 when a part does not fit.
 */
static int
message_filter_route(const char *filter, const char *recipient, VSTRING *transport,
                     VSTRING *nexthop)
{
    const char *colon = strchr(filter, ':');
    const char *dflt = var_def_filter_nexthop;
    const char *domain = strrchr(recipient, '@');

    if (colon == 0 || colon == filter
        || vstring_ncpy(transport, filter, (size_t) (colon - filter)) < 0)
        return -1;
    if (colon[1])
        return vstring_strcpy(nexthop, colon + 1);
    if (*dflt)
        return vstring_strcpy(nexthop, dflt);
    if (domain && domain[1])
        return vstring_strcpy(nexthop, domain + 1);
    return vstring_strcpy(nexthop, var_myhostname);
}

void
qmgr_message_group(QMGR_MESSAGE *msg)
{
    VSTRING *transport = vstring_alloc(256);
    VSTRING *nexthop = vstring_alloc(1024);
    VSTRING *recipient = vstring_alloc(2048);
    VSTRING *key = vstring_alloc(4096);
    long   *bounced = 0;
    int     nbounced = 0;
    int     flags;
    time_t  now = time((time_t *) 0);

    qmgr_message_group_gen++;
    for (int i = 0; i < msg->rcpt_count; i++) {
        QMGR_RCPT *r = msg->rcpt + i;
        QMGR_TRANSPORT *tr;
        QMGR_QUEUE *q;

        if (r->state != QMGR_RCPT_TODO)
            continue;
        flags = 0;
        if (qmgr_message_resolve_fn(msg->sender, r->address, transport, nexthop,
                                    recipient, &flags) < 0
            || (flags & RESOLVE_FLAG_FAIL) || LEN(transport) == 0) {
            qmgr_log_verdict(msg, i, DELIVER_DEFER, "4.3.0", "address resolver failure");
            continue;
        }
        if (flags & RESOLVE_FLAG_ERROR) {
            qmgr_log_verdict(msg, i, DELIVER_BOUNCE, "5.1.3", "bad address syntax");
            if (r->state == QMGR_RCPT_BOUNCED) {
                if (bounced == 0)
                    bounced = mem_array((size_t) msg->rcpt_count, sizeof(long));
                bounced[nbounced++] = r->offset;
            }
            continue;
        }
        if (msg->filter
            && message_filter_route(msg->filter, STR(recipient), transport, nexthop) < 0) {
            qmgr_log_verdict(msg, i, DELIVER_DEFER, "4.3.5", "invalid content filter");
            continue;
        }
        tr = qmgr_transport_find(STR(transport), 1);
        if (tr->rcpt_limit == 1)
            vstring_sprintf(key, "%s\n%s", STR(recipient), STR(nexthop));
        else
            vstring_strcpy(key, STR(nexthop));
        vstring_lowercase(key);
        q = qmgr_queue_find(tr, STR(key), STR(nexthop), 1);
        if (qmgr_queue_dead(q, now)) {
            vstring_sprintf(key, "delivery temporarily suspended: %s",
                            q->dead_reason ? q->dead_reason : "destination unavailable");
            qmgr_log_verdict(msg, i, DELIVER_DEFER, q->dead_dsn[0] == '4' ? q->dead_dsn
                             : "4.0.0", STR(key));
            continue;
        }
        qmgr_entry_add_rcpt(message_fill_entry(q, msg), i);
        r->state = QMGR_RCPT_BUSY;
    }
    if (nbounced > 0)
        (void) qmgr_message_mark_done(QUEUE_ACTIVE, msg->queue_id, bounced, nbounced);
    mem_free(bounced);
    vstring_free(transport);
    vstring_free(nexthop);
    vstring_free(recipient);
    vstring_free(key);
}

/* Mark every delivered recipient DONE (the file stays queued). */
static void
message_mark_sent(QMGR_MESSAGE *msg)
{
    long   *offsets = mem_array((size_t) msg->rcpt_count + 1, sizeof(long));
    int     n = 0;

    for (int i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpt[i].state == QMGR_RCPT_SENT)
            offsets[n++] = msg->rcpt[i].offset;
    if (n > 0)
        (void) qmgr_message_mark_done(QUEUE_ACTIVE, msg->queue_id, offsets, n);
    mem_free(offsets);
}

int
qmgr_message_mark_done(const char *queue, const char *id,
                       const long *offsets, int count)
{
    VSTRING *path = vstring_alloc(256);
    int     fd, rc = 0;
    char    ch;

    fd = open(queue_path(path, queue, id), O_RDWR | O_NOFOLLOW);
    if (fd < 0) {
        msg_warn("%s: open %s: %m", id, STR(path));
        vstring_free(path);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        if (pread(fd, &ch, 1, offsets[i]) != 1) {
            msg_warn("%s: read %s at offset %ld: %m", id, STR(path), offsets[i]);
            rc = -1;
        } else if (ch == REC_TYPE_DONE) {
            continue;
        } else if (ch != REC_TYPE_RCPT) {
            msg_warn("%s: no recipient record at offset %ld", id, offsets[i]);
            rc = -1;
        } else {
            ch = REC_TYPE_DONE;
            if (pwrite(fd, &ch, 1, offsets[i]) != 1) {
                msg_warn("%s: update %s: %m", id, STR(path));
                rc = -1;
            }
        }
    }
    /*
     * No fsync: a DONE mark lost in a crash means a repeated delivery,
     * never a lost one (as with Postfix, whose agents mark without sync).
     */
    close(fd);
    vstring_free(path);
    return rc;
}

/* Remove the queue file (recycled: queue.h) and its defer log; the
 * message is done. */
static void
message_remove(QMGR_MESSAGE *msg)
{
    VSTRING *path = vstring_alloc(256);

    if (queue_file_retire(QUEUE_ACTIVE, msg->queue_id) < 0)
        msg_warn("%s: remove %s: %m", msg->queue_id,
                 queue_path(path, QUEUE_ACTIVE, msg->queue_id));
    if (unlink(queue_path(path, QUEUE_DEFER, msg->queue_id)) < 0 && errno != ENOENT)
        msg_warn("%s: remove %s: %m", msg->queue_id, STR(path));
    msg_info("%s: removed", msg->queue_id);
    vstring_free(path);
}

/* Bounce every recipient still pending; 0 when all went to bounce/ID. */
static int
message_expire(QMGR_MESSAGE *msg)
{
    for (int i = 0; i < msg->rcpt_count; i++) {
        QMGR_RCPT *r = msg->rcpt + i;

        if (r->state == QMGR_RCPT_SENT || r->state == QMGR_RCPT_BOUNCED)
            continue;
        if (r->reason == 0)
            r->reason = mem_strdup("delivery time limit exceeded");
        if (r->dsn[0] != '4' && r->dsn[0] != '5')
            snprintf(r->dsn, sizeof(r->dsn), "4.4.7");
        if (qmgr_log_append(QUEUE_BOUNCE, msg, r, "failed") < 0)
            return -1;
        r->state = QMGR_RCPT_BOUNCED;
    }
    msg_info("%s: from=<%s>, status=expired, returned to sender",
             msg->queue_id, msg->sender);
    return 0;
}

/*
 * The time between attempts doubles as the message ages: the next try
 * is "age" seconds away, clamped to [min_backoff, max_backoff]. A message
 * that arrived long ago waits max_backoff; a fresh one min_backoff (also
 * when max_backoff is the smaller).
 */
long
qmgr_message_backoff(time_t now, time_t arrival, long min_backoff, long max_backoff)
{
    long    age = (long) (now - arrival);

    if (age > max_backoff)
        age = max_backoff;
    if (age < min_backoff)
        age = min_backoff;
    return age;
}

/* Move to deferred/ with the next retry time as mtime. */
static void
message_defer(QMGR_MESSAGE *msg, time_t now)
{
    VSTRING *path = vstring_alloc(256);
    struct timeval tv[2];
    long    delay = qmgr_message_backoff(now, (time_t) msg->arrival_time,
                                         var_min_backoff, var_max_backoff);

    tv[0].tv_sec = now;
    tv[0].tv_usec = 0;
    tv[1].tv_sec = now + delay;
    tv[1].tv_usec = 0;
    if (utimes(queue_path(path, QUEUE_ACTIVE, msg->queue_id), tv) < 0)
        msg_warn("%s: set retry time on %s: %m", msg->queue_id, STR(path));
    /* No fsync of deferred/: a move lost in a crash leaves the file in
     * active/, which goes back to incoming/ at start-up (an early retry). */
    if (queue_file_move(QUEUE_ACTIVE, QUEUE_DEFERRED, msg->queue_id, 0) < 0)
        msg_warn("%s: move to %s: %m", msg->queue_id, QUEUE_DEFERRED);
    vstring_free(path);
}

void
qmgr_message_finish(QMGR_MESSAGE *msg)
{
    time_t  now = time((time_t *) 0);
    int     pending = 0;
    long    lifetime;

    for (int i = 0; i < msg->rcpt_count; i++)
        if (msg->rcpt[i].state != QMGR_RCPT_SENT && msg->rcpt[i].state != QMGR_RCPT_BOUNCED)
            pending++;
    lifetime = *msg->sender ? var_max_queue_time : var_dsn_queue_time;
    if (pending > 0 && now - (time_t) msg->arrival_time >= lifetime
        && message_expire(msg) == 0)
        pending = 0;
    if (pending == 0) {
        if (qmgr_log_flush(QUEUE_BOUNCE, msg) < 0 || qmgr_log_flush(QUEUE_TRACE, msg) < 0) {
            message_mark_sent(msg);     /* qmgr_entry_done() may have skipped it */
            message_defer(msg, now);    /* keep it until the bounce is sent */
        } else {
            message_remove(msg);
        }
    } else {
        qmgr_warn_check(msg, now);
        message_defer(msg, now);
    }

    /* Out of the active list; room for another message. */
    if (msg->prev)
        msg->prev->next = msg->next;
    else
        qmgr_message_list = msg->next;
    if (msg->next)
        msg->next->prev = msg->prev;
    qmgr_message_count--;
    qmgr_rcpt_count -= msg->rcpt_count;
    qmgr_message_new -= msg->is_new;
    qmgr_message_free(msg);
    qmgr_sched_kick();
}
