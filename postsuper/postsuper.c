/*
 * postsuper.c - postsuper(1): queue maintenance for the superuser.
 *
 *   postsuper [-psSv] [-c config_dir] [-d queue_id] [-h queue_id]
 *             [-H queue_id] [-r queue_id] [queue...]
 *
 * queue_id may be "ALL" (upper case only) or "-" (ids on standard input,
 * one per line); each option may be repeated. -p and -s run first, then
 * delete, hold, release and requeue (postsuper_ops.c, postsuper_fix.c).
 * Every change is logged ("ID: removed") and each operation ends with a
 * summary on standard error ("postsuper: Deleted: 1 message").
 *
 * SECURITY: root only. The configuration and queue names are checked
 * before anything else; queue ids are checked with queue_id_ok() before
 * they become paths; the work runs as mail_owner after chdir to
 * $queue_directory, so a mistake cannot touch files outside the queue
 * that root owns.
 *
 * DIAGNOSTICS: fatal: a usage error, a non-root caller, an invalid
 * directory name, a queue_directory that cannot be entered, a bad
 * parameter value.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "connect.h"
#include "mail_proto.h"
#include "mail_params.h"
#include "msg.h"
#include "privs.h"
#include "queue.h"
#include "postsuper.h"

static void
postsuper_parse(int argc, char **argv, PS_REQUEST *req, const char **config_dir)
{
    static const char ops[] = "dhHr";
    const char *op;
    int     ch;

    while ((ch = getopt(argc, argv, "c:d:h:H:r:psSv")) != -1) {
        if (ch != 'c' && (op = strchr(ops, ch)) != NULL) {
            argv_add(req->ids[op - ops], optarg);
            continue;
        }
        switch (ch) {
        case 'c': *config_dir = optarg; break;
        case 'p': req->purge = 1; break;
        case 's':
        case 'S': req->structure = 1; break;
        case 'v': msg_verbose++; break;
        default: msg_fatal(POSTSUPER_USAGE);
        }
    }
    for (; optind < argc; optind++) {
        if (!queue_name_ok(argv[optind]) || strcmp(argv[optind], QUEUE_BOUNCE) == 0
            || strcmp(argv[optind], QUEUE_DEFER) == 0 || strcmp(argv[optind], QUEUE_TRACE) == 0)
            msg_fatal("invalid directory name: %s", argv[optind]);
        argv_add(req->queues, argv[optind]);
    }
}

const char *var_queue_dir;
long    var_daemon_timeout;

static const CONFIG_VAR postsuper_vars[] = {
    CONFIG_VAR_STR("queue_directory", &var_queue_dir),
    CONFIG_VAR_TIME("daemon_timeout", &var_daemon_timeout),
    CONFIG_VAR_END,
};

int
main(int argc, char **argv)
{
    PS_REQUEST req;
    const char *config_dir = getenv("MAIL_CONFIG");
    uid_t   uid;
    gid_t   gid;
    int     any = 0;

    msg_init("postsuper", MSG_STDERR);
    if (argc > 0)
        argv[0] = (char *) "postsuper";
    memset(&req, 0, sizeof(req));
    for (int i = 0; i < PS_OP_COUNT; i++)
        req.ids[i] = argv_alloc();
    req.queues = argv_alloc();
    postsuper_parse(argc, argv, &req, &config_dir);
    if (getuid() != 0)
        msg_fatal("use of this command is reserved for the superuser");
    config_load(config_dir);
    config_read_vars(postsuper_vars);
    mail_params_init();                 /* hash_queue_names/depth */
    msg_logging_init();
    if (chdir(var_queue_dir) < 0)
        msg_fatal("chdir %s: %m", var_queue_dir);
    priv_mail_owner(&uid, &gid);
    priv_drop(uid, gid, NULL);
    if (req.purge)
        postsuper_purge();
    if (req.structure)
        postsuper_structure();
    for (int op = 0; op < PS_OP_COUNT; op++) {
        if (req.ids[op]->argc == 0)
            continue;
        postsuper_summary(op, postsuper_op(op, req.ids[op], req.queues));
        any |= (op == PS_OP_RELEASE || op == PS_OP_REQUEUE);
    }
    if (any) {
        static const char wake[] = {QMGR_REQ_SCAN_INCOMING, QMGR_REQ_SCAN_DEFERRED, 0};
        static const char pickup_wake[] = {TRIGGER_REQ_WAKEUP, 0};

        (void) trigger_send("public/qmgr", wake, 2);
        if (req.ids[PS_OP_REQUEUE]->argc > 0)
            (void) trigger_send(MAIL_CLASS_PUBLIC "/" SERVICE_PICKUP, pickup_wake, 1);
    }
    return 0;
}
