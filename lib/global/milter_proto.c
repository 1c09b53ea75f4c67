/*
 * milter_proto.c - one milter connection: packets, option negotiation,
 * events and their replies (see milter.h).
 *
 * A packet is a 4-byte length in network byte order, then that many
 * bytes: a command or reply byte and its data. Strings are NUL-terminated.
 *
 * SECURITY: the milter's bytes are untrusted. milter_read() refuses a
 * length of 0 or above MILTER_PACKET_MAX before reading the data;
 * milter_reply_parse() checks that every string is terminated inside the
 * packet and that numbers fit; a reply code must be 4xx or 5xx and is cut
 * at the first control character; a modification the milter did not ask
 * for at negotiation, or a reply that does not fit the event, makes the
 * milter fail (its default_action answers).
 *
 * DIAGNOSTICS: warnings name the milter: cannot connect, read/write
 * errors and timeouts, malformed or unexpected replies.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "connect.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"

/* ---- reply parsing (no I/O: fuzzed) ---------------------------------------- */

static int
milter_get_u32(const char **p, const char *end, unsigned long *val)
{
    const unsigned char *u = (const unsigned char *) *p;

    if (end - *p < 4)
        return -1;
    *val = ((unsigned long) u[0] << 24) | ((unsigned long) u[1] << 16)
        | ((unsigned long) u[2] << 8) | u[3];
    *p += 4;
    return 0;
}

/* A NUL-terminated string inside [*p, end). */
static int
milter_get_str(const char **p, const char *end, const char **str)
{
    const char *nul = memchr(*p, 0, end - *p);

    if (nul == NULL)
        return -1;
    *str = *p;
    *p = nul + 1;
    return 0;
}

/* An SMTP reply from SMFIR_REPLYCODE: "4xx"/"5xx", then ' ' or '-' or end. */
static int
milter_reply_code_ok(const char *text)
{
    return (text[0] == '4' || text[0] == '5')
        && text[1] >= '0' && text[1] <= '9' && text[2] >= '0' && text[2] <= '9'
        && (text[3] == ' ' || text[3] == '-' || text[3] == 0);
}

/* A header name: printable ASCII without ':' (RFC 5322 ftext), not empty. */
static int
milter_hdr_name_ok(const char *name)
{
    if (*name == 0)
        return 0;
    for (; *name; name++)
        if ((unsigned char) *name < 33 || (unsigned char) *name > 126 || *name == ':')
            return 0;
    return 1;
}

/* Addresses, ESMTP arguments, reasons: no control characters. */
static int
milter_text_ok(const char *text)
{
    for (; text && *text; text++)
        if ((unsigned char) *text < 32 || (unsigned char) *text == 127)
            return 0;
    return 1;
}

static int
milter_parse_header(MILTER_REPLY *r, const char *p, const char *end)
{
    unsigned long idx;

    if (r->cmd != SMFIR_ADDHEADER) {
        if (milter_get_u32(&p, end, &idx) || idx > 0x7fffffffUL)
            return -1;
        r->index = (long) idx;
    }
    return milter_get_str(&p, end, &r->name) || milter_get_str(&p, end, &r->value)
        || !milter_hdr_name_ok(r->name) ? -1 : 0;
}

static int
milter_parse_strings(MILTER_REPLY *r, const char *p, const char *end)
{
    switch (r->cmd) {
    case SMFIR_ADDHEADER:
    case SMFIR_INSHEADER:
    case SMFIR_CHGHEADER:
        return milter_parse_header(r, p, end);
    case SMFIR_ADDRCPT:
    case SMFIR_DELRCPT:
    case SMFIR_QUARANTINE:
        return milter_get_str(&p, end, &r->name) || !milter_text_ok(r->name) ? -1 : 0;
    case SMFIR_ADDRCPT_PAR:
    case SMFIR_CHGFROM:
        if (milter_get_str(&p, end, &r->name) || !milter_text_ok(r->name))
            return -1;
        if (p < end && (milter_get_str(&p, end, &r->args) || !milter_text_ok(r->args)))
            return -1;
        return 0;
    case SMFIR_REPLYCODE:
        if (milter_get_str(&p, end, &r->name) || !milter_reply_code_ok(r->name))
            return -1;
        return 0;
    default:
        return -1;
    }
}

