/*
 * smtpd_policy.c - the policy delegation client: check_policy_service.
 *
 * Interface: smtpd_policy.h. The protocol is Postfix's: the request is
 * "name=value" lines (request=smtpd_access_policy, protocol_state,
 * protocol_name, helo_name, queue_id, sender, recipient, recipient_count,
 * client_address, client_name, reverse_client_name, instance, the sasl_*,
 * size, TLS (ccert_*: subject and issuer CN xtext-encoded for a trusted
 * client certificate, the fingerprints for any; encryption_*: protocol,
 * cipher, bits; as Postfix 3.7 sends them), etrn_domain, stress, client_port,
 * policy_context, server_address, server_port) and an empty line; the
 * reply is "action=..." (other attributes are ignored) and an empty line.
 *
 * Failures: a connect, write or read error or a timeout
 * ($smtpd_policy_service_timeout per operation) closes the connection;
 * the request is tried again after $smtpd_policy_service_retry_delay, up
 * to $smtpd_policy_service_try_limit attempts, logging "warning: problem
 * talking to server NAME: reason". A kept connection that the server
 * closed while it was idle is reopened at once without counting as a
 * failure. After the last attempt the caller gets
 * $smtpd_policy_service_default_action.
 *
 * SECURITY: request values come from the SMTP client (bounded by smtpd's
 * line limits); a newline in one would start a new attribute, so
 * newlines are replaced. The reply comes from a semi-trusted server: at
 * most SMTPD_POLICY_ATTR_MAX lines of at most SMTPD_POLICY_LINE_MAX
 * bytes, within the timeout; anything else is a failed request. The
 * action is only ever interpreted as an access table result.
 *
 * DIAGNOSTICS: none fatal; a policy server that cannot be reached or
 * answers badly is a warning ("problem talking to server"), and after the
 * last try the default action applies; more than POLICY_MAX_CLIENTS
 * servers is a warning.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "attr_clnt.h"
#include "dns.h"
#include "mem.h"
#include "msg.h"
#include "smtpd.h"
#include "smtpd_policy.h"
#include "xtext.h"

#define POLICY_MAX_CLIENTS 32   /* distinct endpoints kept open */

typedef struct POLICY_CLNT {
    char   *endpoint;           /* as configured */
    const char *name;           /* address part, for logs */
    ATTR_CLNT conn;             /* conn.stream: NULL when closed */
    time_t  opened;
    time_t  last_used;
    long    requests;
} POLICY_CLNT;

static POLICY_CLNT policy_clnts[POLICY_MAX_CLIENTS];
static size_t policy_clnt_count;

static unsigned policy_seqno;          /* makes instance values unique in the process */

void
smtpd_policy_reset(SMTPD_STATE *state)
{
    state->policy_instance[0] = 0;
}

/* One value per message: pid, time and a counter. */
static const char *
policy_instance_id(SMTPD_STATE *state)
{
    struct timeval tv;

    if (state->policy_instance[0] == 0) {
        gettimeofday(&tv, NULL);
        snprintf(state->policy_instance, sizeof(state->policy_instance), "%lx.%lx.%lx.%x",
                 (unsigned long) getpid(), (unsigned long) tv.tv_sec,
                 (unsigned long) tv.tv_usec, policy_seqno++);
    }
    return state->policy_instance;
}

const char *
smtpd_policy_endpoint(const char *endpoint, int *is_unix)
{
    if (strncmp(endpoint, "unix:", 5) == 0) {
        *is_unix = 1;
        return endpoint + 5;
    }
    if (strncmp(endpoint, "inet:", 5) == 0) {
        *is_unix = 0;
        return endpoint + 5;
    }
    /* "host:port" is inet; a bare "private/name" or "/path" is unix */
    *is_unix = endpoint[0] == '/' || strchr(endpoint, ':') == NULL;
    return endpoint;
}

/* ---- the request --------------------------------------------------------- */

static void
policy_attr(VSTRING *req, const char *name, const char *value)
{
    const char *cp;

    vstring_cat(req, name);
    vstring_addch(req, '=');
    for (cp = value ? value : ""; *cp; cp++)
        vstring_addch(req, *cp == '\n' || *cp == '\r' ? ' ' : *cp);
    vstring_addch(req, '\n');
}

/* The local end of the SMTP connection: server_address, server_port. */
void
smtpd_policy_server_addr(const SMTPD_STATE *state, char *host, size_t hsize, char *port,
                         size_t psize)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    if (state->client && getsockname(stream_fd(state->client), (struct sockaddr *) &ss, &len) == 0
        && (ss.ss_family == AF_INET || ss.ss_family == AF_INET6))
        (void) dns_addr_text((struct sockaddr *) &ss, len, host, hsize, port, psize);
}

