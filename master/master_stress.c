/*
 * master_stress.c - overload ("stress") for inet services, as Postfix's
 * master reports it.
 *
 * Interface (master.h):
 *   master_stress_spawn(serv)   before a child of serv is started: when
 *       that child brings the service to its process limit (maxproc), the
 *       service is under stress for the next MASTER_STRESS_TIME seconds.
 *       When stress begins, the running children are retired (they finish
 *       their client and exit, as on reload), so that the service's
 *       processes all run with stress=yes from then on, as in Postfix.
 *   master_stress_value(serv)   the value master passes to an inet child
 *       as "-o stress=VALUE": "yes" while the service is under stress,
 *       else empty. Parameters written as ${stress?{a}:{b}} (smtpd_timeout,
 *       smtpd_hard_error_limit, smtpd_per_request_deadline, ...) then take
 *       their stressed value in the new processes.
 *   master_stress_warn(serv)    the service is at its limit with no
 *       process free: log Postfix's three warning lines, at most once per
 *       MASTER_STRESS_TIME seconds per service.
 *
 * Only inet services get the stress parameter (as in Postfix); other
 * services never see it.
 *
 * DIAGNOSTICS: warnings only: Postfix's three lines when an inet service
 * reaches its process limit (at most once per stress period).
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "master.h"
#include "msg.h"

#define MASTER_STRESS_TIME 1000         /* seconds, as in Postfix */

void
master_stress_spawn(MASTER_SERV *serv)
{
    time_t  now = time(NULL);

    if (serv->type != MASTER_INET || serv->maxproc == 0
        || serv->total_proc + 1 < serv->maxproc)
        return;
    if (serv->stress_expire <= now)             /* stress begins */
        master_retire_children(serv, 0);
    serv->stress_expire = now + MASTER_STRESS_TIME;
}

const char *
master_stress_value(const MASTER_SERV *serv)
{
    return serv->stress_expire > time(NULL) ? "yes" : "";
}

/* "smtp" -> "25", "127.0.0.1:smtp" -> "127.0.0.1:25" (the port as a number). */
static void
master_stress_endpoint(const MASTER_SERV *serv, char *buf, size_t len)
{
    const char *colon = strrchr(serv->name, ':');
    const char *port = colon ? colon + 1 : serv->name;
    struct servent *se;

    if (strspn(port, "0123456789") != strlen(port)
        && (se = getservbyname(port, "tcp")) != NULL)
        snprintf(buf, len, "%.*s%d", colon ? (int) (colon - serv->name + 1) : 0,
                 serv->name, ntohs((unsigned short) se->s_port));
    else
        snprintf(buf, len, "%s", serv->name);
}

void
master_stress_warn(MASTER_SERV *serv)
{
    time_t  now = time(NULL);
    char    endpoint[256];

    if (serv->type != MASTER_INET || now - serv->busy_warn_time < MASTER_STRESS_TIME)
        return;
    serv->busy_warn_time = now;
    master_stress_endpoint(serv, endpoint, sizeof(endpoint));
    msg_warn("service \"%s\" (%s) has reached its process limit \"%d\": "
             "new clients may experience noticeable delays",
             serv->name, endpoint, serv->maxproc);
    msg_warn("to avoid this condition, increase the process count "
             "in master.cf or reduce the service time per client");
    msg_warn("see http://www.postfix.org/STRESS_README.html for "
             "examples of stress-adapting configuration settings");
}
