/*
 * smtp_sasl.c - SMTP AUTH in the SMTP/LMTP client, with Cyrus SASL.
 *
 * Interface (smtp.h):
 *   smtp_sasl_init(lmtp)    pre_init, as root before any chroot: read the
 *                           smtp_sasl_* (lmtp_sasl_*) parameters, open
 *                           smtp_sasl_password_maps, load the SASL client
 *                           plug-ins (sasl_client_init)
 *   smtp_sasl_enabled()     smtp_sasl_auth_enable
 *   smtp_sasl_mechs()       the mechanisms of the EHLO reply's AUTH line
 *                           ("AUTH PLAIN LOGIN" and the old "AUTH=LOGIN")
 *   smtp_sasl_passwd()      the "user:password" for this session
 *   smtp_sasl_begin(), smtp_sasl_next(), smtp_sasl_end()
 *                           one exchange: the AUTH command with its
 *                           initial response, then one response per 334
 *                           challenge (base64 both ways, sasl_client_step)
 *
 * Credentials (smtp_sasl_password_maps) are looked up as Postfix does:
 * with smtp_sender_dependent_authentication the sender address, then
 * "@domain" of the sender; then the next hop as written ("[host]:port",
 * "domain"), then the server's host name and the next-hop host. The
 * first hit wins; none means no AUTH (the mail goes unauthenticated).
 *
 * Mechanisms: the server's list less those not in smtp_sasl_mechanism_filter
 * (when set); Cyrus SASL picks one that smtp_sasl_security_options allows
 * (smtp_sasl_tls_security_options inside TLS): the defaults "noplaintext,
 * noanonymous" rule out PLAIN and LOGIN without TLS, so credentials are
 * never sent in clear text unless the configuration says so.
 *
 * SECURITY: the password leaves the process only through the SASL
 * mechanism, never in a log line. Server challenges are base64-decoded
 * by sasl_decode64 into a bounded buffer; a bad one ends the exchange.
 * Plug-ins are loaded once as root at start-up from the system's SASL
 * directory (trusted, as Postfix's).
 *
 * DIAGNOSTICS: "warning: SASL authentication failure: No worthy mechs
 * found" (Cyrus SASL's detail), then "SASL authentication failed; cannot authenticate to server
 * host[addr]: no mechanism available" (no usable mechanism) and "SASL
 * authentication failed; server host[addr] said: 535 ..." are recipient
 * results (smtp_proto.c); a password map that fails defers the mail.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sasl/sasl.h>
#include <sasl/saslutil.h>

#include "config.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "smtp.h"
#include "user_acl.h"

#define SASL_BUF_MAX  8192          /* one decoded challenge or response */

static struct {
    int     enable;
    int     sender_dependent;
    const char *password_maps;
    const char *security_options;
    const char *tls_security_options;
    const char *mechanism_filter;
} sp;

static MAPS *smtp_sasl_passwd_table;
static int smtp_sasl_ready;

struct SMTP_SASL {
    sasl_conn_t *conn;
    char   *user;
    sasl_secret_t *secret;
    sasl_callback_t callbacks[4];
};

/* Without the "smtp_" / "lmtp_" prefix (smtp_param_read_prefixed()). */
static const CONFIG_VAR smtp_sasl_vars[] = {
    CONFIG_VAR_BOOL("sasl_auth_enable", &sp.enable),
    CONFIG_VAR_BOOL("sender_dependent_authentication", &sp.sender_dependent),
    CONFIG_VAR_STR("sasl_password_maps", &sp.password_maps),
    CONFIG_VAR_STR("sasl_security_options", &sp.security_options),
    CONFIG_VAR_STR("sasl_tls_security_options", &sp.tls_security_options),
    CONFIG_VAR_STR("sasl_mechanism_filter", &sp.mechanism_filter),
    CONFIG_VAR_END,
};

void
smtp_sasl_init(int lmtp)
{
    int     err;

    smtp_param_read_prefixed(smtp_sasl_vars, lmtp);
    if (!sp.enable)
        return;
    smtp_sasl_passwd_table = maps_create(lmtp ? "lmtp_sasl_password_maps"
                                         : "smtp_sasl_password_maps", sp.password_maps, 0);
    if ((err = sasl_client_init(NULL)) != SASL_OK)
        msg_warn("SASL per-process initialization failed: %s", sasl_errstring(err, NULL, NULL));
    else
        smtp_sasl_ready = 1;
}

int
smtp_sasl_enabled(void)
{
    return sp.enable;
}

int
smtp_sasl_sender_dependent(void)
{
    return sp.enable && sp.sender_dependent;
}

void
smtp_sasl_mechs(const SMTP_REPLY *r, char *buf, size_t len)
{
    VSTRING *mechs = vstring_alloc(100);

    for (size_t i = 1; i < r->lines->argc; i++) {
        const char *line = r->lines->argv[i];

        if (strncasecmp(line, "AUTH", 4) == 0 && (line[4] == ' ' || line[4] == '='))
            vstring_sprintf_append(mechs, "%s%s", LEN(mechs) ? " " : "", line + 5);
    }
    snprintf(buf, len, "%s", STR(mechs));
    vstring_free(mechs);
}