int
milter_reply_parse(const char *pkt, size_t len, MILTER_REPLY *r)
{
    const char *p = pkt + 1;
    const char *end = pkt + len;

    memset(r, 0, sizeof(*r));
    if (len < 1)
        return -1;
    r->cmd = (unsigned char) pkt[0];
    switch (r->cmd) {
    case SMFIR_ACCEPT:
    case SMFIR_CONTINUE:
    case SMFIR_DISCARD:
    case SMFIR_REJECT:
    case SMFIR_TEMPFAIL:
    case SMFIR_PROGRESS:
    case SMFIR_SKIP:
    case SMFIR_SHUTDOWN:
    case SMFIR_CONN_FAIL:
        return 0;               /* data, if any, is ignored */
    case SMFIR_REPLBODY:
        r->data = p;
        r->len = end - p;
        return 0;
    case SMFIC_OPTNEG:
        if (milter_get_u32(&p, end, &r->version) || milter_get_u32(&p, end, &r->actions)
            || milter_get_u32(&p, end, &r->pflags))
            return -1;
        r->data = p;
        r->len = end - p;
        return 0;
    default:
        return milter_parse_strings(r, p, end);
    }
}

int
milter_symlist_parse(const char *data, size_t len, ARGV **lists)
{
    const char *p = data, *end = data + len;
    unsigned long stage;
    const char *names;

    while (p < end) {
        if (milter_get_u32(&p, end, &stage) || milter_get_str(&p, end, &names)
            || stage > MILTER_MAC_EOH || strlen(names) > MILTER_MACROS_MAX)
            return -1;
        argv_free(lists[stage]);
        lists[stage] = argv_split(names, " \t,");
    }
    return 0;
}

/* ---- packets ----------------------------------------------------------------- */

static int
milter_write(MILTER *m, int cmd, const char *data, size_t len)
{
    unsigned char hdr[5];
    uint32_t n = htonl((uint32_t) (len + 1));

    memcpy(hdr, &n, 4);
    hdr[4] = (unsigned char) cmd;
    if (stream_write(m->fp, hdr, 5) < 0 || (len && stream_write(m->fp, data, len) < 0)
        || stream_flush(m->fp) < 0) {
        msg_warn("milter %s: %s while sending command '%c': %s", m->name,
                 stream_timeout(m->fp) ? "timeout" : "error", cmd,
                 stream_timeout(m->fp) ? "timed out" : strerror(stream_errno(m->fp)));
        return -1;
    }
    return 0;
}

/* One packet into m->pkt; 0 or -1. */
static int
milter_read(MILTER *m)
{
    unsigned char hdr[4];
    uint32_t n;

    if (stream_read(m->fp, hdr, 4) != 4)
        goto lost;
    memcpy(&n, hdr, 4);
    n = ntohl(n);
    if (n < 1 || n > MILTER_PACKET_MAX) {
        msg_warn("milter %s: bad packet length %lu", m->name, (unsigned long) n);
        return -1;
    }
    char   *buf = mem_alloc(n);
    ssize_t got = stream_read(m->fp, buf, n);
    if (got == (ssize_t) n)
        vstring_ncpy(m->pkt, buf, n);
    mem_free(buf);
    if (got != (ssize_t) n)
        goto lost;
    return 0;
lost:
    msg_warn("milter %s: %s while reading a reply", m->name,
             stream_timeout(m->fp) ? "timeout" : "lost connection");
    return -1;
}

/* ---- connection -------------------------------------------------------------- */

static int
milter_connect_socket(MILTER *m)
{
    const char *spec = m->name;

    if (strncmp(spec, "inet:", 5) == 0)
        return inet_connect_spec(spec + 5, (int) m->conn_timeout);
    if (strncmp(spec, "unix:", 5) == 0)
        return unix_connect(spec + 5, (int) m->conn_timeout);
    if (strncmp(spec, "local:", 6) == 0)
        return unix_connect(spec + 6, (int) m->conn_timeout);
    if (*spec == '/')
        return unix_connect(spec, (int) m->conn_timeout);
    errno = EINVAL;
    return -1;
}