/*
 * The TLS attributes, as Postfix sends them: the certificate's subject
 * and issuer CN (xtext-encoded) only when it is trusted, its fingerprints
 * whenever there is one; protocol, cipher and bits of the session.
 */
typedef struct POLICY_TLS {
    VSTRING *subject;
    VSTRING *issuer;
    const char *fprint;
    const char *pkey_fprint;
    const char *protocol;
    const char *cipher;
    char    bits[16];
} POLICY_TLS;

static void
smtpd_policy_tls(const SMTPD_STATE *state, POLICY_TLS *t)
{
    const TLS_PEER *peer;

    memset(t, 0, sizeof(*t));
    t->subject = vstring_alloc(64);
    t->issuer = vstring_alloc(64);
    snprintf(t->bits, sizeof(t->bits), "0");
    if (state->tls == NULL)
        return;
    snprintf(t->bits, sizeof(t->bits), "%d",
             tls_sess_cipher(state->tls, &t->protocol, &t->cipher));
    peer = tls_sess_peer(state->tls);
    if (!peer->present)
        return;
    t->fprint = peer->fprint;
    t->pkey_fprint = peer->pkey_fprint;
    if (peer->trusted) {
        xtext_encode(t->subject, peer->CN);
        xtext_encode(t->issuer, peer->issuer_CN);
    }
}

void
smtpd_policy_request(SMTPD_STATE *state, const char *instance, VSTRING *req)
{
    long    size = state->msg_size > 0 ? state->msg_size : 0;
    char    count[32], size_text[32], host[NI_MAXHOST] = "", port[NI_MAXSERV] = "";
    POLICY_TLS tls;
    const char *attrs[][2] = {
        {"request", "smtpd_access_policy"}, {"protocol_state", state->where},
        {"protocol_name", state->protocol}, {"helo_name", state->helo_name},
        {"queue_id", state->queue_id}, {"sender", state->sender},
        {"recipient", state->cur_rcpt}, {"recipient_count", count},
        {"client_address", state->addr}, {"client_name", state->name},
        {"reverse_client_name", state->reverse_name}, {"instance", instance},
        {"sasl_method", state->sasl_method}, {"sasl_username", state->sasl_username},
        {"sasl_sender", state->sasl_sender},
        {"size", size_text}, {"ccert_subject", NULL}, {"ccert_issuer", NULL},
        {"ccert_fingerprint", NULL}, {"ccert_pubkey_fingerprint", NULL},
        {"encryption_protocol", NULL}, {"encryption_cipher", NULL},
        {"encryption_keysize", NULL}, {"etrn_domain", ""}, {"stress", var_stress},
        {"client_port", state->port}, {"policy_context", var_smtpd_policy_context},
        {"server_address", host}, {"server_port", port},
    };
    size_t  i;

    if (state->where && strcmp(state->where, "END-OF-MESSAGE") == 0 && state->act_size > 0)
        size = state->act_size;
    snprintf(count, sizeof(count), "%ld", (long) state->rcpt_count);
    snprintf(size_text, sizeof(size_text), "%ld", size);
    smtpd_policy_server_addr(state, host, sizeof(host), port, sizeof(port));
    smtpd_policy_tls(state, &tls);
    vstring_reset(req);
    for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        const char *name = attrs[i][0], *value = attrs[i][1];

        if (strcmp(name, "ccert_subject") == 0)
            value = STR(tls.subject);
        else if (strcmp(name, "ccert_issuer") == 0)
            value = STR(tls.issuer);
        else if (strcmp(name, "ccert_fingerprint") == 0)
            value = tls.fprint;
        else if (strcmp(name, "ccert_pubkey_fingerprint") == 0)
            value = tls.pkey_fprint;
        else if (strcmp(name, "encryption_protocol") == 0)
            value = tls.protocol;
        else if (strcmp(name, "encryption_cipher") == 0)
            value = tls.cipher;
        else if (strcmp(name, "encryption_keysize") == 0)
            value = tls.bits;
        policy_attr(req, name, value);
    }
    vstring_addch(req, '\n');
    vstring_free(tls.subject);
    vstring_free(tls.issuer);
}

/* ---- the reply ----------------------------------------------------------- */

