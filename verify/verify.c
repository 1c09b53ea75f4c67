/*
 * verify.c - the address verification server: main() and start-up.
 *
 * master.cf: "verify unix - - n - 1 verify" (Postfix ships it chrooted:
 * "- - y - 1"; both work). One process, as mail_owner, keeps the
 * address_verify_map cache (default btree:$data_directory/verify_cache,
 * Postfix's file format, readable with "postmap -q addr btree:...")
 * and answers smtpd's queries for reject_unverified_recipient/sender;
 * unknown addresses are probed through the queue (verify_probe.c) and the
 * delivery agents report the results (protocol: mail_proto.h "verify").
 *
 * Parameters: address_verify_map, address_verify_sender (an empty value
 * or "<>" probes with the null sender), address_verify_positive_expire_time,
 * address_verify_positive_refresh_time, address_verify_negative_cache,
 * address_verify_negative_expire_time, address_verify_negative_refresh_time.
 *
 * The cache is opened in pre_init with the effective ids of mail_owner
 * (the file is then theirs, and it stays open after a chroot), created
 * when missing; each update is locked and synced on its own, so readers
 * and "postfix reload" never see half an update. An empty
 * address_verify_map keeps nothing: every address stays "in progress".
 *
 * SECURITY: runs as mail_owner; requests come from local daemons on a
 * private socket and are checked (verify_service.c).
 *
 * DIAGNOSTICS: a bad parameter value is fatal at start (config_read_vars);
 * a cache that cannot be opened is a warning (the service still answers,
 * without memory).
 */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mail_proto.h"
#include "maps.h"
#include "mem.h"
#include "msg.h"
#include "privs.h"
#include "server.h"
#include "verify.h"

static const char *var_verify_map;
static const char *var_verify_sender;
static VERIFY_PARAMS verify_params;
static DICT *verify_cache;

static const CONFIG_VAR verify_vars[] = {
    CONFIG_VAR_STR("address_verify_map", &var_verify_map),
    CONFIG_VAR_STR("address_verify_sender", &var_verify_sender),
    CONFIG_VAR_TIME("address_verify_positive_expire_time", &verify_params.pos_expire),
    CONFIG_VAR_TIME("address_verify_positive_refresh_time", &verify_params.pos_refresh),
    CONFIG_VAR_BOOL("address_verify_negative_cache", &verify_params.neg_cache),
    CONFIG_VAR_TIME("address_verify_negative_expire_time", &verify_params.neg_expire),
    CONFIG_VAR_TIME("address_verify_negative_refresh_time", &verify_params.neg_refresh),
    CONFIG_VAR_END,
};

static void
verify_pre_init(const char *service, ARGV *args)
{
    uid_t   uid;
    gid_t   gid;
    char   *err = NULL;
    int     as_owner;

    config_read_vars(verify_vars);
    if (*var_verify_map == 0)
        return;
    priv_mail_owner(&uid, &gid);
    as_owner = geteuid() == 0 && priv_set_euid(uid, gid) == 0;
    verify_cache = dict_open(var_verify_map, MAP_WRITE | MAP_LOCK_OP | MAP_DUP_REPLACE, &err);
    if (as_owner && priv_restore_root() < 0)
        msg_fatal("cannot restore root privileges: %m");
    if (verify_cache == NULL) {
        msg_warn("%s is unavailable. %s", var_verify_map, err ? err : "");
        mem_free(err);
    }
}

static void
verify_post_init(const char *service, ARGV *args)
{
    const char *sender = var_verify_sender;

    if (strcmp(sender, "<>") == 0)
        sender = "";
    verify_service_init(verify_cache, &verify_params, sender);
}

int
main(int argc, char **argv)
{
    static const SERVER_OPTS opts = {
        .pre_init = verify_pre_init,
        .post_init = verify_post_init,
        .on_accept = verify_greet,
    };

    msg_init("verify", 0);
    multi_server_main(argc, argv, verify_service, &opts);
}
