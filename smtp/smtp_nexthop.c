/*
 * smtp_nexthop.c - next-hop syntax of the SMTP and LMTP clients.
 *
 * Interface (smtp.h): smtp_nexthop_parse(). Accepted forms:
 *
 *   domain, domain:port          MX lookup (SMTP only), else host lookup
 *   [host], [host]:port          no MX lookup; host may be an IP address,
 *                                "[ipv6:2001:db8::1]" is accepted too
 *   inet:<any of the above>      same (the LMTP form)
 *   unix:/path, unix:path        LMTP over a UNIX-domain socket (a
 *                                relative path is below queue_directory)
 *
 * An IP address without brackets is never MX-looked-up. LMTP never does
 * MX lookups.
 *
 * SECURITY: the next hop comes from qmgr, which got it from
 * trivial-rewrite (relayhost, transport maps, or a recipient domain that
 * arrived over SMTP). Every part is length-checked and its characters
 * restricted to host name, address and service name syntax; a path must
 * fit sun_path.
 *
 * DIAGNOSTICS: none; a bad next hop is a -1 return with the reason.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "smtp.h"

static int
smtp_nexthop_host_ok(const char *host, int bracketed)
{
    const unsigned char *p = (const unsigned char *) host;

    if (*p == 0)
        return 0;
    for (; *p; p++) {
        if (isalnum(*p) || *p == '.' || *p == '-' || *p == '_')
            continue;
        if (bracketed && *p == ':')
            continue;
        return 0;
    }
    return 1;
}

static int
smtp_nexthop_port_ok(const char *port)
{
    const unsigned char *p = (const unsigned char *) port;

    if (*p == 0)
        return 0;
    for (; *p; p++)
        if (!isalnum(*p) && *p != '-' && *p != '_')
            return 0;
    return 1;
}

static int
smtp_nexthop_is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];

    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

/* "[host]" or "[host]:port" at s; fills host/port; -1 on bad syntax. */
static int
smtp_nexthop_bracket(const char *s, SMTP_NEXTHOP *out)
{
    const char *end = strchr(s, ']');
    size_t  len;

    if (end == NULL)
        return -1;
    s++;
    len = (size_t) (end - s);
    if (len > 5 && strncasecmp(s, "ipv6:", 5) == 0) {
        s += 5;
        len -= 5;
    }
    if (len == 0 || len >= sizeof(out->host))
        return -1;
    memcpy(out->host, s, len);
    out->host[len] = 0;
    if (end[1] == ':') {
        if (end[2] == 0 || strlen(end + 2) >= sizeof(out->port))
            return -1;
        strcpy(out->port, end + 2);
    } else if (end[1] != 0)
        return -1;
    out->no_mx = 1;
    return smtp_nexthop_host_ok(out->host, 1) ? 0 : -1;
}

/* "host" or "host:port"; -1 on bad syntax. */
static int
smtp_nexthop_plain(const char *s, SMTP_NEXTHOP *out)
{
    const char *colon = strrchr(s, ':');
    size_t  len = colon ? (size_t) (colon - s) : strlen(s);

    if (colon && strchr(s, ':') != colon)
        return -1;                      /* bare IPv6 needs brackets */
    if (len == 0 || len >= sizeof(out->host))
        return -1;
    memcpy(out->host, s, len);
    out->host[len] = 0;
    if (colon) {
        if (colon[1] == 0 || strlen(colon + 1) >= sizeof(out->port))
            return -1;
        strcpy(out->port, colon + 1);
    }
    if (smtp_nexthop_is_ip(out->host))
        out->no_mx = 1;
    return smtp_nexthop_host_ok(out->host, 0) ? 0 : -1;
}

int
smtp_nexthop_parse(const char *nexthop, int lmtp, const char *dflt_port,
                   SMTP_NEXTHOP *out, VSTRING *why)
{
    const char *s = nexthop;
    int     ret;

    memset(out, 0, sizeof(*out));
    out->kind = SMTP_NEXTHOP_INET;
    if (strncasecmp(s, "unix:", 5) == 0) {
        s += 5;
        if (*s == 0 || strlen(s) >= sizeof(out->path)) {
            vstring_sprintf(why, "bad UNIX-domain socket path in next hop \"%s\"", nexthop);
            return -1;
        }
        out->kind = SMTP_NEXTHOP_UNIX;
        strcpy(out->path, s);
        snprintf(out->host, sizeof(out->host), "%s", s);
        return 0;
    }
    if (strncasecmp(s, "inet:", 5) == 0)
        s += 5;
    if (*s == '[')
        ret = smtp_nexthop_bracket(s, out);
    else
        ret = smtp_nexthop_plain(s, out);
    if (ret == 0 && out->port[0] && !smtp_nexthop_port_ok(out->port))
        ret = -1;
    if (ret < 0) {
        vstring_sprintf(why, "bad next-hop syntax: \"%s\"", nexthop);
        return -1;
    }
    if (out->port[0] == 0)
        snprintf(out->port, sizeof(out->port), "%s", dflt_port);
    if (lmtp)
        out->no_mx = 1;
    return 0;
}
