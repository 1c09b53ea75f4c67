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

POLICY_SPF_REQ *
policy_spf_req_alloc(void)
{
    POLICY_SPF_REQ *req = mem_alloc(sizeof(*req));

    req->request = vstring_alloc(POLICY_SPF_LINE_MAX);
    req->protocol_state = vstring_alloc(POLICY_SPF_LINE_MAX);
    req->client_address = vstring_alloc(POLICY_SPF_LINE_MAX);
    req->helo_name = vstring_alloc(POLICY_SPF_LINE_MAX);
    req->sender = vstring_alloc(POLICY_SPF_LINE_MAX);
    req->recipient = vstring_alloc(POLICY_SPF_LINE_MAX);
    req->instance = vstring_alloc(POLICY_SPF_LINE_MAX);
    return req;
}

void
policy_spf_req_free(POLICY_SPF_REQ *req)
{
    vstring_free(req->request);
    vstring_free(req->protocol_state);
    vstring_free(req->client_address);
    vstring_free(req->helo_name);
    vstring_free(req->sender);
    vstring_free(req->recipient);
    vstring_free(req->instance);
    mem_free(req);
}

static void
req_reset(POLICY_SPF_REQ *req)
{
    vstring_reset(req->request);
    vstring_reset(req->protocol_state);
    vstring_reset(req->client_address);
    vstring_reset(req->helo_name);
    vstring_reset(req->sender);
    vstring_reset(req->recipient);
    vstring_reset(req->instance);
}

/* Store one "name=value" line (NUL-terminated, trailing blanks gone). */
static void
req_store(POLICY_SPF_REQ *req, char *line)
{
    static const struct {
        const char *name;
        size_t  offset;
        int     keep_case;
    } attrs[] = {
        {"request", offsetof(POLICY_SPF_REQ, request), 0},
        {"protocol_state", offsetof(POLICY_SPF_REQ, protocol_state), 1},
        {"client_address", offsetof(POLICY_SPF_REQ, client_address), 0},
        {"helo_name", offsetof(POLICY_SPF_REQ, helo_name), 0},
        {"sender", offsetof(POLICY_SPF_REQ, sender), 0},
        {"recipient", offsetof(POLICY_SPF_REQ, recipient), 0},
        {"instance", offsetof(POLICY_SPF_REQ, instance), 1},
    };
    char   *eq = strchr(line, '=');
    size_t  i;

    if (eq == NULL || eq == line) {
        msg_warn("ignoring a request line that is not name=value: \"%.100s\"", line);
        return;
    }
    *eq = 0;
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        if (strcmp(line, attrs[i].name) == 0) {
            VSTRING *vs = *(VSTRING **) ((char *) req + attrs[i].offset);

            vstring_strcpy(vs, eq + 1);
            if (!attrs[i].keep_case)
                vstring_lowercase(vs);
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

    req_reset(req);
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
