/*
 * milter.c - a list of milters (smtpd_milters, non_smtpd_milters) and the
 * envelope events sent to each of them in turn (see milter.h).
 *
 * List syntax (Postfix 3.x): milters separated by commas or white space;
 * a milter is "inet:host:port", "unix:/path" (also "local:/path" or a bare
 * absolute path), or "{ name, key=value, ... }" with per-milter settings
 * connect_timeout, command_timeout, content_timeout, default_action and
 * protocol that override the milter_* parameters.
 *
 * Events go to the milters in list order; the first REJECT, TEMPFAIL,
 * DISCARD or SHUTDOWN ends the event (later milters do not see it). A
 * milter that ACCEPTs sees nothing more of the message (of the session,
 * when it accepts the connection or HELO).
 *
 * DIAGNOSTICS: a bad list is fatal (it is configuration); run-time
 * failures are warnings from milter_proto.c.
 */
#include <arpa/inet.h>
#include <string.h>
#include <stdlib.h>
#include <strings.h>

#include "config.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"

int
milter_parse_action(const char *value)
{
    if (strcasecmp(value, "tempfail") == 0)
        return MILTER_DEF_TEMPFAIL;
    if (strcasecmp(value, "reject") == 0)
        return MILTER_DEF_REJECT;
    if (strcasecmp(value, "accept") == 0)
        return MILTER_DEF_ACCEPT;
    if (strcasecmp(value, "quarantine") == 0)
        return MILTER_DEF_QUARANTINE;
    return -1;
}

static char *
milter_trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t  n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1]))
        s[--n] = 0;
    return s;
}

/* One "key=value" of a { ... } group. */
static void
milter_setting(MILTER *m, const char *spec, char *kv)
{
    char   *eq = strchr(kv, '=');
    long    secs;

    if (eq == NULL)
        msg_fatal("milter \"%s\": bad setting \"%s\" (expected name=value)", spec, kv);
    *eq = 0;
    char   *key = milter_trim(kv), *val = milter_trim(eq + 1);
    if (strcmp(key, "default_action") == 0) {
        if ((m->def_action = milter_parse_action(val)) < 0)
            msg_fatal("milter \"%s\": bad default_action \"%s\"", spec, val);
    } else if (strcmp(key, "protocol") == 0) {
        m->protocol = atoi(val);
        if (m->protocol < 2 || m->protocol > 6)
            msg_fatal("milter \"%s\": bad protocol \"%s\"", spec, val);
    } else if (strcmp(key, "connect_timeout") == 0 || strcmp(key, "command_timeout") == 0
               || strcmp(key, "content_timeout") == 0) {
        if (config_parse_time(val, 's', &secs) < 0 || secs <= 0)
            msg_fatal("milter \"%s\": bad %s \"%s\"", spec, key, val);
        *(key[2] == 'n' && key[3] == 'n' ? &m->conn_timeout
          : key[2] == 'm' ? &m->cmd_timeout : &m->content_timeout) = secs;
    } else {
        msg_fatal("milter \"%s\": unknown setting \"%s\"", spec, key);
    }
}

static MILTER *
milter_alloc(const char *name, const MILTER_CONF *conf)
{
    MILTER *m = mem_alloc(sizeof(*m));

    m->name = mem_strdup(name);
    m->conn_timeout = conf->conn_timeout;
    m->cmd_timeout = conf->cmd_timeout;
    m->content_timeout = conf->content_timeout;
    if ((m->def_action = milter_parse_action(conf->def_action)) < 0)
        msg_fatal("bad milter_default_action \"%s\"", conf->def_action);
    m->protocol = (int) conf->protocol;
    if (m->protocol < 2 || m->protocol > 6)
        msg_fatal("bad milter_protocol %ld", conf->protocol);
    m->fd = -1;
    m->pkt = vstring_alloc(MILTER_PACKET_MAX);
    return m;
}

/* "{ name, key=value, ... }" (braces removed). */
static MILTER *
milter_group(char *text, const MILTER_CONF *conf)
{
    char   *save = NULL, *part = strtok_r(text, ",", &save);
    MILTER *m;

    if (part == NULL || *milter_trim(part) == 0)
        msg_fatal("milter list: empty { } group");
    m = milter_alloc(milter_trim(part), conf);
    while ((part = strtok_r(NULL, ",", &save)) != NULL)
        milter_setting(m, m->name, part);
    return m;
}

static void
milters_add(MILTERS *ms, MILTER *m)
{
    ms->list = mem_realloc_array(ms->list, ms->count + 1, sizeof(*ms->list));
    ms->list[ms->count++] = m;
}

MILTERS *
milters_create(const char *spec, const MILTER_CONF *conf)
{
    MILTERS *ms = mem_alloc(sizeof(*ms));
    char   *copy = mem_strdup(spec), *p = copy;

    while (*p) {
        p += strspn(p, " \t\r\n,");
        if (*p == 0)
            break;
        if (*p == '{') {
            char   *close = strchr(p, '}');
            if (close == NULL)
                msg_fatal("milter list: missing '}' in \"%s\"", spec);
            *close = 0;
            milters_add(ms, milter_group(p + 1, conf));
            p = close + 1;
        } else {
            size_t  n = strcspn(p, " \t\r\n,");
            char    save = p[n];
            p[n] = 0;
            milters_add(ms, milter_alloc(p, conf));
            p[n] = save;
            p += n;
        }
    }
    mem_free(copy);
    if (ms->count == 0) {
        mem_free(ms);
        return NULL;
    }
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        ms->macros[i] = argv_split(conf->macros[i] ? conf->macros[i] : "", " \t,");
    ms->mac_vals = argv_alloc();
    return ms;
}

