/*
 * smtpd_sasl_dovecot.c - the client side of Dovecot's authentication
 * protocol (smtpd_sasl_type = dovecot), as spoken on Dovecot's
 * "auth" UNIX socket (Debian: smtpd_sasl_path = private/auth, a
 * unix_listener that Dovecot creates in Postfix's queue directory).
 *
 * Interface (smtpd_sasl.h):
 *   dovecot_connect()   connect to the socket and do the handshake:
 *                       we send "VERSION\t1\t2" and "CPID\t<pid>"; the
 *                       server sends VERSION, MECH lines (name and
 *                       flags), SPID, CUID, COOKIE, DONE
 *   dovecot_handshake() the server's side of the handshake, from a stream
 *   dovecot_auth()      send "AUTH\t<id>\t<mech>\tservice=...\tnologin\t
 *                       lip=...\trip=...[\tsecured][\tresp=<base64>]"
 *   dovecot_cont()      send "CONT\t<id>\t<base64>"
 *   dovecot_reply()     read the server's "OK", "CONT" or "FAIL" line
 *                       for request id: user= on OK, the base64
 *                       challenge on CONT, reason= (and temp) on FAIL
 *   dovecot_close()     forget the connection
 *
 * The mechanisms' flags (anonymous, plaintext, dictionary, active,
 * forward-secrecy, mutual-auth) are kept as DOVECOT_MECH_* bits so
 * smtpd_sasl_security_options can filter them, as Postfix does.
 *
 * SECURITY: the auth server is another process (it may be another
 * user's): its lines are untrusted. Lines are bounded
 * (DOVECOT_LINE_MAX; longer ones are a protocol error), at most
 * DOVECOT_MECH_MAX mechanisms are kept, a reply for another request id
 * is an error, a CONT challenge must be base64, and the user name (after
 * Dovecot's \001 unescaping) has control characters replaced with '?'
 * before it is logged or put into a header. Our own request fields are
 * the client's base64 (checked by the caller), a mechanism name from
 * Dovecot's list, and numeric addresses: no tab or newline can reach the
 * server from the SMTP client. Every read and write has a timeout
 * (the caller's).
 *
 * DIAGNOSTICS: dovecot_connect() logs "SASL: Connect to Dovecot auth
 * socket '...' failed: ..." and handshake errors as warnings; the others
 * return DOVECOT_ERROR and leave the logging to the caller.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "connect.h"
#include "mem.h"
#include "msg.h"
#include "smtpd_sasl.h"

/* Split a line (no newline) at tabs, in place; returns the field count. */
static size_t
dovecot_split(char *line, char **fields, size_t max)
{
    size_t  n = 0;

    while (n < max) {
        fields[n++] = line;
        if ((line = strchr(line, '\t')) == NULL)
            break;
        *line++ = 0;
    }
    return n;
}

/* Read one line into buf (newline removed): 1, 0 at EOF, -1 error/too long. */
static int
dovecot_read_line(STREAM *s, VSTRING *buf)
{
    ssize_t n = stream_gets(s, buf, DOVECOT_LINE_MAX);

    if (n <= 0)
        return n == 0 ? 0 : -1;
    if (STR(buf)[n - 1] != '\n')
        return -1;
    vstring_truncate(buf, (size_t) n - 1);
    if (memchr(STR(buf), 0, LEN(buf)) != NULL)
        return -1;
    return 1;
}

static int
dovecot_mech_flags(char **fields, size_t count)
{
    static const struct {
        const char *name;
        int     flag;
    } names[] = {
        {"anonymous", DOVECOT_MECH_ANONYMOUS}, {"plaintext", DOVECOT_MECH_PLAINTEXT},
        {"dictionary", DOVECOT_MECH_DICTIONARY}, {"active", DOVECOT_MECH_ACTIVE},
        {"forward-secrecy", DOVECOT_MECH_FORWARD_SECRECY},
        {"mutual-auth", DOVECOT_MECH_MUTUAL_AUTH},
    };
    int     flags = 0;

    for (size_t i = 0; i < count; i++)
        for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
            if (strcasecmp(fields[i], names[j].name) == 0)
                flags |= names[j].flag;
    return flags;
}

