/*
 * smtp_xforward.c - the client side of XFORWARD (Postfix's
 * XFORWARD_README): with smtp_send_xforward_command = yes and a server
 * that offers "XFORWARD NAME ADDR ...", the original client's attributes
 * go to the server before MAIL FROM, so that a content filter and the
 * MTA behind it log the client and queue id the message came in with.
 *
 * Interface (smtp.h):
 *   smtp_xforward_attrs(r)   the attribute names in the server's EHLO
 *       "XFORWARD" line, as SMTP_XFWD_* bits
 *   smtp_xforward_cmds(req, attrs, cmds, what)   the commands to send,
 *       as Postfix sends them: "XFORWARD NAME= ADDR= PORT=" (the
 *       "name/address" command) and "XFORWARD PROTO= HELO= IDENT= SOURCE="
 *       (the "helo/protocol" command); what[i] says which, for warnings
 *
 * Only attributes the server offers and that are known are sent: an
 * empty value or "unknown" is left out (as Postfix 3.7 does), a command
 * with no attribute is not sent. ADDR is "IPv6:..." for an IPv6 address;
 * SOURCE is LOCAL or REMOTE (the message's rewrite context); IDENT is the
 * queue id the message was first logged with (log_ident).
 *
 * SECURITY: the values come from the queue file (written by smtpd from
 * what a client or filter sent) and are xtext-encoded here, so no byte
 * outside 33..126 and no '=' or '+' reaches the command line unencoded.
 * A command stays within 512 bytes (RFC 5321) unless one attribute alone
 * is longer; then that attribute goes in a command of its own.
 *
 * DIAGNOSTICS: none here; a refused XFORWARD is a warning in smtp_proto.c
 * and the mail still goes.
 */
#include <string.h>
#include <strings.h>

#include "smtp.h"
#include "xtext.h"

#define SMTP_XFWD_CMD_MAX   512         /* with CRLF: an SMTP command line */

static const struct {
    const char *name;
    int     bit;
} smtp_xfwd_names[] = {
    {"NAME", SMTP_XFWD_NAME}, {"ADDR", SMTP_XFWD_ADDR}, {"PORT", SMTP_XFWD_PORT},
    {"PROTO", SMTP_XFWD_PROTO}, {"HELO", SMTP_XFWD_HELO}, {"IDENT", SMTP_XFWD_IDENT},
    {"SOURCE", SMTP_XFWD_SOURCE},
};

#define SMTP_XFWD_COUNT (sizeof(smtp_xfwd_names) / sizeof(smtp_xfwd_names[0]))

int
smtp_xforward_attrs(const SMTP_REPLY *r)
{
    int     attrs = 0;

    for (size_t i = 1; i < r->lines->argc; i++) {
        ARGV   *words = argv_split(r->lines->argv[i], " \t");

        if (words->argc > 0 && strcasecmp(words->argv[0], "XFORWARD") == 0)
            for (size_t w = 1; w < words->argc; w++)
                for (size_t k = 0; k < SMTP_XFWD_COUNT; k++)
                    if (strcasecmp(words->argv[w], smtp_xfwd_names[k].name) == 0)
                        attrs |= smtp_xfwd_names[k].bit;
        argv_free(words);
    }
    return attrs;
}

static int
smtp_xforward_avail(const char *value)
{
    return value && *value && strcmp(value, "unknown") != 0;
}

/* The value of one attribute for this message, or NULL. */
static const char *
smtp_xforward_value(const DELIVER_REQUEST *req, int bit)
{
    const char *ctx = req->rewrite_context;

    switch (bit) {
    case SMTP_XFWD_NAME:
        return req->client_name;
    case SMTP_XFWD_ADDR:
        return req->client_addr;
    case SMTP_XFWD_PORT:
        return req->client_port;
    case SMTP_XFWD_PROTO:
        return req->client_proto;
    case SMTP_XFWD_HELO:
        return req->client_helo;
    case SMTP_XFWD_IDENT:
        return req->log_ident;
    case SMTP_XFWD_SOURCE:
        return ctx && strcmp(ctx, "local") == 0 ? "LOCAL"
            : ctx && strcmp(ctx, "remote") == 0 ? "REMOTE" : NULL;
    }
    return NULL;
}

/* Append " NAME=value" to the command in progress (a new one when full). */
static void
smtp_xforward_add(ARGV *cmds, ARGV *what, VSTRING *cmd, const char *label,
                  const char *name, const char *value, int ipv6)
{
    VSTRING *attr = vstring_alloc(SMTP_XFWD_CMD_MAX * 4);

    vstring_sprintf(attr, " %s=%s", name, ipv6 ? "IPv6:" : "");
    xtext_encode(attr, value);
    if (LEN(cmd) > strlen("XFORWARD")
        && LEN(cmd) + LEN(attr) + 2 > SMTP_XFWD_CMD_MAX) {
        argv_add(cmds, STR(cmd));
        argv_add(what, label);
        vstring_strcpy(cmd, "XFORWARD");
    }
    vstring_cat(cmd, STR(attr));
    vstring_free(attr);
}

void
smtp_xforward_cmds(const DELIVER_REQUEST *req, int attrs, ARGV *cmds, ARGV *what)
{
    static const char *labels[] = {"XFORWARD name/address command",
                                   "XFORWARD helo/protocol command"};
    VSTRING *cmd = vstring_alloc(SMTP_XFWD_CMD_MAX * 4);
    int     group;
    size_t  k;

    for (group = 0; group < 2; group++) {
        vstring_strcpy(cmd, "XFORWARD");
        for (k = 0; k < SMTP_XFWD_COUNT; k++) {
            int     bit = smtp_xfwd_names[k].bit;
            const char *value = smtp_xforward_value(req, bit);

            if ((bit & SMTP_XFWD_CLIENT_GROUP ? 0 : 1) != group
                || !(attrs & bit) || !smtp_xforward_avail(value))
                continue;
            smtp_xforward_add(cmds, what, cmd, labels[group], smtp_xfwd_names[k].name, value,
                              bit == SMTP_XFWD_ADDR && strchr(value, ':') != NULL);
        }
        if (LEN(cmd) > strlen("XFORWARD")) {
            argv_add(cmds, STR(cmd));
            argv_add(what, labels[group]);
        }
    }
    vstring_free(cmd);
}
