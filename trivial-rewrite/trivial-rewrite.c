/*
 * trivial-rewrite.c - the address rewriting and resolving service.
 *
 * Runs under master as service "rewrite" (private/rewrite, unix). A
 * multi-client server: each client keeps its connection and sends
 * {request=rewrite|resolve, ...} lists (mail_proto.h) after the server's
 * {protocol=rewrite} greeting on connect; see trivial-rewrite_service.c.
 */
#include <string.h>

#include "config.h"
#include "msg.h"
#include "resolve.h"
#include "server.h"
#include "trivial-rewrite.h"

/*
 * As root, before the chroot (master.cf chroot = y): open transport_maps
 * and the tables in the domain lists now; resolve_maps() caches them by
 * spec for the process lifetime, so later lookups never open files.
 */
static void
rewrite_pre_init(const char *service, ARGV *args)
{
    static const char *lists[] = {
        "mydestination", "relay_domains", "virtual_alias_domains",
        "virtual_mailbox_domains",
    };
    const char *spec = config_str("transport_maps");

    if (*spec)
        (void) resolve_maps("transport_maps", spec);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        ARGV   *list = config_list(lists[i]);

        for (size_t j = 0; j < list->argc; j++) {
            const char *pat = list->argv[j] + strspn(list->argv[j], "!");

            if (*pat != '/' && *pat != '[' && strchr(pat, ':'))
                (void) resolve_maps(lists[i], pat);
        }
        argv_free(list);
    }
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = rewrite_pre_init,
        .on_accept = rewrite_greet,
    };

    msg_init("trivial-rewrite", 0);
    multi_server_main(argc, argv, rewrite_service, &opts);
}
