/*
 * smtpd_esmtp.c - MAIL FROM / RCPT TO arguments and ESMTP parameters.
 *
 * Interface: smtpd_esmtp_keyword() finds the address text after
 * "FROM:"/"TO:"; smtpd_esmtp_mail_args() and smtpd_esmtp_rcpt_args()
 * parse the parameters after the address (SIZE, BODY, RET, ENVID,
 * SMTPUTF8; NOTIFY, ORCPT) and, on error, leave Postfix's reply in reply.
 * These functions use no session state, so unit tests call them directly.
 *
 * SECURITY: the input is a command line bounded by line_length_limit.
 * Parameters are split on white space without modifying the input;
 * ENVID and ORCPT values are xtext-decoded (lib/xtext.c) with control
 * characters refused, and bounded by ADDRESS_MAX; the ORCPT address type
 * must be a plain word (xtext_addr_type_ok), so no raw byte of the
 * client's parameter is ever stored or passed on.
 *
 * DIAGNOSTICS: none; bad ESMTP parameters are replies to the client.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "address.h"
#include "mail_proto.h"
#include "mem.h"
#include "smtpd.h"
#include "xtext.h"

const char *
smtpd_esmtp_keyword(const char *line, const char *keyword)
{
    size_t  klen = strlen(keyword);

    /* line is the whole command: skip the verb and white space */
    while (*line && *line != ' ' && *line != '\t')
        line++;
    while (*line == ' ' || *line == '\t')
        line++;
    if (strncasecmp(line, keyword, klen) != 0)
        return NULL;
    return line + klen;
}

/* Next "KEY[=VALUE]" token: returns 0 at the end. */
static int
smtpd_esmtp_next(const char **cp, const char **key, size_t *klen,
                 const char **val, size_t *vlen)
{
    const char *p = *cp;

    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == 0)
        return 0;
    const char *start = p;
    while (*p && *p != ' ' && *p != '\t')
        p++;
    *cp = p;
    const char *eq = memchr(start, '=', (size_t) (p - start));
    *key = start;
    *klen = eq ? (size_t) (eq - start) : (size_t) (p - start);
    *val = eq ? eq + 1 : NULL;
    *vlen = eq ? (size_t) (p - eq - 1) : 0;
    return 1;
}

#define KEY_IS(k, kl, name) ((kl) == strlen(name) && strncasecmp((k), (name), (kl)) == 0)
#define VAL_IS(v, vl, name) ((v) && (vl) == strlen(name) && strncasecmp((v), (name), (vl)) == 0)

static int
smtpd_esmtp_size(const char *val, size_t vlen, SMTPD_MAIL_ARGS *args)
{
    long    size = 0;

    if (val == NULL || vlen == 0 || vlen > 19)
        return -1;
    for (size_t i = 0; i < vlen; i++) {
        if (!isdigit((unsigned char) val[i]))
            return -1;
        if (size > (0x7fffffffffffffffL - 9) / 10)
            size = 0x7fffffffffffffffL / 10;    /* saturate */
        size = size * 10 + (val[i] - '0');
    }
    args->size = size;
    return 0;
}

int
smtpd_esmtp_mail_args(const char *params, SMTPD_MAIL_ARGS *args, long size_limit,
                      VSTRING *reply)
{
    const char *key, *val;
    size_t  klen, vlen;
    VSTRING *tmp = vstring_alloc(ADDRESS_MAX);
    int     ret = -1;

    memset(args, 0, sizeof(*args));
    args->size = -1;
    while (smtpd_esmtp_next(&params, &key, &klen, &val, &vlen)) {
        if (KEY_IS(key, klen, "SIZE")) {
            if (smtpd_esmtp_size(val, vlen, args) != 0) {
                vstring_strcpy(reply, "501 5.5.4 Bad message size syntax");
                goto out;
            }
        } else if (KEY_IS(key, klen, "BODY")) {
            if (VAL_IS(val, vlen, "8BITMIME"))
                args->body = "8bit";          /* Postfix's encoding=8bit */
            else if (VAL_IS(val, vlen, "7BIT"))
                args->body = "7bit";
            else {
                vstring_strcpy(reply, "501 5.5.4 Unsupported BODY type");
                goto out;
            }
        } else if (KEY_IS(key, klen, "RET")) {
            if (args->ret == 0 && VAL_IS(val, vlen, "FULL"))
                args->ret = DSN_RET_FULL;
            else if (args->ret == 0 && VAL_IS(val, vlen, "HDRS"))
                args->ret = DSN_RET_HDRS;
            else {
                vstring_strcpy(reply, "501 5.5.4 Bad RET parameter syntax");
                goto out;
            }
        } else if (KEY_IS(key, klen, "ENVID")) {
            if (args->envid || val == NULL || vlen == 0 || vlen > 100
                || xtext_decode(tmp, val, vlen) != 0) {
                vstring_strcpy(reply, "501 5.5.4 Bad ENVID parameter syntax");
                goto out;
            }
            args->envid = mem_strdup(STR(tmp));
        } else if (KEY_IS(key, klen, "SMTPUTF8") && val == NULL) {
            args->smtputf8 = 1;
        } else if (KEY_IS(key, klen, "AUTH") && val != NULL) {
            /* kept as sent (Postfix's sasl_sender); smtpd_sasl_mail_opt() */
            if (args->auth) {
                vstring_strcpy(reply, "503 5.5.4 Error: multiple AUTH= options");
                goto out;
            }
            args->auth = mem_strndup(val, vlen);
        } else {
            vstring_sprintf(reply, "555 5.5.4 Unsupported option: %.*s",
                            (int) (klen + (val ? vlen + 1 : 0)), key);
            goto out;
        }
    }
    if (size_limit > 0 && args->size > size_limit) {
        vstring_strcpy(reply, "552 5.3.4 Message size exceeds fixed limit");
        goto out;
    }
    ret = 0;
out:
    vstring_free(tmp);
    if (ret != 0)
        smtpd_esmtp_mail_args_free(args);
    return ret;
}