/* What we offer for each milter_protocol version. */
static void
milter_offer(int version, unsigned long *actions, unsigned long *pflags)
{
    *actions = version >= 6 ? 0x1FF : 0x3F;
    if (version <= 2)
        *pflags = 0x7F;
    else if (version == 3)
        *pflags = 0x17F;
    else if (version < 6)
        *pflags = 0x3FF;
    else
        *pflags = 0x1FFFFF & ~SMFIP_RCPT_REJ;
}

static int
milter_negotiate(MILTER *m)
{
    unsigned long actions, pflags;
    unsigned char buf[12];
    uint32_t v[3];
    MILTER_REPLY r;

    milter_offer(m->protocol, &actions, &pflags);
    v[0] = htonl((uint32_t) m->protocol);
    v[1] = htonl((uint32_t) actions);
    v[2] = htonl((uint32_t) pflags);
    memcpy(buf, v, 12);
    if (milter_write(m, SMFIC_OPTNEG, (char *) buf, 12) < 0 || milter_read(m) < 0)
        return -1;
    if (milter_reply_parse(STR(m->pkt), LEN(m->pkt), &r) < 0 || r.cmd != SMFIC_OPTNEG) {
        msg_warn("milter %s: bad option negotiation reply", m->name);
        return -1;
    }
    r.pflags &= ~(unsigned long) (SMFIP_MDS_256K | SMFIP_MDS_1M);
    if (r.version < 2 || (r.actions & ~actions) || (r.pflags & ~pflags)) {
        msg_warn("milter %s: version %lu, actions 0x%lx or protocol 0x%lx not offered",
                 m->name, r.version, r.actions, r.pflags);
        return -1;
    }
    m->version = r.version > (unsigned long) m->protocol ? (unsigned long) m->protocol : r.version;
    m->actions = r.actions;
    m->pflags = r.pflags;
    if (r.len > 0 && (r.actions & SMFIF_SETSYMLIST)
        && milter_symlist_parse(r.data, r.len, m->symlist) < 0) {
        msg_warn("milter %s: bad macro list in negotiation", m->name);
        return -1;
    }
    return 0;
}

int
milter_open(MILTER *m)
{
    int     fd = milter_connect_socket(m);

    if (fd < 0) {
        msg_warn("milter %s: can't connect: %s", m->name, strerror(errno));
        m->state = MILTER_ST_ERROR;
        return -1;
    }
    m->fd = fd;
    m->fp = stream_fdopen(fd);
    stream_set_timeout(m->fp, (int) m->conn_timeout);
    if (milter_negotiate(m) < 0) {
        milter_close(m, 0);
        m->state = MILTER_ST_ERROR;
        return -1;
    }
    m->state = MILTER_ST_READY;
    return 0;
}

void
milter_close(MILTER *m, int quit)
{
    if (m->fp) {
        if (quit) {
            stream_set_timeout(m->fp, (int) m->cmd_timeout);
            (void) milter_write(m, SMFIC_QUIT, "", 0);
        }
        (void) stream_close(m->fp);
    }
    m->fp = NULL;
    m->fd = -1;
}

/* ---- events ------------------------------------------------------------------ */

int
milter_failed(MILTER *m, VSTRING *reply)
{
    if (m->fp)
        milter_close(m, 0);
    m->state = MILTER_ST_ERROR;
    switch (m->def_action) {
    case MILTER_DEF_ACCEPT:
        return MILTER_CONTINUE;
    case MILTER_DEF_QUARANTINE:
        m->hold = 1;
        return MILTER_CONTINUE;
    case MILTER_DEF_REJECT:
        vstring_strcpy(reply, "550 5.7.1 Command rejected");
        return MILTER_REJECT;
    default:
        vstring_strcpy(reply, "451 4.7.1 Service unavailable - try again later");
        return MILTER_TEMPFAIL;
    }
}

