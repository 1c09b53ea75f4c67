/*
 * dict_proxy.h - the proxymap protocol, shared by the proxy: table type
 * (dict_proxy.c, the client) and the proxymap daemon (proxymap/).
 *
 * A "proxy:type:name" table is looked up by the proxymap service
 * ($queue_directory/private/proxymap, outside any chroot jail); updates
 * go to the proxywrite service (private/proxywrite), a single process
 * that serializes the writers. Attribute lists (attr.h):
 *
 *   S: {protocol=proxymap_protocol}                   greeting on connect
 *   C: {request=open,   table=T, flags=F}           -> {status, flags}
 *   C: {request=lookup, table=T, flags=F, key=K}    -> {status, value}
 *   C: {request=update, table=T, flags=F, key=K, value=V} -> {status}
 *   C: {request=delete, table=T, flags=F, key=K}    -> {status}
 *
 * T is "type:name" without the "proxy:" prefix; F are the MAP_* flags
 * of maps.h in PROXY_FLAGS_MASK (case folding, NUL handling, $n
 * substitution, duplicate handling). The server opens T with F only when
 * "proxy:T" is listed in $proxy_read_maps ($proxy_write_maps for the
 * proxywrite service); otherwise the status is PROXY_STAT_DENY.
 *
 * DIAGNOSTICS: none here (see dict_proxy.c and proxymap/).
 */
#ifndef POSTHORN_DICT_PROXY_H
#define POSTHORN_DICT_PROXY_H

#include "maps.h"

#define PROXY_PROTOCOL          "proxymap_protocol"
#define PROXY_PREFIX            "proxy:"

#define PROXY_REQ_OPEN          "open"
#define PROXY_REQ_LOOKUP        "lookup"
#define PROXY_REQ_UPDATE        "update"
#define PROXY_REQ_DELETE        "delete"

#define PROXY_ATTR_REQ          "request"
#define PROXY_ATTR_TABLE        "table"
#define PROXY_ATTR_FLAGS        "flags"
#define PROXY_ATTR_KEY          "key"
#define PROXY_ATTR_VALUE        "value"
#define PROXY_ATTR_STATUS       "status"

/* Reply status, as Postfix's proxymap numbers them. */
#define PROXY_STAT_OK           0       /* found / done */
#define PROXY_STAT_NOKEY        1       /* not found */
#define PROXY_STAT_RETRY        2       /* table failed: try again later */
#define PROXY_STAT_BAD          3       /* malformed request */
#define PROXY_STAT_DENY         4       /* table not approved for this service */
#define PROXY_STAT_CONFIG       5       /* table cannot be opened */

#define PROXY_FLAGS_MASK  (MAP_FOLD_NONE | MAP_DUP_WARN | MAP_DUP_REPLACE \
        | MAP_DUP_IGNORE | MAP_NUL_ON | MAP_NUL_OFF | MAP_NO_REGSUB)

/* Longest table name accepted in a request. */
#define PROXY_TABLE_MAX         1024

/*
 * Where the client connects: "private/<service>" relative to the current
 * directory (a daemon runs in $queue_directory, chrooted or not), and
 * when that socket is not there, the same below queue_dir (commands).
 * Defaults: services "proxymap" and "proxywrite", no queue_dir, a 100s
 * timeout. mail_params_init() calls this with the main.cf values.
 */
void    dict_proxy_config(const char *queue_dir, const char *read_service,
                          const char *write_service, int timeout);

#endif