/* A mechanism name: letters, digits, '-' and '_' (RFC 4422), bounded. */
static int
dovecot_mech_name_ok(const char *name)
{
    size_t  len = strlen(name);

    if (len == 0 || len > DOVECOT_MECH_NAME_MAX)
        return 0;
    for (; *name; name++)
        if (!isalnum((unsigned char) *name) && *name != '-' && *name != '_')
            return 0;
    return 1;
}

void
dovecot_free_mechs(DOVECOT *d)
{
    for (size_t i = 0; i < d->mech_count; i++)
        mem_free(d->mechs[i].name);
    d->mech_count = 0;
}

int
dovecot_handshake(STREAM *s, DOVECOT *d, VSTRING *why)
{
    VSTRING *line = vstring_alloc(DOVECOT_LINE_MAX + 2);
    char   *f[DOVECOT_FIELD_MAX];
    size_t  n;
    int     st, version = 0, ret = -1;

    dovecot_free_mechs(d);
    while ((st = dovecot_read_line(s, line)) > 0) {
        n = dovecot_split(STR(line), f, DOVECOT_FIELD_MAX);
        if (strcmp(f[0], "VERSION") == 0) {
            if (n < 2 || strcmp(f[1], "1") != 0) {
                vstring_sprintf(why, "Protocol version mismatch (%.20s vs. 1)",
                                n < 2 ? "none" : f[1]);
                break;
            }
            version = 1;
        } else if (strcmp(f[0], "MECH") == 0 && n >= 2) {
            if (!dovecot_mech_name_ok(f[1]) || d->mech_count >= DOVECOT_MECH_MAX)
                continue;
            d->mechs[d->mech_count].name = mem_strdup(f[1]);
            d->mechs[d->mech_count++].flags = dovecot_mech_flags(f + 2, n - 2);
        } else if (strcmp(f[0], "DONE") == 0) {
            if (version)
                ret = 0;
            else
                vstring_strcpy(why, "Protocol version error");
            break;
        }
        /* SPID, CUID, COOKIE and what later versions add: not needed */
    }
    if (st <= 0)
        vstring_strcpy(why, st == 0 ? "Connection closed during handshake"
                       : "Protocol error during handshake");
    vstring_free(line);
    if (ret != 0)
        dovecot_free_mechs(d);
    return ret;
}

int
dovecot_connect(DOVECOT *d, const char *path, int timeout)
{
    VSTRING *why = vstring_alloc(100);
    int     fd;

    dovecot_close(d);
    if ((fd = unix_connect(path, timeout)) < 0) {
        msg_warn("SASL: Connect to Dovecot auth socket '%s' failed: %m", path);
        vstring_free(why);
        return -1;
    }
    fd_cloexec(fd, 1);
    d->stream = stream_fdopen(fd);
    stream_set_timeout(d->stream, timeout);
    if (stream_printf(d->stream, "VERSION\t1\t2\nCPID\t%ld\n", (long) getpid()) != 0
        || stream_flush(d->stream) != 0) {
        vstring_strcpy(why, "write error");
    } else if (dovecot_handshake(d->stream, d, why) == 0) {
        vstring_free(why);
        return 0;
    }
    msg_warn("SASL: Dovecot auth socket '%s': %s", path, STR(why));
    vstring_free(why);
    dovecot_close(d);
    return -1;
}

void
dovecot_close(DOVECOT *d)
{
    if (d->stream != NULL)
        (void) stream_close(d->stream);
    d->stream = NULL;
    dovecot_free_mechs(d);
}