/* Macros for a stage, when the caller has values for them. */
static int
milter_macros(MILTERS *ms, MILTER *m, int cmd, int stage)
{
    ARGV   *names = m->symlist[stage] ? m->symlist[stage] : ms->macros[stage];
    VSTRING *buf;
    int     ret = 0;

    if (names == NULL || names->argc == 0)
        return 0;
    buf = vstring_alloc(MILTER_PACKET_MAX - 1);
    vstring_addch(buf, cmd);
    for (size_t i = 0; i < names->argc; i++) {
        const char *val = milters_macro_get(ms, names->argv[i]);
        if (val == NULL)
            continue;
        vstring_ncat(buf, names->argv[i], strlen(names->argv[i]) + 1);
        vstring_ncat(buf, val, strlen(val) + 1);
    }
    if (LEN(buf) > 1 && !buf->overflow)
        ret = milter_write(m, SMFIC_MACRO, STR(buf), LEN(buf));
    vstring_free(buf);
    return ret;
}

/* The protocol steps that skip an event, and that skip its reply. */
static unsigned long
milter_no_event(int cmd)
{
    switch (cmd) {
    case SMFIC_CONNECT: return SMFIP_NOCONNECT;
    case SMFIC_HELO:    return SMFIP_NOHELO;
    case SMFIC_MAIL:    return SMFIP_NOMAIL;
    case SMFIC_RCPT:    return SMFIP_NORCPT;
    case SMFIC_DATA:    return SMFIP_NODATA;
    case SMFIC_HEADER:  return SMFIP_NOHDRS;
    case SMFIC_EOH:     return SMFIP_NOEOH;
    case SMFIC_BODY:    return SMFIP_NOBODY;
    case SMFIC_UNKNOWN: return SMFIP_NOUNKNOWN;
    default:            return 0;
    }
}

static unsigned long
milter_no_reply(int cmd)
{
    switch (cmd) {
    case SMFIC_CONNECT: return SMFIP_NR_CONN;
    case SMFIC_HELO:    return SMFIP_NR_HELO;
    case SMFIC_MAIL:    return SMFIP_NR_MAIL;
    case SMFIC_RCPT:    return SMFIP_NR_RCPT;
    case SMFIC_DATA:    return SMFIP_NR_DATA;
    case SMFIC_HEADER:  return SMFIP_NR_HDR;
    case SMFIC_EOH:     return SMFIP_NR_EOH;
    case SMFIC_BODY:    return SMFIP_NR_BODY;
    case SMFIC_UNKNOWN: return SMFIP_NR_UNKN;
    default:            return 0;
    }
}

/* A final reply to an event: the verdict. */
static int
milter_verdict(MILTER *m, int cmd, const MILTER_REPLY *r, VSTRING *reply)
{
    int     conn = cmd == SMFIC_CONNECT || cmd == SMFIC_HELO;

    switch (r->cmd) {
    case SMFIR_CONTINUE:
        return MILTER_CONTINUE;
    case SMFIR_ACCEPT:
        m->state = conn ? MILTER_ST_DONE : MILTER_ST_ACCEPT;
        return MILTER_ACCEPT;
    case SMFIR_REJECT:
        vstring_strcpy(reply, "550 5.7.1 Command rejected");
        return MILTER_REJECT;
    case SMFIR_TEMPFAIL:
        vstring_strcpy(reply, "451 4.7.1 Service unavailable - try again later");
        return MILTER_TEMPFAIL;
    case SMFIR_REPLYCODE: {
        size_t  n = strcspn(r->name, "\r\n\t\f\v\b\a\x1b");
        vstring_ncpy(reply, r->name, n > MILTER_REPLY_MAX ? MILTER_REPLY_MAX : n);
        if (LEN(reply) > 3 && STR(reply)[3] == '-')    /* only the first line is kept */
            STR(reply)[3] = ' ';
    }
        return r->name[0] == '4' ? MILTER_TEMPFAIL : MILTER_REJECT;
    case SMFIR_DISCARD:
        if (conn)
            break;
        m->state = MILTER_ST_ACCEPT;
        return MILTER_DISCARD;
    case SMFIR_SHUTDOWN:
    case SMFIR_CONN_FAIL:
        vstring_strcpy(reply, "421 4.7.0 Server closing connection");
        m->state = MILTER_ST_DONE;
        return MILTER_SHUTDOWN;
    case SMFIR_SKIP:
        if (cmd != SMFIC_BODY || !(m->pflags & SMFIP_SKIP))
            break;
        m->skip_body = 1;
        return MILTER_CONTINUE;
    }
    msg_warn("milter %s: unexpected reply '%c' to command '%c'", m->name, r->cmd, cmd);
    return milter_failed(m, reply);
}

