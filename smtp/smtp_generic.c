/*
 * smtp_generic.c - smtp_generic_maps / lmtp_generic_maps: addresses that
 * are valid only here (user@localdomain) leave as valid Internet
 * addresses (generic(5), ADDRESS_REWRITING_README).
 *
 * Interface (smtp.h):
 *   smtp_generic_init(lmtp)  pre_init (root, before any chroot): read
 *       <proto>_generic_maps and propagate_unmatched_extensions, open the
 *       tables.
 *   smtp_generic_enabled()   a table is configured.
 *   smtp_generic_addr(addr, out)  one envelope or header address: 1 when
 *       the table changed it (out), 0 when not (out = addr), -1 when the
 *       table failed.
 *   smtp_generic_hdr_init/_line/_end  a DELIVER_LINE_FN filter in front
 *       of the body writer: the primary message headers are collected one
 *       logical header at a time, and the addresses of the sender and
 *       recipient headers (From:, Sender:, Reply-To:, To:, Cc:, Bcc:,
 *       Resent-*:, ... header_opts.h) are rewritten in place; everything
 *       else passes byte for byte.
 *
 * The lookup order is generic(5)'s, the one of canonical(5) tables
 * (addr_map.c): user+ext@domain, user@domain, user+ext and user when
 * domain is ours ($myorigin, $mydestination, our addresses), @domain; a
 * "@domain" result keeps the local part; the extension goes back in when
 * propagate_unmatched_extensions names "generic". The null sender is
 * not rewritten; regexp:/pcre: tables see whole addresses only. The log lines keep the original addresses, as Postfix's.
 *
 * SECURITY: header text and addresses are untrusted (they came through
 * smtpd and cleanup). A logical header is collected in a bounded buffer
 * (SMTP_GENERIC_HDR_MAX); one that does not fit, and everything after it,
 * is sent as it is. header_addr_rewrite() bounds the address scan.
 *
 * DIAGNOSTICS: a table failure is a warning (the caller defers the
 * recipients); a multi-address result uses the first, with a warning.
 */
#include <string.h>

#include "addr_map.h"
#include "address.h"
#include "config.h"
#include "header_opts.h"
#include "maps.h"
#include "msg.h"
#include "smtp.h"

#define SMTP_GENERIC_HDR_MAX  (1024 * 1024)

static struct {
    const char *maps_spec;
    const char *propagate;
    MAPS   *maps;
    int     propagate_ext;
    const char *title;
} sg;

static const CONFIG_VAR smtp_generic_vars[] = {
    CONFIG_VAR_STR("generic_maps", &sg.maps_spec),    /* smtp_ / lmtp_ prefixed */
    CONFIG_VAR_END,
};

static const CONFIG_VAR smtp_generic_global_vars[] = {
    CONFIG_VAR_STR("propagate_unmatched_extensions", &sg.propagate),
    CONFIG_VAR_END,
};

void
smtp_generic_init(int lmtp)
{
    smtp_param_read_prefixed(smtp_generic_vars, lmtp);
    config_read_vars(smtp_generic_global_vars);
    sg.title = lmtp ? "lmtp_generic_maps" : "smtp_generic_maps";
    if (sg.maps)
        maps_free(sg.maps);
    sg.maps = *sg.maps_spec ? maps_create(sg.title, sg.maps_spec, 0) : NULL;
    sg.propagate_ext = addr_map_in_class(sg.propagate, "generic");
}

int
smtp_generic_enabled(void)
{
    return sg.maps != NULL;
}

int
smtp_generic_addr(const char *addr, VSTRING *out)
{
    ARGV   *result;
    int     ret;

    vstring_strcpy(out, addr);
    if (sg.maps == NULL || *addr == 0)
        return 0;
    result = argv_alloc();
    ret = addr_map_find_fixed(sg.maps, addr, sg.propagate_ext, result);
    if (ret == MAP_FAIL) {
        msg_warn("%s map lookup problem for %.100s", sg.title, addr);
        ret = -1;
    } else if (ret == MAP_FOUND && result->argc > 0) {
        if (result->argc > 1)
            msg_warn("%s: multi-valued entry for %.100s: using only %.100s", sg.title,
                     addr, result->argv[0]);
        vstring_strcpy(out, result->argv[0]);
        ret = strcmp(result->argv[0], addr) != 0;
    } else {
        ret = 0;
    }
    argv_free(result);
    return ret;
}

