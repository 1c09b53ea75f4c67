/*
 * policy_spf_request.c - reading one policy delegation request.
 *
 *   policy_spf_req_alloc(), policy_spf_req_free()
 *   policy_spf_read(in, req, why)
 *       reads "name=value" lines up to an empty line (Postfix's
 *       SMTPD_POLICY_README protocol) and keeps the attributes the
 *       service uses; others are skipped. Trailing white space (and a
 *       CR) is removed; values other than protocol_state and instance
 *       are lower-cased, as policyd-spf does. A line without '=' is
 *       logged and skipped (policyd-spf does the same). Returns 1 for a
 *       request, 0 at end of input between requests, -1 on a protocol
 *       error (why says which).
 *
 * SECURITY: the bytes come from smtpd, but the values from the SMTP
 * client. A line is at most POLICY_SPF_LINE_MAX bytes and a request at
 * most POLICY_SPF_ATTR_MAX lines; the VSTRINGs are bounded by the line
 * length. NUL bytes end a value (C strings from here on).
 *
 * DIAGNOSTICS: a line without '=' is a warning; the rest is the caller's.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "mem.h"
#include "msg.h"
#include "policy_spf.h"

/* The attributes kept, where they go, and whether the case is kept. */
static const struct {
    const char *name;
    size_t  offset;
    int     keep_case;
} req_attrs[] = {
    {"request", offsetof(POLICY_SPF_REQ, request), 0},
    {"protocol_state", offsetof(POLICY_SPF_REQ, protocol_state), 1},
    {"client_address", offsetof(POLICY_SPF_REQ, client_address), 0},
    {"helo_name", offsetof(POLICY_SPF_REQ, helo_name), 0},
    {"sender", offsetof(POLICY_SPF_REQ, sender), 0},
    {"recipient", offsetof(POLICY_SPF_REQ, recipient), 0},
    {"instance", offsetof(POLICY_SPF_REQ, instance), 1},
};

#define REQ_ATTR_COUNT (sizeof(req_attrs) / sizeof(req_attrs[0]))
#define REQ_FIELD(req, i) (*(VSTRING **) ((char *) (req) + req_attrs[i].offset))

POLICY_SPF_REQ *
policy_spf_req_alloc(void)
{
    POLICY_SPF_REQ *req = mem_alloc(sizeof(*req));
    size_t  i;

    for (i = 0; i < REQ_ATTR_COUNT; i++)
        REQ_FIELD(req, i) = vstring_alloc(POLICY_SPF_LINE_MAX);
    return req;
}

void
policy_spf_req_free(POLICY_SPF_REQ *req)
{
    size_t  i;

    for (i = 0; i < REQ_ATTR_COUNT; i++)
        vstring_free(REQ_FIELD(req, i));
    mem_free(req);
}

/* Store one "name=value" line (NUL-terminated, trailing blanks gone). */
static void
req_store(POLICY_SPF_REQ *req, char *line)
{
    char   *eq = strchr(line, '=');
    size_t  i;

    if (eq == NULL || eq == line) {
        msg_warn("ignoring a request line that is not name=value: \"%.100s\"", line);
        return;
    }
    *eq = 0;
    for (i = 0; i < REQ_ATTR_COUNT; i++) {
        if (strcmp(line, req_attrs[i].name) == 0) {
            vstring_strcpy(REQ_FIELD(req, i), eq + 1);
            if (!req_attrs[i].keep_case)
                vstring_lowercase(REQ_FIELD(req, i));
            return;
        }
    }
}

int
policy_spf_read(STREAM *in, POLICY_SPF_REQ *req, const char **why)
{
    VSTRING *line = vstring_alloc(POLICY_SPF_LINE_MAX + 1);
    int     count, ret = -1;
    ssize_t n;

    for (count = 0; count < (int) REQ_ATTR_COUNT; count++)
        vstring_reset(REQ_FIELD(req, count));
    *why = "too many attributes";
    for (count = 0; count <= POLICY_SPF_ATTR_MAX; count++) {
        if ((n = stream_gets(in, line, POLICY_SPF_LINE_MAX + 1)) <= 0) {
            ret = count == 0 && n == 0 ? 0 : -1;
            *why = stream_timeout(in) ? "timeout" : "end of input inside a request";
            break;
        }
        if (STR(line)[n - 1] != '\n') {
            *why = n > POLICY_SPF_LINE_MAX ? "line too long" : "end of input inside a request";
            break;
        }
        while (LEN(line) > 0 && isspace((unsigned char) STR(line)[LEN(line) - 1]))
            vstring_truncate(line, LEN(line) - 1);
        if (LEN(line) == 0) {
            ret = 1;
            break;
        }
        req_store(req, STR(line));
    }
    vstring_free(line);
    return ret;
}
