/*
 * postfix_chroot.c - prepare $queue_directory as a chroot jail at start.
 *
 * Interface: postfix.h. postfix_chroot_sync() runs from "postfix start"
 * (and start-fg) before master starts. When master.cf runs any service
 * chrooted (chroot column "y"; Debian's master.cf does so for smtpd,
 * smtp, cleanup, pickup, ...), it does what Debian's init path
 * (/usr/lib/postfix/configure-instance.sh, run by postfix.service and
 * the init script) does for Postfix, so that a Debian administrator
 * who starts posthorn with "postfix start" or through the unit gets the
 * same jail:
 *   - copies of /etc/localtime, services, resolv.conf, hosts, host.conf,
 *     nsswitch.conf, nss_mdns.config into $queue_directory/etc (those
 *     that exist), mode 0644: DNS, service names and time zones resolve
 *     inside the jail;
 *   - usr/lib/zoneinfo/localtime -> /etc/localtime, as Debian links it;
 *   - etc/passwd without password fields, only when local_recipient_maps
 *     uses unix:passwd.byname directly (not through proxy:), as Debian.
 * Not done (glibc >= 2.34 has the files and dns NSS modules built in,
 * and getrandom() needs no device): Debian's copies of libnss/libresolv
 * and of /dev/random, /dev/urandom; $chroot_extra_files of
 * /etc/default/postfix. A copy is written to a temporary name and
 * renamed, so a daemon never reads half a file.
 *
 * SECURITY: runs as root. Destinations are fixed names below
 * $queue_directory (root-owned, from main.cf); an existing symlink at a
 * destination is replaced, not followed (rename over it).
 *
 * DIAGNOSTICS: warnings only (a file that cannot be copied or linked into
 * the jail); postfix start goes on, as Debian's configure-instance.sh does.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "mastercf.h"
#include "mem.h"
#include "msg.h"
#include "postfix.h"

static const char *const chroot_files[] = {
    "etc/localtime", "etc/services", "etc/resolv.conf", "etc/hosts",
    "etc/host.conf", "etc/nsswitch.conf", "etc/nss_mdns.config",
};

static const char *var_local_rcpt_maps;
static const CONFIG_VAR chroot_vars[] = {
    CONFIG_VAR_STR("local_recipient_maps", &var_local_rcpt_maps),
    CONFIG_VAR_END,
};

/* Does any master.cf service run chrooted? */
static int
postfix_chroot_needed(void)
{
    char   *path = mem_printf("%s/master.cf", config_directory());
    char   *err = NULL;
    MASTER_TABLE *tab = mastercf_load(path, &err);
    int     i, need = 0;

    for (i = 0; tab && i < tab->count; i++)
        need |= tab->ents[i]->chroot;
    if (tab)
        mastercf_free(tab);
    mem_free(err);
    mem_free(path);
    return need;
}

/* mkdir -p of the directory part of rel below the queue directory. */
static void
postfix_chroot_mkdirs(const char *rel)
{
    char   *path = mem_printf("%s/%s", var_queue_dir, rel);
    char   *p;

    for (p = path + strlen(var_queue_dir) + 1; (p = strchr(p, '/')) != NULL; p++) {
        *p = 0;
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            msg_warn("mkdir %s: %m", path);
        *p = '/';
    }
    mem_free(path);
}

/* Write text (or a copy of src when text is NULL) to $queue_directory/rel. */
static void
postfix_chroot_write(const char *rel, const char *src, const char *text, size_t len)
{
    char   *dst = mem_printf("%s/%s", var_queue_dir, rel);
    char   *tmp = mem_printf("%s.%ld.tmp", dst, (long) getpid());
    char    buf[8192];
    ssize_t n = 0;
    int     in = -1, out, ok;

    postfix_chroot_mkdirs(rel);
    if (text == NULL && (in = open(src, O_RDONLY | O_CLOEXEC)) < 0) {
        msg_warn("open %s: %m", src);
    } else if ((out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                           0644)) < 0) {
        msg_warn("create %s: %m", tmp);
    } else {
        ok = text ? write(out, text, len) == (ssize_t) len : 1;
        while (in >= 0 && ok && (n = read(in, buf, sizeof(buf))) > 0)
            ok = write(out, buf, (size_t) n) == n;
        ok = ok && n >= 0 && fchmod(out, 0644) == 0;
        if (close(out) < 0 || !ok || rename(tmp, dst) < 0) {
            msg_warn("cannot update %s: %m", dst);
            (void) unlink(tmp);
        }
    }
    if (in >= 0)
        close(in);
    mem_free(tmp);
    mem_free(dst);
}

/* etc/passwd for unix:passwd.byname used inside the jail (not via proxy:). */
static void
postfix_chroot_passwd(void)
{
    const char *maps = var_local_rcpt_maps;
    const char *hit = strstr(maps, "unix:passwd.byname");
    struct passwd *pw;
    char   *text = mem_strdup(""), *next;

    if (hit == NULL || (hit - maps >= 6 && strncmp(hit - 6, "proxy:", 6) == 0))
        return;
    setpwent();
    while ((pw = getpwent()) != NULL) {
        next = mem_printf("%s%s:x:%ld:%ld:%s:%s:%s\n", text, pw->pw_name,
                          (long) pw->pw_uid, (long) pw->pw_gid, pw->pw_gecos,
                          pw->pw_dir, pw->pw_shell);
        mem_free(text);
        text = next;
    }
    endpwent();
    postfix_chroot_write("etc/passwd", NULL, text, strlen(text));
    mem_free(text);
}

void
postfix_chroot_sync(void)
{
    char    src[1024];
    struct stat st;
    char   *link;
    size_t  i;

    if (!postfix_chroot_needed())
        return;
    config_read_vars(chroot_vars);
    for (i = 0; i < sizeof(chroot_files) / sizeof(chroot_files[0]); i++) {
        snprintf(src, sizeof(src), "/%s", chroot_files[i]);
        if (stat(src, &st) == 0 && S_ISREG(st.st_mode))
            postfix_chroot_write(chroot_files[i], src, NULL, 0);
    }
    postfix_chroot_mkdirs("usr/lib/zoneinfo/localtime");
    link = mem_printf("%s/usr/lib/zoneinfo/localtime", var_queue_dir);
    (void) unlink(link);
    if (symlink("/etc/localtime", link) < 0)
        msg_warn("symlink %s: %m", link);
    mem_free(link);
    postfix_chroot_passwd();
}