/* NOTIFY=NEVER or a comma list of SUCCESS, FAILURE, DELAY. */
static int
smtpd_esmtp_notify(const char *val, size_t vlen)
{
    int     mask = 0;
    const char *end = val + vlen;

    while (val < end) {
        const char *comma = memchr(val, ',', (size_t) (end - val));
        size_t  len = comma ? (size_t) (comma - val) : (size_t) (end - val);
        int     bit;
        if (VAL_IS(val, len, "NEVER"))
            bit = DSN_NOTIFY_NEVER;
        else if (VAL_IS(val, len, "SUCCESS"))
            bit = DSN_NOTIFY_SUCCESS;
        else if (VAL_IS(val, len, "FAILURE"))
            bit = DSN_NOTIFY_FAILURE;
        else if (VAL_IS(val, len, "DELAY"))
            bit = DSN_NOTIFY_DELAY;
        else
            return -1;
        if (mask & bit)
            return -1;
        mask |= bit;
        val += len + (comma ? 1 : 0);
        if (comma && val == end)
            return -1;
    }
    if (mask == 0 || ((mask & DSN_NOTIFY_NEVER) && mask != DSN_NOTIFY_NEVER))
        return -1;
    return mask;
}

int
smtpd_esmtp_rcpt_args(const char *params, SMTPD_RCPT_ARGS *args, VSTRING *reply)
{
    const char *key, *val;
    size_t  klen, vlen;
    VSTRING *tmp = vstring_alloc(ADDRESS_MAX);
    int     ret = -1;

    memset(args, 0, sizeof(*args));
    while (smtpd_esmtp_next(&params, &key, &klen, &val, &vlen)) {
        if (KEY_IS(key, klen, "NOTIFY")) {
            if (args->notify || val == NULL
                || (args->notify = smtpd_esmtp_notify(val, vlen)) < 0) {
                vstring_strcpy(reply, "501 5.5.4 Error: Bad NOTIFY parameter syntax");
                goto out;
            }
        } else if (KEY_IS(key, klen, "ORCPT")) {
            const char *semi = val ? memchr(val, ';', vlen) : NULL;
            if (args->orcpt || semi == NULL
                || !xtext_addr_type_ok(val, (size_t) (semi - val))
                || xtext_decode(tmp, semi + 1, vlen - (size_t) (semi + 1 - val)) != 0
                || LEN(tmp) == 0) {
                vstring_strcpy(reply, "501 5.5.4 Error: Bad ORCPT parameter syntax");
                goto out;
            }
            args->orcpt = mem_printf("%.*s;%s", (int) (semi - val), val, STR(tmp));
        } else {
            vstring_sprintf(reply, "555 5.5.4 Unsupported option: %.*s",
                            (int) (klen + (val ? vlen + 1 : 0)), key);
            goto out;
        }
    }
    ret = 0;
out:
    vstring_free(tmp);
    if (ret != 0)
        smtpd_esmtp_rcpt_args_free(args);
    return ret;
}

void
smtpd_esmtp_mail_args_free(SMTPD_MAIL_ARGS *args)
{
    mem_free(args->envid);
    mem_free(args->auth);
    args->envid = args->auth = NULL;
}

void
smtpd_esmtp_rcpt_args_free(SMTPD_RCPT_ARGS *args)
{
    mem_free(args->orcpt);
    args->orcpt = NULL;
}