/* Read replies until a final one (skipping PROGRESS); 0 or -1. */
static int
milter_read_reply(MILTER *m, MILTER_REPLY *r)
{
    for (;;) {
        if (milter_read(m) < 0)
            return -1;
        if (milter_reply_parse(STR(m->pkt), LEN(m->pkt), r) < 0) {
            msg_warn("milter %s: malformed reply '%c'", m->name, STR(m->pkt)[0]);
            return -1;
        }
        if (r->cmd != SMFIR_PROGRESS)
            return 0;
    }
}

int
milter_event(MILTERS *ms, MILTER *m, int cmd, int stage, const char *data, size_t len,
             VSTRING *reply)
{
    MILTER_REPLY r;
    long    timeout;

    if (m->state == MILTER_ST_ERROR)
        return m->def_action == MILTER_DEF_ACCEPT || m->def_action == MILTER_DEF_QUARANTINE
            ? MILTER_CONTINUE : milter_failed(m, reply);
    if (m->state != MILTER_ST_READY || (m->pflags & milter_no_event(cmd)))
        return MILTER_CONTINUE;
    if (cmd == SMFIC_BODY && m->skip_body)
        return MILTER_CONTINUE;
    timeout = (cmd == SMFIC_HEADER || cmd == SMFIC_EOH || cmd == SMFIC_BODY
               || cmd == SMFIC_BODYEOB) ? m->content_timeout : m->cmd_timeout;
    stream_set_timeout(m->fp, (int) timeout);
    if ((stage >= 0 && milter_macros(ms, m, cmd, stage) < 0)
        || milter_write(m, cmd, data, len) < 0)
        return milter_failed(m, reply);
    if (cmd == SMFIC_ABORT || (m->pflags & milter_no_reply(cmd)))
        return MILTER_CONTINUE;
    if (milter_read_reply(m, &r) < 0)
        return milter_failed(m, reply);
    return milter_verdict(m, cmd, &r, reply);
}

int
milter_header(MILTERS *ms, MILTER *m, const char *text, size_t len, VSTRING *reply)
{
    const char *colon = memchr(text, ':', len);
    VSTRING *buf;
    int     ret;

    if (colon == NULL)
        return MILTER_CONTINUE;
    buf = vstring_alloc(VSTRING_UNLIMITED);
    vstring_ncat(buf, text, colon - text);
    while (LEN(buf) > 0 && (STR(buf)[LEN(buf) - 1] == ' ' || STR(buf)[LEN(buf) - 1] == '\t'))
        vstring_truncate(buf, LEN(buf) - 1);
    vstring_addch(buf, 0);
    colon++;
    if (!(m->pflags & SMFIP_HDR_LEADSPC) && colon < text + len && *colon == ' ')
        colon++;
    vstring_ncat(buf, colon, text + len - colon);
    vstring_addch(buf, 0);
    ret = milter_event(ms, m, SMFIC_HEADER, -1, STR(buf), LEN(buf), reply);
    vstring_free(buf);
    return ret;
}

int
milter_eoh(MILTERS *ms, MILTER *m, VSTRING *reply)
{
    return milter_event(ms, m, SMFIC_EOH, MILTER_MAC_EOH, "", 0, reply);
}

int
milter_body(MILTERS *ms, MILTER *m, const char *data, size_t len, VSTRING *reply)
{
    int     ret = MILTER_CONTINUE;

    while (len > 0 && ret == MILTER_CONTINUE) {
        size_t  n = len > MILTER_CHUNK_SIZE ? MILTER_CHUNK_SIZE : len;
        ret = milter_event(ms, m, SMFIC_BODY, -1, data, n, reply);
        data += n;
        len -= n;
    }
    return ret;
}

/* ---- end of message ------------------------------------------------------------ */

