/*
 * milter_pass.c - smtpd hands its milters to cleanup with the message.
 *
 * Interface (milter.h):
 *   milters_send(s, ms)        smtpd, right after the END record
 *   milters_receive(s, conf)   cleanup, right after reading END
 *
 * The conversation on the cleanup stream:
 *   C: {milter_count=N}
 *   for each milter:
 *     C: {milter_name, milter_version, milter_actions, milter_pflags,
 *         milter_state, milter_default, milter_timeouts="conn cmd content",
 *         [milter_macros_eoh], [milter_macros_eom]}
 *     if the milter is connected: S: {status=0}, then C: the socket (SCM_RIGHTS)
 * Then cleanup finishes the message and replies as always. The socket is
 * sent only after cleanup asked for it, so cleanup has no bytes buffered
 * past the descriptor's message.
 *
 * SECURITY: cleanup trusts smtpd no more than any client: the count is
 * capped, every number is checked, a missing descriptor is an error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attr.h"
#include "mem.h"
#include "milter.h"
#include "msg.h"

#define MILTER_PASS_MAX   32            /* milters one message may bring */
#define MILTER_FD_TIMEOUT 30

static void
milter_pass_macros(ATTR_LIST *list, const char *name, const ARGV *a)
{
    VSTRING *buf;

    if (a == NULL)
        return;
    buf = vstring_alloc(MILTER_MACROS_MAX);
    for (size_t i = 0; i < a->argc; i++)
        vstring_sprintf_append(buf, "%s%s", i ? " " : "", a->argv[i]);
    attr_add(list, name, STR(buf));
    vstring_free(buf);
}

static int
milter_send_one(STREAM *s, const MILTER *m)
{
    ATTR_LIST *list = attr_list_alloc();
    int     has_fd = m->fp != NULL && m->state != MILTER_ST_ERROR;
    long    status = -1;
    int     ret;

    attr_add(list, "milter_name", m->name);
    attr_add_long(list, "milter_version", (long) m->version);
    attr_add_long(list, "milter_actions", (long) m->actions);
    attr_add_long(list, "milter_pflags", (long) m->pflags);
    attr_add_long(list, "milter_state", has_fd ? m->state : MILTER_ST_ERROR);
    attr_add_long(list, "milter_default", m->def_action);
    attr_addf(list, "milter_timeouts", "%ld %ld %ld", m->conn_timeout, m->cmd_timeout,
              m->content_timeout);
    milter_pass_macros(list, "milter_macros_eoh", m->symlist[MILTER_MAC_EOH]);
    milter_pass_macros(list, "milter_macros_eom", m->symlist[MILTER_MAC_EOM]);
    ret = attr_write(s, list);
    attr_list_reset(list);
    if (ret == 0 && has_fd) {
        ret = stream_flush(s) < 0 || attr_read(s, list) != 1
            || attr_get_long(list, "status", &status) < 0 || status != 0
            || attr_send_fd(stream_fd(s), stream_fd(m->fp)) < 0 ? -1 : 0;
    }
    attr_list_free(list);
    return ret;
}

int
milters_send(STREAM *s, const MILTERS *ms)
{
    ATTR_LIST *list = attr_list_alloc();
    int     ret;

    attr_add_long(list, "milter_count", (long) ms->count);
    ret = attr_write(s, list);
    attr_list_free(list);
    for (size_t i = 0; ret == 0 && i < ms->count; i++)
        ret = milter_send_one(s, ms->list[i]);
    if (ret == 0)
        ret = stream_flush(s);
    return ret < 0 ? -1 : 0;
}