/* One lookup; 1 found (copied to *value), 0 not, -1 table failure. */
static int
smtp_sasl_find(const char *key, char **value)
{
    const char *v;
    int     ret;

    if (key == NULL || *key == 0)
        return 0;
    if ((ret = maps_find(smtp_sasl_passwd_table, key, &v)) == MAP_FOUND)
        *value = mem_strdup(v);
    return ret == MAP_FOUND ? 1 : ret == MAP_FAIL ? -1 : 0;
}

int
smtp_sasl_passwd(const SMTP_STATE *st, const SMTP_SESSION *sess, char **user, char **pass)
{
    const char *sender = st->req->sender, *at;
    char   *host = mem_strndup(sess->namaddr, strcspn(sess->namaddr, "["));
    const char *keys[5];
    char   *value = NULL, *colon;
    int     ret = 0, n = 0;

    if (sp.sender_dependent && *sender) {
        keys[n++] = sender;
        if ((at = strrchr(sender, '@')) != NULL)
            keys[n++] = at;
    }
    keys[n++] = st->dest;
    keys[n++] = host;
    keys[n++] = st->tls ? st->tls->nexthop : NULL;
    for (int i = 0; i < n && ret == 0; i++)
        ret = smtp_sasl_find(keys[i], &value);
    mem_free(host);
    if (ret <= 0)
        return ret;
    colon = strchr(value, ':');
    *user = mem_strndup(value, colon ? (size_t) (colon - value) : strlen(value));
    *pass = mem_strdup(colon ? colon + 1 : "");
    mem_free(value);
    return 1;
}

/* ---- the exchange ---------------------------------------------------- */

static int
smtp_sasl_get_user(void *ctx, int id, const char **result, unsigned *len)
{
    SMTP_SASL *s = ctx;

    if (id != SASL_CB_USER && id != SASL_CB_AUTHNAME)
        return SASL_FAIL;
    *result = s->user;
    if (len)
        *len = (unsigned) strlen(s->user);
    return SASL_OK;
}

static int
smtp_sasl_get_pass(sasl_conn_t *conn, void *ctx, int id, sasl_secret_t **secret)
{
    SMTP_SASL *s = ctx;

    if (id != SASL_CB_PASS)
        return SASL_FAIL;
    *secret = s->secret;
    return SASL_OK;
}

/* "noplaintext, noanonymous" -> SASL_SEC_* bits */
static unsigned
smtp_sasl_sec_flags(const char *options)
{
    static const struct {
        const char *name;
        unsigned flag;
    } table[] = {
        {"noplaintext", SASL_SEC_NOPLAINTEXT},
        {"noactive", SASL_SEC_NOACTIVE},
        {"nodictionary", SASL_SEC_NODICTIONARY},
        {"noanonymous", SASL_SEC_NOANONYMOUS},
        {"mutual_auth", SASL_SEC_MUTUAL_AUTH},
    };
    ARGV   *words = argv_split(options, " \t\r\n,");
    unsigned flags = 0;

    for (size_t i = 0; i < words->argc; i++) {
        size_t  k;

        for (k = 0; k < sizeof(table) / sizeof(table[0]); k++)
            if (strcasecmp(words->argv[i], table[k].name) == 0)
                break;
        if (k < sizeof(table) / sizeof(table[0]))
            flags |= table[k].flag;
        else
            msg_warn("unknown SASL security option \"%s\" ignored", words->argv[i]);
    }
    argv_free(words);
    return flags;
}

/* The server's mechanisms that smtp_sasl_mechanism_filter lets through:
 * a Postfix string list (names without regard to case, !name,
 * type:table, /file), as smtpd_sasl_mechanism_filter; empty: all. */
static char *
smtp_sasl_filter(const char *offered)
{
    ARGV   *words = argv_split(offered, " \t");
    VSTRING *out = vstring_alloc(100);

    for (size_t i = 0; i < words->argc; i++)
        if (*sp.mechanism_filter == 0
            || user_acl_match("smtp_sasl_mechanism_filter", sp.mechanism_filter,
                              words->argv[i]) == 1)
            vstring_sprintf_append(out, "%s%s", LEN(out) ? " " : "", words->argv[i]);
    argv_free(words);
    return vstring_export(out);
}

void
smtp_sasl_end(SMTP_SASL *s)
{
    if (s == NULL)
        return;
    if (s->conn)
        sasl_dispose(&s->conn);
    mem_free(s->user);
    if (s->secret) {
        memset(s->secret->data, 0, s->secret->len);
        mem_free(s->secret);
    }
    mem_free(s);
}

