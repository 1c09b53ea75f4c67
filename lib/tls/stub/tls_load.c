/*
 * tls_load.c - load the TLS support (posthorn-tls.so) on demand.
 *
 * lib/tls and OpenSSL are not linked into the programs: they are built
 * into posthorn-tls.so, installed in $daemon_directory. A program calls
 * the functions of tls.h through stubs generated from that header
 * (mkstubs.py, the Makefile); tls_server_init() and tls_client_init()
 * load the object with lib/util/plugin.c, and each stub resolves its
 * function with dlsym() on first use. The programs call those two only
 * when a parameter makes TLS necessary; any other stub called before
 * finds nothing loaded and returns NULL or 0, so a process that never uses TLS
 * never maps libssl and libcrypto, and never pays for their relocations
 * (about 460 KB of private dirty memory per process; docs/PERFORMANCE.md).
 *
 * Interface (tls_load.h): tls_stub_sym(name).
 *
 * Failure is closed: when the object is missing, unsafe (plugin.c) or
 * does not load, each stub returns NULL or 0: tls_server_init() and
 * tls_client_init() then fail as when the keys or CA data cannot be
 * loaded (smtpd answers STARTTLS "454 4.7.0 TLS not available due to
 * local problem", encrypt refuses mail; smtp defers mail that needs TLS
 * and sends plaintext under "may").
 *
 * SECURITY: the object is loaded from $daemon_directory only, with
 * plugin.c's ownership and mode checks; it is loaded during start-up
 * (pre_init), as root and before any chroot, like the keys.
 *
 * DIAGNOSTICS: "warning: TLS support is not available: <reason>" once.
 */
#include "mem.h"
#include "msg.h"
#include "plugin.h"
#include "tls_load.h"

void   *
tls_stub_sym(const char *name, int load)
{
    static void *handle;
    static int failed;
    char   *err;
    void   *addr;
    int     missing;

    if (handle == 0 && load && !failed) {
        if ((handle = plugin_open(TLS_SO_FILE, &missing, &err)) == 0) {
            msg_warn("TLS support is not available: %s", err);
            mem_free(err);
            failed = 1;
        }
    }
    if (handle == 0)
        return 0;
    if ((addr = plugin_sym(handle, TLS_SO_FILE, name, &err)) == 0) {
        msg_warn("TLS support is not available: %s", err);
        mem_free(err);
    }
    return addr;
}