int
dovecot_auth(DOVECOT *d, const char *mech, const char *service, const char *lip,
             const char *rip, int secured, const char *resp)
{
    d->id++;
    stream_printf(d->stream, "AUTH\t%lu\t%s\tservice=%s\tnologin", d->id, mech, service);
    if (lip && *lip)
        stream_printf(d->stream, "\tlip=%s", lip);
    if (rip && *rip)
        stream_printf(d->stream, "\trip=%s", rip);
    if (secured)
        stream_puts(d->stream, "\tsecured");
    if (resp)
        stream_printf(d->stream, "\tresp=%s", resp);
    stream_puts(d->stream, "\n");
    return stream_flush(d->stream) == 0 ? 0 : -1;
}

int
dovecot_cont(DOVECOT *d, const char *resp)
{
    stream_printf(d->stream, "CONT\t%lu\t%s\n", d->id, resp);
    return stream_flush(d->stream) == 0 ? 0 : -1;
}

/* Dovecot's tab escaping: \001 followed by 1, t, r, n or 0. Printable. */
static void
dovecot_unescape(VSTRING *out, const char *in)
{
    vstring_truncate(out, 0);
    for (; *in; in++) {
        int     ch = (unsigned char) *in;

        if (ch == 1 && in[1]) {
            in++;
            ch = *in == '1' ? 1 : *in == 't' ? '\t' : *in == 'r' ? '\r'
                : *in == 'n' ? '\n' : *in == '0' ? 0 : *in;
        }
        vstring_addch(out, ch < 0x20 || ch == 0x7f ? '?' : ch);
    }
}

/* Base64 text (RFC 4648 alphabet, '=' padding), possibly empty. */
int
dovecot_base64_ok(const char *text)
{
    size_t  len = strlen(text), pad = 0;

    if (len % 4 != 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        int     ch = (unsigned char) text[i];

        if (ch == '=') {
            if (i + 2 < len || ++pad > 2)
                return 0;
        } else if (pad || !(isalnum(ch) || ch == '+' || ch == '/')) {
            return 0;
        }
    }
    return 1;
}

int
dovecot_reply(STREAM *s, unsigned long id, VSTRING *data, VSTRING *user, VSTRING *reason)
{
    VSTRING *line = vstring_alloc(DOVECOT_LINE_MAX + 2);
    char   *f[DOVECOT_FIELD_MAX], *end;
    size_t  n;
    int     ret = DOVECOT_ERROR, temp = 0;

    vstring_truncate(data, 0);
    vstring_truncate(user, 0);
    vstring_truncate(reason, 0);
    if (dovecot_read_line(s, line) <= 0)
        goto out;
    n = dovecot_split(STR(line), f, DOVECOT_FIELD_MAX);
    if (n < 2 || strtoul(f[1], &end, 10) != id || *end || !isdigit((unsigned char) *f[1]))
        goto out;
    if (strcmp(f[0], "CONT") == 0) {
        if (n >= 3 && dovecot_base64_ok(f[2])) {
            vstring_strcpy(data, f[2]);
            ret = DOVECOT_CONT;
        }
        goto out;
    }
    if (strcmp(f[0], "OK") != 0 && strcmp(f[0], "FAIL") != 0)
        goto out;
    for (size_t i = 2; i < n; i++) {
        if (strncmp(f[i], "user=", 5) == 0)
            dovecot_unescape(user, f[i] + 5);
        else if (strncmp(f[i], "reason=", 7) == 0)
            dovecot_unescape(reason, f[i] + 7);
        else if (strcmp(f[i], "temp") == 0 || strcmp(f[i], "code=temp_fail") == 0)
            temp = 1;
    }
    if (strcmp(f[0], "OK") == 0)
        ret = LEN(user) > 0 ? DOVECOT_OK : DOVECOT_ERROR;     /* no user: protocol error */
    else
        ret = temp ? DOVECOT_TEMP : DOVECOT_FAIL;
  out:
    vstring_free(line);
    return ret;
}