/* base64 of len bytes of data into out ("=" for an empty response). */
static int
smtp_sasl_encode(const char *data, unsigned len, VSTRING *out)
{
    char    buf[SASL_BUF_MAX * 4 / 3 + 8];
    unsigned outlen;

    if (len == 0) {
        vstring_cat(out, "=");
        return 0;
    }
    if (sasl_encode64(data, len, buf, sizeof(buf), &outlen) != SASL_OK)
        return -1;
    vstring_cat(out, buf);
    return 0;
}

/* "warning: SASL authentication failure: No worthy mechs found" */
static void
smtp_sasl_warn(sasl_conn_t *conn, int err)
{
    const char *detail = conn ? sasl_errdetail(conn) : sasl_errstring(err, NULL, NULL);
    const char *last = strrchr(detail, ':');

    if (conn && strncmp(detail, "SASL(", 5) == 0 && last != NULL)
        detail = last + 1 + (last[1] == ' ');
    msg_warn("SASL authentication failure: %s", detail);
}

SMTP_SASL *
smtp_sasl_begin(const SMTP_SESSION *sess, const char *user, const char *pass,
                VSTRING *cmd, VSTRING *why)
{
    SMTP_SASL *s = mem_alloc(sizeof(*s));
    sasl_security_properties_t props;
    char   *host = mem_strndup(sess->namaddr, strcspn(sess->namaddr, "["));
    char   *mechs = smtp_sasl_filter(sess->auth_mechs);
    const char *out = NULL, *mech = NULL;
    unsigned outlen = 0;
    size_t  plen = strlen(pass);
    int     err;

    memset(s, 0, sizeof(*s));
    s->user = mem_strdup(user);
    s->secret = mem_alloc(sizeof(sasl_secret_t) + plen);
    s->secret->len = plen;
    memcpy(s->secret->data, pass, plen + 1);
    s->callbacks[0] = (sasl_callback_t) {SASL_CB_USER,
        (int (*)(void)) (void (*)(void)) smtp_sasl_get_user, s};
    s->callbacks[1] = (sasl_callback_t) {SASL_CB_AUTHNAME,
        (int (*)(void)) (void (*)(void)) smtp_sasl_get_user, s};
    s->callbacks[2] = (sasl_callback_t) {SASL_CB_PASS,
        (int (*)(void)) (void (*)(void)) smtp_sasl_get_pass, s};
    s->callbacks[3] = (sasl_callback_t) {SASL_CB_LIST_END, NULL, NULL};
    memset(&props, 0, sizeof(props));
    props.max_ssf = 1;              /* no security layer: TLS does that */
    props.security_flags = smtp_sasl_sec_flags(sess->tls ? sp.tls_security_options
                                               : sp.security_options);
    err = !smtp_sasl_ready ? SASL_NOTINIT
        : sasl_client_new("smtp", host, NULL, NULL, s->callbacks, 0, &s->conn);
    if (err == SASL_OK)
        err = sasl_setprop(s->conn, SASL_SEC_PROPS, &props);
    if (err == SASL_OK && *mechs == 0)
        err = SASL_NOMECH;
    if (err == SASL_OK)
        err = sasl_client_start(s->conn, mechs, NULL, &out, &outlen, &mech);
    mem_free(host);
    mem_free(mechs);
    if (err != SASL_OK && err != SASL_CONTINUE) {
        smtp_sasl_warn(s->conn, err);
        vstring_strcpy(why, err == SASL_NOMECH ? "no mechanism available"
                       : sasl_errstring(err, NULL, NULL));
        smtp_sasl_end(s);
        return NULL;
    }
    vstring_sprintf(cmd, "AUTH %s", mech);
    if (out != NULL) {
        vstring_cat(cmd, " ");
        if (smtp_sasl_encode(out, outlen, cmd) < 0) {
            vstring_strcpy(why, "cannot encode the initial response");
            smtp_sasl_end(s);
            return NULL;
        }
    }
    return s;
}

int
smtp_sasl_next(SMTP_SASL *s, const char *challenge, VSTRING *resp, VSTRING *why)
{
    char    buf[SASL_BUF_MAX];
    const char *out = NULL;
    unsigned len = 0, outlen = 0;
    int     err;

    if (sasl_decode64(challenge, (unsigned) strlen(challenge), buf, sizeof(buf), &len)
        != SASL_OK) {
        vstring_strcpy(why, "malformed SASL challenge from server");
        return -1;
    }
    err = sasl_client_step(s->conn, buf, len, NULL, &out, &outlen);
    if (err != SASL_OK && err != SASL_CONTINUE) {
        smtp_sasl_warn(s->conn, err);
        vstring_strcpy(why, sasl_errstring(err, NULL, NULL));
        return -1;
    }
    vstring_reset(resp);
    if (out == NULL || outlen == 0)
        return 0;                       /* an empty line */
    if (smtp_sasl_encode(out, outlen, resp) < 0) {
        vstring_strcpy(why, "cannot encode the response");
        return -1;
    }
    return 0;
}
