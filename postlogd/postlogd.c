/*
 * postlogd.c - the internal log server: appends each datagram that
 * arrives on the postlog service (public/postlog, unix-dgram) as one line
 * to $maillog_file. The work is in postlogd_file.c.
 *
 * master.cf: postlog unix-dgram n - n - 1 postlogd
 *
 * DIAGNOSTICS: start-up problems are fatal in the daemon skeleton
 * (server.c) and postlogd_file.c.
 */
#include "postlogd.h"
#include "server.h"

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = postlogd_open,
    };

    trigger_server_main(argc, argv, postlogd_write, &opts);
}
