/*
 * showq.c - the showq daemon: lists the mail queue for postqueue(1).
 *
 * master.cf: "showq unix n - n - - showq" (public/showq; runs as
 * mail_owner). Each client gets the whole listing (showq_list.c) and the
 * connection is closed. See showq.h for the protocol.
 *
 * SECURITY: clients are local users (public/showq is reachable by group
 * postdrop); they send nothing and only read. Queue files and defer logs
 * are read with bounded records and lines (showq_read.c).
 *
 * DIAGNOSTICS: start-up problems are fatal in the daemon skeleton
 * (server.c); unreadable directories and files are warnings (showq_list.c,
 * showq_read.c).
 */
#include "msg.h"
#include "server.h"
#include "showq.h"

static void
showq_service(STREAM *client)
{
    showq_list(client);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {0};

    msg_init("showq", 0);
    single_server_main(argc, argv, showq_service, &opts);
}