static int
milter_receive_numbers(MILTER *m, const ATTR_LIST *list)
{
    long    version, actions, pflags, state, def;
    const char *t = attr_get(list, "milter_timeouts");

    if (attr_get_long(list, "milter_version", &version) < 0
        || attr_get_long(list, "milter_actions", &actions) < 0
        || attr_get_long(list, "milter_pflags", &pflags) < 0
        || attr_get_long(list, "milter_state", &state) < 0
        || attr_get_long(list, "milter_default", &def) < 0 || t == NULL
        || sscanf(t, "%ld %ld %ld", &m->conn_timeout, &m->cmd_timeout,
                  &m->content_timeout) != 3
        || version < 0 || version > 6 || actions < 0 || actions > 0x1FF
        || pflags < 0 || pflags > 0x3FFFFFFF || state < MILTER_ST_CLOSED
        || state > MILTER_ST_ERROR || def < 0 || def > MILTER_DEF_QUARANTINE
        || m->conn_timeout <= 0 || m->cmd_timeout <= 0 || m->content_timeout <= 0)
        return -1;
    m->version = (unsigned long) version;
    m->actions = (unsigned long) actions;
    m->pflags = (unsigned long) pflags;
    m->state = (int) state;
    m->def_action = (int) def;
    return 0;
}

static MILTER *
milter_receive_one(STREAM *s, const MILTER_CONF *conf)
{
    ATTR_LIST *list = attr_list_alloc();
    MILTER *m = NULL;
    const char *name, *mac;
    int     fd;

    if (attr_read(s, list) != 1 || (name = attr_get(list, "milter_name")) == NULL)
        goto bad;
    m = mem_alloc(sizeof(*m));
    m->name = mem_strdup(name);
    m->fd = -1;
    m->pkt = vstring_alloc(MILTER_PACKET_MAX);
    m->protocol = (int) conf->protocol;
    if (milter_receive_numbers(m, list) < 0)
        goto bad;
    if ((mac = attr_get(list, "milter_macros_eoh")) != NULL)
        m->symlist[MILTER_MAC_EOH] = argv_split(mac, " ");
    if ((mac = attr_get(list, "milter_macros_eom")) != NULL)
        m->symlist[MILTER_MAC_EOM] = argv_split(mac, " ");
    if (m->state != MILTER_ST_ERROR && m->state != MILTER_ST_CLOSED) {
        attr_list_reset(list);
        attr_add_long(list, "status", 0);
        if (attr_write(s, list) < 0 || stream_flush(s) < 0
            || (fd = attr_recv_fd_wait(stream_fd(s), MILTER_FD_TIMEOUT)) < 0)
            goto bad;
        m->fd = fd;
        m->fp = stream_fdopen(fd);
    } else {
        m->state = MILTER_ST_ERROR;
    }
    attr_list_free(list);
    return m;
bad:
    msg_warn("milter handover from the client failed");
    if (m) {
        for (int i = 0; i < MILTER_MAC_STAGES; i++)
            argv_free(m->symlist[i]);
        vstring_free(m->pkt);
        mem_free(m->name);
        mem_free(m);
    }
    attr_list_free(list);
    return NULL;
}

MILTERS *
milters_receive(STREAM *s, const MILTER_CONF *conf)
{
    ATTR_LIST *list = attr_list_alloc();
    long    count = -1;
    MILTERS *ms;

    if (attr_read(s, list) != 1 || attr_get_long(list, "milter_count", &count) < 0
        || count < 1 || count > MILTER_PASS_MAX) {
        msg_warn("bad milter count from the client");
        attr_list_free(list);
        return NULL;
    }
    attr_list_free(list);
    ms = mem_alloc(sizeof(*ms));
    ms->mac_vals = argv_alloc();
    for (int i = 0; i < MILTER_MAC_STAGES; i++)
        ms->macros[i] = argv_split(conf->macros[i] ? conf->macros[i] : "", " \t,");
    for (long i = 0; i < count; i++) {
        MILTER *m = milter_receive_one(s, conf);
        if (m == NULL) {
            milters_free_keep(ms);
            return NULL;
        }
        ms->list = mem_realloc_array(ms->list, ms->count + 1, sizeof(*ms->list));
        ms->list[ms->count++] = m;
    }
    return ms;
}