/* ---- message headers -------------------------------------------------------- */

/* header_addr_rewrite() callback: 1 when out holds a new address. */
static int
smtp_generic_hdr_addr(void *ctx, const char *addr, VSTRING *out)
{
    SMTP_GENERIC_HDR *h = ctx;
    int     ret = smtp_generic_addr(addr, out);

    if (ret < 0)
        h->failed = 1;
    return ret > 0;
}

void
smtp_generic_hdr_init(SMTP_GENERIC_HDR *h, SMTP_BODY *body)
{
    memset(h, 0, sizeof(*h));
    h->body = body;
    h->hdr = vstring_alloc(SMTP_GENERIC_HDR_MAX);
    h->in_header = 1;
    h->bol = 1;
}

/* Send the collected text: lines split at '\n'; the last ends a line when
 * last_eol. Returns the body writer's result. */
static int
smtp_generic_emit(SMTP_GENERIC_HDR *h, int last_eol)
{
    const char *cp = STR(h->hdr);
    const char *end = cp + LEN(h->hdr);
    const char *nl;
    int     ret = 0;

    if (cp == end)
        return 0;
    while (ret == 0 && (nl = memchr(cp, '\n', (size_t) (end - cp))) != NULL) {
        ret = smtp_body_piece(h->body, cp, (size_t) (nl - cp), 1);
        cp = nl + 1;
    }
    if (ret == 0 && (cp < end || last_eol))
        ret = smtp_body_piece(h->body, cp, (size_t) (end - cp), last_eol);
    vstring_reset(h->hdr);
    return ret;
}

/* A complete logical header: rewrite its addresses when it has some, send it. */
static int
smtp_generic_flush(SMTP_GENERIC_HDR *h)
{
    const HEADER_OPTS *opts;
    size_t  n;

    if (LEN(h->hdr) == 0)
        return 0;
    n = header_name_len(STR(h->hdr), LEN(h->hdr));
    opts = n ? header_opts_find(STR(h->hdr), n) : NULL;
    if (opts && (opts->flags & (HDR_OPT_SENDER | HDR_OPT_RECIP)))
        (void) header_addr_rewrite(h->hdr, smtp_generic_hdr_addr, h);
    if (h->hdr->overflow)               /* rewriting grew it past the max */
        h->failed = 1;
    return smtp_generic_emit(h, 1);
}

/* The start of a line in the primary header. */
static int
smtp_generic_new_line(SMTP_GENERIC_HDR *h, const char *data, size_t len, int is_eol)
{
    int     ret;

    if (LEN(h->hdr) > 0 && len > 0 && (data[0] == ' ' || data[0] == '\t')) {
        vstring_addch(h->hdr, '\n');    /* a continuation line */
        vstring_ncat(h->hdr, data, len);
        return 0;
    }
    if ((ret = smtp_generic_flush(h)) != 0)
        return ret;
    if (len == 0 || header_name_len(data, len) == 0) {
        h->in_header = 0;               /* the empty line, or the body */
        return smtp_body_piece(h->body, data, len, is_eol);
    }
    vstring_ncat(h->hdr, data, len);
    return 0;
}

int
smtp_generic_hdr_line(const char *data, size_t len, int is_eol, void *ctx)
{
    SMTP_GENERIC_HDR *h = ctx;
    int     ret = 0;

    if (h->in_header && LEN(h->hdr) + len + 1 >= SMTP_GENERIC_HDR_MAX) {
        h->in_header = 0;               /* too big to look at: send it as it is */
        ret = smtp_generic_emit(h, h->bol);
    }
    if (ret != 0)
        return ret;
    if (!h->in_header)
        ret = smtp_body_piece(h->body, data, len, is_eol);
    else if (h->bol)
        ret = smtp_generic_new_line(h, data, len, is_eol);
    else
        vstring_ncat(h->hdr, data, len);   /* more of a long line */
    h->bol = is_eol;
    return (ret == 0 && h->failed) ? SMTP_GENERIC_FAIL : ret;
}

int
smtp_generic_hdr_end(SMTP_GENERIC_HDR *h)
{
    int     ret = h->in_header ? smtp_generic_flush(h) : 0;

    vstring_free(h->hdr);
    h->hdr = NULL;
    if (ret == 0 && h->failed)
        ret = SMTP_GENERIC_FAIL;
    return ret;
}