int
smtpd_policy_read_reply(STREAM *s, VSTRING *action)
{
    VSTRING *line = vstring_alloc(SMTPD_POLICY_LINE_MAX + 1);
    int     found = 0, count, ret = -1;
    ssize_t n;

    vstring_reset(action);
    errno = 0;
    for (count = 0; count <= SMTPD_POLICY_ATTR_MAX; count++) {
        n = stream_gets(s, line, SMTPD_POLICY_LINE_MAX + 1);
        if (n <= 0) {
            if (stream_timeout(s))
                errno = ETIMEDOUT;
            else if (n == 0 || errno == 0)
                errno = ECONNRESET;             /* the server went away */
            break;
        }
        if (STR(line)[n - 1] != '\n') {         /* overlong line */
            errno = EPROTO;
            break;
        }
        vstring_truncate(line, (size_t) n - 1);
        if (LEN(line) > 0 && STR(line)[LEN(line) - 1] == '\r')
            vstring_truncate(line, LEN(line) - 1);
        if (LEN(line) == 0) {                   /* end of the reply */
            if (found)
                ret = 0;
            else
                errno = EPROTO;
            break;
        }
        if (!found && strncmp(STR(line), "action=", 7) == 0) {
            vstring_strcpy(action, STR(line) + 7);
            found = 1;
        }
    }
    if (count > SMTPD_POLICY_ATTR_MAX)
        errno = EPROTO;
    vstring_free(line);
    return ret;
}

/* ---- connections ----------------------------------------------------------- */

static POLICY_CLNT *
policy_clnt_find(const char *endpoint)
{
    POLICY_CLNT *c;
    size_t  i;
    int     is_unix;

    for (i = 0; i < policy_clnt_count; i++)
        if (strcmp(policy_clnts[i].endpoint, endpoint) == 0)
            return &policy_clnts[i];
    if (policy_clnt_count >= POLICY_MAX_CLIENTS)
        return NULL;
    c = &policy_clnts[policy_clnt_count++];
    memset(c, 0, sizeof(*c));
    c->endpoint = mem_strdup(endpoint);
    c->name = smtpd_policy_endpoint(c->endpoint, &is_unix);
    c->conn.path = c->name;
    c->conn.inet = !is_unix;
    return c;
}

/* A kept connection that should not be used again. */
static int
policy_clnt_stale(POLICY_CLNT *c, time_t now)
{
    struct pollfd p;

    if (now - c->last_used > var_smtpd_policy_idle || now - c->opened > var_smtpd_policy_ttl)
        return 1;
    if (var_smtpd_policy_req_limit > 0 && c->requests >= var_smtpd_policy_req_limit)
        return 1;
    /* readable while idle: the server closed it (or sent junk) */
    p.fd = stream_fd(c->conn.stream);
    p.events = POLLIN;
    p.revents = 0;
    return stream_buffered(c->conn.stream) > 0 || poll(&p, 1, 0) != 0;
}

static int
policy_clnt_open(POLICY_CLNT *c)
{
    if (attr_clnt_open(&c->conn, (int) var_smtpd_policy_tmout) < 0) {
        int     err = errno;

        msg_warn("connect to %s: %m", c->name);
        errno = err;
        return -1;
    }
    c->opened = c->last_used = time(NULL);
    c->requests = 0;
    return 0;
}

/* One request on an open connection; 0 or -1 (errno set). */
static int
policy_clnt_request(POLICY_CLNT *c, const VSTRING *req, VSTRING *action)
{
    if (stream_write(c->conn.stream, STR(req), LEN(req)) != 0 || stream_flush(c->conn.stream) != 0) {
        if (stream_timeout(c->conn.stream))
            errno = ETIMEDOUT;
        else if (errno == 0)
            errno = EPIPE;
        return -1;
    }
    if (smtpd_policy_read_reply(c->conn.stream, action) != 0)
        return -1;
    c->requests++;
    c->last_used = time(NULL);
    return 0;
}

int
smtpd_policy_query(SMTPD_STATE *state, const char *endpoint, VSTRING *action_out)
{
    VSTRING *req = vstring_alloc(VSTRING_UNLIMITED);
    POLICY_CLNT *c;
    long    tries = 0;
    int     reused, err, ret = -1;

    smtpd_policy_request(state, policy_instance_id(state), req);
    if ((c = policy_clnt_find(endpoint)) == NULL) {
        msg_warn("too many policy servers; not asking %s", endpoint);
        tries = var_smtpd_policy_try_limit;
    }
    while (tries < var_smtpd_policy_try_limit) {
        if (c->conn.stream && policy_clnt_stale(c, time(NULL)))
            attr_clnt_close(&c->conn);
        reused = c->conn.stream != NULL;
        if (reused || policy_clnt_open(c) == 0) {
            if (policy_clnt_request(c, req, action_out) == 0) {
                ret = 0;
                break;
            }
            err = errno;
            attr_clnt_close(&c->conn);
            if (reused && (err == ECONNRESET || err == EPIPE))
                continue;               /* closed while idle: not a failure */
        } else {
            err = errno;
        }
        msg_warn("problem talking to server %s: %s", c->name,
                 err == EPROTO ? "protocol error" : strerror(err));
        if (++tries < var_smtpd_policy_try_limit && var_smtpd_policy_try_delay > 0)
            sleep((unsigned) var_smtpd_policy_try_delay);
    }
    if (ret != 0)
        vstring_strcpy(action_out, var_smtpd_policy_def_action);
    vstring_free(req);
    return ret;
}