void
milter_edits_init(MILTER_EDITS *e, size_t body_max)
{
    memset(e, 0, sizeof(*e));
    e->body_max = body_max;
}

void
milter_edits_free(MILTER_EDITS *e)
{
    for (size_t i = 0; i < e->count; i++) {
        mem_free(e->list[i].name);
        mem_free(e->list[i].value);
        mem_free(e->list[i].args);
    }
    mem_free(e->list);
    vstring_free(e->body);
    memset(e, 0, sizeof(*e));
}

/* The action bit a modification needs. */
static unsigned long
milter_edit_action(int cmd)
{
    switch (cmd) {
    case SMFIR_ADDHEADER:
    case SMFIR_INSHEADER:   return SMFIF_ADDHDRS;
    case SMFIR_CHGHEADER:   return SMFIF_CHGHDRS;
    case SMFIR_ADDRCPT:     return SMFIF_ADDRCPT;
    case SMFIR_ADDRCPT_PAR: return SMFIF_ADDRCPT_PAR;
    case SMFIR_DELRCPT:     return SMFIF_DELRCPT;
    case SMFIR_CHGFROM:     return SMFIF_CHGFROM;
    case SMFIR_REPLBODY:    return SMFIF_CHGBODY;
    case SMFIR_QUARANTINE:  return SMFIF_QUARANTINE;
    default:                return 0;
    }
}

/* Keep one modification; 0, or -1 when the milter may not make it. */
static int
milter_edit_add(MILTER *m, MILTER_EDITS *e, const MILTER_REPLY *r)
{
    unsigned long need = milter_edit_action(r->cmd);
    MILTER_EDIT *ed;

    if ((m->actions & need) == 0) {
        msg_warn("milter %s: modification '%c' was not negotiated", m->name, r->cmd);
        return -1;
    }
    e->bytes += r->len + (r->name ? strlen(r->name) : 0) + (r->value ? strlen(r->value) : 0)
        + (r->args ? strlen(r->args) : 0);
    if (e->count >= MILTER_EDITS_MAX || e->bytes > e->body_max + MILTER_PACKET_MAX) {
        msg_warn("milter %s: too many modifications", m->name);
        return -1;
    }
    if (r->cmd == SMFIR_REPLBODY) {
        if (e->body == NULL)
            e->body = vstring_alloc(e->body_max);
        if (vstring_ncat(e->body, r->data, r->len) < 0)
            e->body_overflow = 1;
        return 0;
    }
    if (e->count == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 8;
        e->list = mem_realloc_array(e->list, e->cap, sizeof(*e->list));
    }
    ed = &e->list[e->count++];
    ed->cmd = r->cmd;
    ed->index = r->index;
    ed->name = mem_strdup(r->name);
    ed->value = r->value ? mem_strdup(r->value) : NULL;
    ed->args = r->args ? mem_strdup(r->args) : NULL;
    return 0;
}

int
milter_eom(MILTERS *ms, MILTER *m, MILTER_EDITS *e, VSTRING *reply)
{
    MILTER_REPLY r;

    if (m->state == MILTER_ST_ERROR || m->state != MILTER_ST_READY)
        return milter_event(ms, m, SMFIC_BODYEOB, -1, "", 0, reply);
    stream_set_timeout(m->fp, (int) m->content_timeout);
    if (milter_macros(ms, m, SMFIC_BODYEOB, MILTER_MAC_EOM) < 0
        || milter_write(m, SMFIC_BODYEOB, "", 0) < 0)
        return milter_failed(m, reply);
    for (;;) {
        if (milter_read_reply(m, &r) < 0)
            return milter_failed(m, reply);
        if (milter_edit_action(r.cmd) == 0)
            break;
        if (milter_edit_add(m, e, &r) < 0)
            return milter_failed(m, reply);
    }
    m->skip_body = 0;
    if (r.cmd == SMFIR_SKIP)
        r.cmd = SMFIR_CONTINUE;
    int     ret = milter_verdict(m, SMFIC_BODYEOB, &r, reply);
    if (m->state == MILTER_ST_ACCEPT)
        m->state = MILTER_ST_READY;             /* the next message */
    return ret;
}
