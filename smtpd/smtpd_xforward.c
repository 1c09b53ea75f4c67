/*
 * smtpd_xforward.c - the XFORWARD command (Postfix's XFORWARD_README):
 * a content filter that received a message from this MTA passes the
 * up-stream client's attributes back with the re-injected message.
 *
 * Interface (smtpd.h):
 *   smtpd_xforward_allowed(state)   is the client in
 *       smtpd_authorized_xforward_hosts? (EHLO then offers "XFORWARD NAME
 *       ADDR PROTO HELO SOURCE PORT IDENT")
 *   smtpd_xforward_cmd(state, argc, argv)   "XFORWARD attr=value ...":
 *       250 2.0.0 Ok, or Postfix's 501/503/550 replies
 *   smtpd_xforward_reset(state)     forget them (end of each transaction:
 *       after the message, RSET, HELO/EHLO)
 *   SMTPD_FWD_*(state)              the forwarded value when an XFORWARD
 *       was accepted, else the real client's
 *
 * As in Postfix 3.7 (compared with Debian's Postfix): the forwarded
 * attributes go into the queue file as the log_* attributes (log_ident,
 * log_client_name, ...; the smtp client passes them on with its own
 * XFORWARD), into the "ID: client=..., orig_queue_id=..., orig_client=..."
 * log line, and SOURCE decides the rewrite context. The Received: header,
 * the other log lines and the restrictions keep naming the real client
 * (the filter host), as Postfix's do. Once one attribute is accepted, the
 * others not (yet) given are "unknown" (HELO and IDENT: none; IDENT then
 * falls back to our own queue id, SOURCE to the real client's context).
 * "[UNAVAILABLE]" sets an attribute to that unknown value.
 *
 * SECURITY: only clients in smtpd_authorized_xforward_hosts may use the
 * command (others get 550 5.7.0); the values are untrusted text: xtext is
 * decoded (an undecodable value is taken as sent, as Postfix does), each
 * value is at most 255 bytes, NAME must be a host name, ADDR a numeric
 * address (IPv6 as "IPv6:..."), PORT digits, PROTO at most 64 bytes, SOURCE LOCAL or REMOTE,
 * and HELO/PROTO/IDENT are stored printable. They are only logged
 * (escaped), written as queue file attributes, and forwarded xtext-encoded.
 *
 * DIAGNOSTICS: none; bad attributes and unauthorized clients get Postfix's
 * 501/550 replies, nothing is logged as a warning.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mem.h"
#include "msg.h"
#include "netmatch.h"
#include "printable.h"
#include "smtpd.h"
#include "valid_hostname.h"
#include "xtext.h"

#define XF_UNAVAILABLE  "[UNAVAILABLE]"
#define XF_UNKNOWN      "unknown"
#define XF_VALUE_MAX    255         /* "attribute value too long" */
#define XF_PROTO_MAX    64

int
smtpd_xforward_allowed(SMTPD_STATE *state)
{
    return smtpd_conf.xforward_hosts
        && netmatch_match(smtpd_conf.xforward_hosts, state->name, state->addr) > 0;
}

static void
smtpd_xforward_set(char **slot, const char *value)
{
    mem_free(*slot);
    *slot = value ? mem_strdup(value) : NULL;
}

void
smtpd_xforward_reset(SMTPD_STATE *state)
{
    SMTPD_XFORWARD *xf = &state->xforward;

    mem_free(xf->name);
    mem_free(xf->addr);
    mem_free(xf->port);
    mem_free(xf->proto);
    mem_free(xf->helo);
    mem_free(xf->ident);
    mem_free(xf->domain);
    mem_free(xf->namaddr);
    memset(xf, 0, sizeof(*xf));
}

/* The first accepted attribute: the others start as "unknown". */
static void
smtpd_xforward_preset(SMTPD_XFORWARD *xf)
{
    if (xf->active)
        return;
    xf->active = 1;
    xf->name = mem_strdup(XF_UNKNOWN);
    xf->addr = mem_strdup(XF_UNKNOWN);
    xf->port = mem_strdup(XF_UNKNOWN);
    xf->proto = mem_strdup(XF_UNKNOWN);
}

/* "name[addr]", or the name alone when the address is unknown. */
static void
smtpd_xforward_namaddr(SMTPD_XFORWARD *xf)
{
    mem_free(xf->namaddr);
    xf->namaddr = strcmp(xf->addr, XF_UNKNOWN) == 0 ? mem_strdup(xf->name)
        : mem_printf("%s[%s]", xf->name, xf->addr);
}

static int
smtpd_xforward_digits(const char *value)
{
    if (*value == 0)
        return 0;
    for (const char *cp = value; *cp; cp++)
        if (!isdigit((unsigned char) *cp))
            return 0;
    return 1;
}

/* IPv4, or IPv6 with the "IPv6:" prefix (any case; a bare IPv6 address
 * is refused, as Postfix does); the plain form, or NULL. */