static void
milters_free_quit(MILTERS *ms, int quit)
{
    if (ms == NULL)
        return;
    for (size_t i = 0; i < ms->count; i++) {
        MILTER *m = ms->list[i];
        milter_close(m, quit && m->state != MILTER_ST_ERROR);
        for (int s = 0; s < MILTER_MAC_STAGES; s++)
            argv_free(m->symlist[s]);
        vstring_free(m->pkt);
        mem_free(m->name);
        mem_free(m);
    }
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        argv_free(ms->macros[i]);
    argv_free(ms->mac_vals);
    mem_free(ms->list);
    mem_free(ms);
}

void
milters_free(MILTERS *ms)
{
    milters_free_quit(ms, 1);
}

void
milters_free_keep(MILTERS *ms)
{
    milters_free_quit(ms, 0);
}

void
milters_macro_set(MILTERS *ms, const char *name, const char *value)
{
    ARGV   *v = ms->mac_vals;

    for (size_t i = 0; i + 1 < v->argc; i += 2) {
        if (strcmp(v->argv[i], name) == 0) {
            mem_free(v->argv[i + 1]);
            v->argv[i + 1] = mem_strdup(value ? value : "");
            if (value == NULL)
                v->argv[i][0] = 0;              /* never matches a name again */
            return;
        }
    }
    if (value) {
        argv_add(v, name);
        argv_add(v, value);
    }
}

const char *
milters_macro_get(const MILTERS *ms, const char *name)
{
    const ARGV *v = ms->mac_vals;

    for (size_t i = 0; i + 1 < v->argc; i += 2)
        if (strcmp(v->argv[i], name) == 0)
            return v->argv[i + 1];
    return NULL;
}

static int
milters_event(MILTERS *ms, int cmd, int stage, const char *data, size_t len, VSTRING *reply)
{
    for (size_t i = 0; i < ms->count; i++) {
        int     ret = milter_event(ms, ms->list[i], cmd, stage, data, len, reply);
        if (ret != MILTER_CONTINUE && ret != MILTER_ACCEPT)
            return ret;
    }
    return MILTER_CONTINUE;
}

int
milters_connect(MILTERS *ms, const char *name, const char *addr, const char *port,
                VSTRING *reply)
{
    VSTRING *buf = vstring_alloc(4096);
    int     family = addr == NULL ? 'U' : strchr(addr, ':') ? '6' : '4';
    uint16_t p = htons((uint16_t) (port ? atoi(port) : 0));
    int     ret;

    for (size_t i = 0; i < ms->count; i++)
        if (ms->list[i]->state == MILTER_ST_CLOSED)
            (void) milter_open(ms->list[i]);
    vstring_ncat(buf, name, strlen(name) + 1);
    vstring_addch(buf, family);
    if (family != 'U') {
        vstring_ncat(buf, (char *) &p, 2);
        vstring_ncat(buf, addr, strlen(addr) + 1);
    }
    ret = milters_event(ms, SMFIC_CONNECT, MILTER_MAC_CONNECT, STR(buf), LEN(buf), reply);
    vstring_free(buf);
    return ret;
}

int
milters_helo(MILTERS *ms, const char *helo, VSTRING *reply)
{
    return milters_event(ms, SMFIC_HELO, MILTER_MAC_HELO, helo, strlen(helo) + 1, reply);
}

/* argv as NUL-terminated strings, one after the other. */
static int
milters_argv_event(MILTERS *ms, int cmd, int stage, const char *const *argv, VSTRING *reply)
{
    VSTRING *buf = vstring_alloc(VSTRING_UNLIMITED);
    int     ret;

    for (; *argv; argv++)
        vstring_ncat(buf, *argv, strlen(*argv) + 1);
    ret = milters_event(ms, cmd, stage, STR(buf), LEN(buf), reply);
    vstring_free(buf);
    return ret;
}

int
milters_mail(MILTERS *ms, const char *const *argv, VSTRING *reply)
{
    for (size_t i = 0; i < ms->count; i++)
        if (ms->list[i]->state == MILTER_ST_ACCEPT)
            ms->list[i]->state = MILTER_ST_READY;
    return milters_argv_event(ms, SMFIC_MAIL, MILTER_MAC_MAIL, argv, reply);
}

int
milters_rcpt(MILTERS *ms, const char *const *argv, VSTRING *reply)
{
    return milters_argv_event(ms, SMFIC_RCPT, MILTER_MAC_RCPT, argv, reply);
}

int
milters_data(MILTERS *ms, VSTRING *reply)
{
    return milters_event(ms, SMFIC_DATA, MILTER_MAC_DATA, "", 0, reply);
}

int
milters_unknown(MILTERS *ms, const char *cmd, VSTRING *reply)
{
    return milters_event(ms, SMFIC_UNKNOWN, MILTER_MAC_UNKNOWN, cmd, strlen(cmd) + 1, reply);
}

void
milters_abort(MILTERS *ms)
{
    for (size_t i = 0; i < ms->count; i++) {
        MILTER *m = ms->list[i];
        if (m->state == MILTER_ST_READY || m->state == MILTER_ST_ACCEPT) {
            VSTRING *junk = vstring_alloc(1024);
            m->state = MILTER_ST_READY;
            (void) milter_event(ms, m, SMFIC_ABORT, -1, "", 0, junk);
            vstring_free(junk);
        }
    }
}

int
milters_hold(const MILTERS *ms)
{
    for (size_t i = 0; ms && i < ms->count; i++)
        if (ms->list[i]->hold)
            return 1;
    return 0;
}