static const char *
smtpd_xforward_addr(const char *value)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (strncasecmp(value, "IPv6:", 5) == 0) {
        value += 5;
        return inet_pton(AF_INET6, value, buf) == 1 ? value : NULL;
    }
    return inet_pton(AF_INET, value, buf) == 1 ? value : NULL;
}

/*
 * One attribute (value decoded). 0: stored; -1: bad value, the reply is
 * "Bad NAME syntax: value"; -2: unknown attribute name.
 */
static int
smtpd_xforward_attr(SMTPD_XFORWARD *xf, const char *attr, char *value)
{
    int     unavail = strcmp(value, XF_UNAVAILABLE) == 0;
    const char *v = unavail ? XF_UNKNOWN : value;

    if (strcasecmp(attr, "NAME") == 0) {
        if (!unavail && !valid_hostname(value, 0))
            return -1;
        smtpd_xforward_set(&xf->name, v);
    } else if (strcasecmp(attr, "ADDR") == 0) {
        if (!unavail && (v = smtpd_xforward_addr(value)) == NULL)
            return -1;
        smtpd_xforward_set(&xf->addr, v);
    } else if (strcasecmp(attr, "PORT") == 0) {
        if (!unavail && !smtpd_xforward_digits(value))
            return -1;
        smtpd_xforward_set(&xf->port, v);
    } else if (strcasecmp(attr, "PROTO") == 0) {
        if (strlen(value) > XF_PROTO_MAX)
            return -1;
        smtpd_xforward_set(&xf->proto, unavail ? v : printable_fix(value, 0));
    } else if (strcasecmp(attr, "HELO") == 0) {
        smtpd_xforward_set(&xf->helo, unavail ? NULL : printable_fix(value, 0));
    } else if (strcasecmp(attr, "IDENT") == 0) {
        smtpd_xforward_set(&xf->ident, unavail ? NULL : printable_fix(value, 0));
    } else if (strcasecmp(attr, "SOURCE") == 0) {
        if (strcasecmp(value, "LOCAL") == 0)
            smtpd_xforward_set(&xf->domain, "local");
        else if (strcasecmp(value, "REMOTE") == 0)
            smtpd_xforward_set(&xf->domain, "remote");
        else if (unavail)
            smtpd_xforward_set(&xf->domain, NULL);
        else
            return -1;
    } else {
        return -2;
    }
    if (strcasecmp(attr, "IDENT") != 0 && strcasecmp(attr, "SOURCE") != 0)
        xf->client = 1;                 /* logged as orig_client= */
    return 0;
}

/* Checks before any attribute is looked at; -1: replied. */
static int
smtpd_xforward_check(SMTPD_STATE *state, int argc)
{
    if (argc < 2) {
        smtpd_chat_reply(state, "501 5.5.4 Syntax: XFORWARD attribute=value...");
        return -1;
    }
    if (state->sender != NULL) {
        smtpd_chat_reply(state, "503 5.5.1 Error: MAIL transaction in progress");
        return -1;
    }
    if (!smtpd_xforward_allowed(state)) {
        smtpd_chat_reply(state, "550 5.7.0 Error: insufficient authorization");
        return -1;
    }
    return 0;
}

int
smtpd_xforward_cmd(SMTPD_STATE *state, int argc, char **argv)
{
    VSTRING *value = vstring_alloc(1024);
    char   *attr = NULL;
    int     i, ret = 0, was_active = state->xforward.active, stored = 0;

    if (smtpd_xforward_check(state, argc) < 0) {
        vstring_free(value);
        return -1;
    }
    for (i = 1; i < argc && ret == 0; i++) {
        const char *eq = strchr(argv[i], '=');

        if (eq == NULL || eq == argv[i] || eq[1] == 0) {
            smtpd_chat_reply(state, "501 5.5.4 Error: attribute=value expected");
            ret = -1;
            break;
        }
        if (xtext_decode(value, eq + 1, strlen(eq + 1)) != 0)
            vstring_strcpy(value, eq + 1);          /* as sent, as Postfix */
        if (LEN(value) > XF_VALUE_MAX) {
            smtpd_chat_reply(state, "501 5.5.4 Error: attribute value too long");
            ret = -1;
            break;
        }
        mem_free(attr);
        attr = mem_strndup(argv[i], (size_t) (eq - argv[i]));
        smtpd_xforward_preset(&state->xforward);
        switch (smtpd_xforward_attr(&state->xforward, attr, STR(value))) {
        case -1:
            smtpd_chat_reply(state, "501 5.5.4 Bad %s syntax: %s", attr, STR(value));
            ret = -1;
            break;
        case -2:
            smtpd_chat_reply(state, "501 5.5.4 Bad XFORWARD attribute name: %s", attr);
            ret = -1;
            break;
        default:
            stored++;
        }
    }
    if (!was_active && stored == 0)             /* nothing taken: as before */
        smtpd_xforward_reset(state);
    if (state->xforward.active)
        smtpd_xforward_namaddr(&state->xforward);
    if (ret == 0)
        smtpd_chat_reply(state, "250 2.0.0 Ok");
    mem_free(attr);
    vstring_free(value);
    return ret;
}
