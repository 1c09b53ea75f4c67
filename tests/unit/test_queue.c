/*
 * test_queue.c - queue ids, paths, queue file creation, readiness, moves.
 */
#include <ctype.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "config.h"
#include "mail_params.h"
#include "queue.h"
#include "unit.h"

/* main.cf text (NULL: Postfix's defaults) into mail_params. */
static void
queue_params(const char *text)
{
    config_reset();
    config_load_text(text ? text : "", "test");
    mail_params_init();
}

/* chdir into a fresh queue directory with incoming/ and active/. */
static char *
queue_setup(void)
{
    static char dir[] = "/tmp/test_queue.XXXXXX";

    if (mkdtemp(dir) == NULL || chdir(dir) < 0)
        abort();
    mkdir(QUEUE_INCOMING, 0700);
    mkdir(QUEUE_ACTIVE, 0700);
    mkdir(QUEUE_HOLD, 0700);
    return dir;
}

static void
queue_teardown(char *dir)
{
    char    cmd[256];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cleanup of %s failed\n", dir);
}

UNIT_TEST(id_ok)
{
    CHECK(queue_id_ok("3F2A81C0B7"));
    CHECK(queue_id_ok("abcXYZ09"));
    CHECK(!queue_id_ok(""));
    CHECK(!queue_id_ok(NULL));
    CHECK(!queue_id_ok("../x"));
    CHECK(!queue_id_ok("a/b"));
    CHECK(!queue_id_ok("tmp.123.4"));
    CHECK(!queue_id_ok("0123456789012345678901234567890123"));
    CHECK(queue_name_ok("incoming"));
    CHECK(!queue_name_ok("../etc"));
}

UNIT_TEST(path)
{
    VSTRING *p = vstring_alloc(256);

    queue_params(NULL);                 /* hash_queue_names = deferred, defer */
    CHECK_STR(queue_path(p, QUEUE_DEFERRED, "ABC123"), "deferred/A/ABC123");
    CHECK_STR(queue_path(p, QUEUE_DEFER, "0E6A1B223EB"), "defer/0/0E6A1B223EB");
    CHECK_STR(queue_path(p, QUEUE_INCOMING, "ABC123"), "incoming/ABC123");
    CHECK_STR(queue_dir_path(p, QUEUE_DEFERRED, "ABC123"), "deferred/A");
    queue_params("hash_queue_depth = 2\nhash_queue_names = incoming,deferred\n");
    CHECK_STR(queue_path(p, QUEUE_INCOMING, "ABC123"), "incoming/A/B/ABC123");
    CHECK_STR(queue_path(p, QUEUE_DEFER, "ABC123"), "defer/ABC123");
    queue_params(NULL);
    vstring_free(p);
}

/* Where Postfix 3.7 put its files (tests/data/postfix-queue/queue, made
 * by make.sh): queue_path() must name the same place for every one. */
static int
postfix_placement_one(const char *dir, const char *name, void *ctx)
{
    VSTRING *p = vstring_alloc(256);
    char    have[512];
    const char *queue = ctx;

    snprintf(have, sizeof(have), "%s/%s", dir, name);
    CHECK(queue_id_ok(name));
    CHECK_STR(queue_path(p, queue, name), have);
    vstring_free(p);
    return 0;
}

UNIT_TEST(postfix_placement)
{
    static const char *queues[] = {QUEUE_DEFERRED, QUEUE_DEFER, QUEUE_HOLD, QUEUE_MAILDROP, 0};
    char    cwd[1024];
    ARGV   *ids;

    queue_params(NULL);
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    CHECK(chdir("tests/data/postfix-queue/queue") == 0);  /* tests run from the top */
    for (const char **q = queues; *q; q++)
        CHECK_INT(queue_walk(*q, postfix_placement_one, (void *) *q), 0);
    ids = queue_scan_ids(QUEUE_DEFERRED);
    CHECK(ids->argc >= 5);
    argv_free(ids);
    CHECK(chdir(cwd) == 0);
}

UNIT_TEST(create_ready_move)
{
    char   *dir = (queue_params(NULL), queue_setup());
    VSTRING *id = vstring_alloc(QUEUE_ID_MAX);
    VSTRING *path = vstring_alloc(256);
    struct stat st;
    STREAM *s = queue_file_create(QUEUE_INCOMING, id);

    CHECK(s != NULL);
    if (s == NULL)
        return;
    /* 5 upper-case hex digits of microseconds, then the inode in hex. */
    CHECK(LEN(id) >= 6);
    CHECK(queue_id_ok(STR(id)));
    for (size_t i = 0; i < LEN(id); i++)
        CHECK(isxdigit((unsigned char) STR(id)[i]) && !islower((unsigned char) STR(id)[i]));
    CHECK(fstat(stream_fd(s), &st) == 0);
    char    ino[32];
    snprintf(ino, sizeof(ino), "%lX", (unsigned long) st.st_ino);
    CHECK_STR(STR(id) + 5, ino);
    CHECK_INT(st.st_mode & 0777, QUEUE_MODE_NEW);
    CHECK_INT(st.st_nlink, 1);                  /* the temporary name is gone */
    queue_path(path, QUEUE_INCOMING, STR(id));
    CHECK_INT(queue_file_is_ready(STR(path)), 0);
    CHECK_INT(queue_file_ready(stream_fd(s)), 0);
    CHECK_INT(queue_file_is_ready(STR(path)), 1);
    stream_close(s);
    CHECK_INT(queue_file_move(QUEUE_INCOMING, QUEUE_ACTIVE, STR(id), 1), 0);
    CHECK_INT(queue_file_is_ready(STR(path)), -1);
    queue_path(path, QUEUE_ACTIVE, STR(id));
    CHECK_INT(queue_file_is_ready(STR(path)), 1);
    CHECK(queue_file_move(QUEUE_ACTIVE, QUEUE_HOLD, "../x", 0) < 0);
    /* Into a hashed queue: the subdirectory is made on demand. */
    CHECK_INT(queue_file_move(QUEUE_ACTIVE, QUEUE_DEFERRED, STR(id), 1), -1);  /* no deferred/ */
    mkdir(QUEUE_DEFERRED, 0700);
    CHECK_INT(queue_file_move(QUEUE_ACTIVE, QUEUE_DEFERRED, STR(id), 1), 0);
    queue_path(path, QUEUE_DEFERRED, STR(id));
    CHECK_INT(queue_file_is_ready(STR(path)), 1);
    CHECK(strchr(strchr(STR(path), '/') + 1, '/') != NULL);
    ARGV   *found = queue_scan_ids(QUEUE_DEFERRED);
    CHECK_INT(found->argc, 1);
    CHECK_STR(found->argc ? found->argv[0] : "", STR(id));
    argv_free(found);
    CHECK_INT(queue_file_move(QUEUE_DEFERRED, QUEUE_ACTIVE, STR(id), 1), 0);
    CHECK(queue_file_move(QUEUE_ACTIVE, "nowhere", STR(id), 0) < 0);

    /* Two files get two ids. */
    VSTRING *id2 = vstring_alloc(QUEUE_ID_MAX);
    STREAM *s2 = queue_file_create(QUEUE_INCOMING, id2);
    STREAM *s3 = queue_file_create(QUEUE_INCOMING, id);
    CHECK(s2 && s3);
    CHECK(strcmp(STR(id), STR(id2)) != 0);
    stream_close(s2);
    stream_close(s3);
    /* No temporary names are left behind. */
    DIR    *dp = opendir(QUEUE_INCOMING);
    struct dirent *de;
    int     files = 0;
    while (dp && (de = readdir(dp)) != NULL)
        if (de->d_name[0] != '.') {
            CHECK(queue_id_ok(de->d_name));
            files++;
        }
    closedir(dp);
    CHECK_INT(files, 2);
    vstring_free(id2);
    vstring_free(id);
    vstring_free(path);
    queue_teardown(dir);
}

/* A new queue file into a hashed incoming/ whose subdirectories do not
 * exist yet: the unnamed file is linked once they are made; and the same
 * as an unprivileged user in a chroot without /proc (Debian's cleanup). */
UNIT_TEST(create_hashed_and_chrooted)
{
    char   *dir = queue_setup();
    VSTRING *id = vstring_alloc(QUEUE_ID_MAX);
    VSTRING *path = vstring_alloc(256);
    STREAM *s;
    pid_t   pid;
    int     status = -1;

    queue_params("hash_queue_depth = 2\nhash_queue_names = incoming\n");
    s = queue_file_create(QUEUE_INCOMING, id);
    CHECK(s != NULL);
    queue_path(path, QUEUE_INCOMING, s ? STR(id) : "X");
    CHECK(access(STR(path), F_OK) == 0);
    if (s)
        stream_close(s);
    queue_params(NULL);
    CHECK(chown(QUEUE_INCOMING, 65534, 65534) == 0 && chmod(".", 0711) == 0);
    if ((pid = fork()) == 0) {
        if (chroot(".") < 0 || setgid(65534) < 0 || setuid(65534) < 0)
            _exit(2);
        s = queue_file_create(QUEUE_INCOMING, id);
        queue_path(path, QUEUE_INCOMING, s ? STR(id) : "X");
        _exit(s != NULL && access(STR(path), F_OK) == 0 ? 0 : 1);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_INT(status, 0);
    vstring_free(id);
    vstring_free(path);
    queue_teardown(dir);
}

/*
 * The fallbacks, with the kernel made to refuse like an older one (a
 * seccomp filter in a child): O_TMPFILE unsupported -> a named temporary
 * file; linkat(AT_EMPTY_PATH) refused as before Linux 6.10 -> through
 * /proc/self/fd, and in a chroot without /proc -> a named file too.
 * create_refused(): in a child, refuse what, maybe chroot, create three
 * files; 0 when all three exist under their ids and nothing else is in
 * incoming/.
 */
static int
create_refused(int what, int in_chroot)
{
    pid_t   pid;
    int     status = -1;

    if ((pid = fork()) == 0) {
        VSTRING *id = vstring_alloc(QUEUE_ID_MAX);
        int     files = 0;
        DIR    *dp;
        struct dirent *de;

        if (in_chroot && chroot(".") < 0)
            _exit(2);
        unit_refuse(what);
        for (int i = 0; i < 3; i++) {
            STREAM *s = queue_file_create(QUEUE_INCOMING, id);

            if (s == NULL || !queue_id_ok(STR(id)))
                _exit(1);
            stream_close(s);
        }
        if ((dp = opendir(QUEUE_INCOMING)) == NULL)
            _exit(1);
        while ((de = readdir(dp)) != NULL)
            if (de->d_name[0] != '.')
                files += queue_id_ok(de->d_name) ? 1 : 100;
        _exit(files == 3 ? 0 : 1);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

UNIT_TEST(create_fallbacks)
{
    static const int cases[][2] = {
        {UNIT_REFUSE_TMPFILE, 0}, {UNIT_REFUSE_EMPTY_PATH, 0}, {UNIT_REFUSE_EMPTY_PATH, 1},
    };

    char   *dir = queue_setup();

    queue_params(NULL);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK(system("rm -rf incoming && mkdir -m 700 incoming") == 0);
        CHECK_INT(create_refused(cases[i][0], cases[i][1]), 0);
    }
    queue_teardown(dir);
}

/* Which file systems commit a file's names with its fsync. */
UNIT_TEST(fs_syncs_names)
{
    char   *dir = queue_setup();
    struct statfs sfs;
    VSTRING *id = vstring_alloc(32);
    STREAM *s;

    queue_params(NULL);
    s = queue_file_create(QUEUE_INCOMING, id);

    CHECK(queue_fs_syncs_names(0xEF53));        /* ext4 (ext2, ext3) */
    CHECK(queue_fs_syncs_names(0x58465342));    /* xfs */
    CHECK(!queue_fs_syncs_names(0x9123683E));   /* btrfs */
    CHECK(!queue_fs_syncs_names(0x01021994));   /* tmpfs */
    CHECK(!queue_fs_syncs_names(0x6969));       /* nfs */
    CHECK(!queue_fs_syncs_names(0));
    CHECK(s != NULL && fstatfs(stream_fd(s), &sfs) == 0);
    CHECK_INT(queue_fd_syncs_names(stream_fd(s)), queue_fs_syncs_names((long) sfs.f_type));
    stream_close(s);
    vstring_free(id);
    queue_teardown(dir);
}

/* Create queue/path (and its directory) as an empty file. */
static void
scan_file(const char *path)
{
    VSTRING *p = vstring_alloc(64);
    int     fd;

    vstring_strcpy(p, path);
    CHECK_INT(queue_mkdirs(STR(p)), 0);
    fd = open(path, O_CREAT | O_WRONLY, 0700);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    vstring_free(p);
}

static int
scan_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Every id of queue exactly once, through queue_scan_next(); "|"-joined, sorted. */
static const char *
scan_all(const char *queue, VSTRING *out)
{
    QUEUE_SCAN *scan = queue_scan_open(queue);
    ARGV   *ids = argv_alloc();
    const char *id;

    while ((id = queue_scan_next(scan)) != NULL)
        argv_add(ids, id);
    queue_scan_close(scan);
    qsort(ids->argv, ids->argc, sizeof(*ids->argv), scan_cmp);
    vstring_reset(out);
    for (size_t i = 0; i < ids->argc; i++) {
        if (i)
            vstring_addch(out, '|');
        vstring_cat(out, ids->argv[i]);
    }
    argv_free(ids);
    return STR(out);
}

UNIT_TEST(incremental_scan)
{
    char   *dir = (queue_params("hash_queue_names = deferred, hold\nhash_queue_depth = 2\n"),
                   queue_setup());
    VSTRING *out = vstring_alloc(256);
    QUEUE_SCAN *scan;

    mkdir(QUEUE_DEFERRED, 0700);
    scan_file("deferred/A/B/AB1");
    scan_file("deferred/A/B/AB2");
    scan_file("deferred/A/C/AC3");
    scan_file("deferred/F/0/F04");
    scan_file("deferred/A/top5");         /* a file above its level is listed too */
    scan_file("deferred/A/B/tmp.1.2");    /* not a queue id */
    scan_file("deferred/x");              /* a one-letter file where directories are */
    CHECK_STR(scan_all(QUEUE_DEFERRED, out), "AB1|AB2|AC3|F04|top5|x");
    CHECK_STR(scan_all(QUEUE_INCOMING, out), "");
    CHECK_STR(scan_all("nonexistent", out), "");
    scan_file("incoming/ID1");            /* a flat queue */
    CHECK_STR(scan_all(QUEUE_INCOMING, out), "ID1");
    /* Closing in the middle frees what is open. */
    scan = queue_scan_open(QUEUE_DEFERRED);
    CHECK(queue_scan_next(scan) != NULL);
    queue_scan_close(scan);
    queue_scan_close(NULL);
    vstring_free(out);
    queue_teardown(dir);
}

/* The inode number of a new queue file (and its id), after what sleep:
 * an empty recycle/ is looked at again only after 10 ms. */
static ino_t
create_one(VSTRING *id, const char *data)
{
    STREAM *s;
    struct stat st;
    ino_t   ino = 0;

    usleep(20000);
    if ((s = queue_file_create(QUEUE_INCOMING, id)) == NULL)
        return 0;
    if (*data)
        stream_puts(s, data);
    if (stream_flush(s) == 0 && fstat(stream_fd(s), &st) == 0)
        ino = st.st_ino;
    stream_close(s);
    return ino;
}

static int
dir_entries(const char *dir)
{
    DIR    *dp = opendir(dir);
    struct dirent *de;
    int     n = 0;

    if (dp == NULL)
        return -1;
    while ((de = readdir(dp)) != NULL)
        n += de->d_name[0] != '.';
    closedir(dp);
    return n;
}

/*
 * Recycling: a retired file waits in recycle/ with mode 0600 and no
 * content, and the next new queue file is that inode under a new id,
 * empty; a file there with content, the ready mode or a second name is
 * never taken (a new inode is made; the first two go to corrupt/, the
 * third loses its recycle/ name); without recycle/ a retired file is
 * unlinked.
 */
UNIT_TEST(recycle_retire_and_reuse)
{
    char   *dir = queue_setup();
    VSTRING *id = vstring_alloc(QUEUE_ID_MAX), *path = vstring_alloc(256);
    struct stat st;
    ino_t   first, again, other;
    blkcnt_t blocks;
    char    name[64], buf[64];
    STREAM *s;
    int     fd, taken;

    queue_params(NULL);
    CHECK(mkdir(QUEUE_RECYCLE, 0700) == 0 && mkdir(QUEUE_CORRUPT, 0700) == 0
          && mkdir(QUEUE_MAILDROP, 0700) == 0);
    first = create_one(id, "a message that is longer than the next\n");
    CHECK(first != 0);
    CHECK(stat(queue_path(path, QUEUE_INCOMING, STR(id)), &st) == 0);
    blocks = st.st_blocks;
    CHECK(queue_file_move(QUEUE_INCOMING, QUEUE_ACTIVE, STR(id), 0) == 0);
    CHECK(queue_file_retire(QUEUE_ACTIVE, STR(id)) == 0);
    CHECK(access(queue_path(path, QUEUE_ACTIVE, STR(id)), F_OK) < 0);
    /* Retired: never ready, its content and blocks kept (nothing freed). */
    vstring_sprintf(path, "%s/%s", QUEUE_RECYCLE, STR(id));
    CHECK(stat(STR(path), &st) == 0 && (st.st_mode & 07777) == QUEUE_MODE_RECYCLED);
    CHECK(st.st_size == 39 && blocks > 0 && st.st_blocks == blocks);

    /* Reused for the next file in incoming/: taken (0600), overwritten,
     * cut at the end of the new message. */
    usleep(20000);                              /* recycle/ was empty: looked at again after 10 ms */
    CHECK((s = queue_file_create(QUEUE_INCOMING, id)) != NULL);
    fd = stream_fd(s);
    CHECK(fstat(fd, &st) == 0 && st.st_ino == first && (st.st_mode & 07777) == QUEUE_MODE_NEW);
    CHECK_INT(dir_entries(QUEUE_RECYCLE), 0);
    stream_puts(s, "short\n");
    CHECK(stream_flush(s) == 0 && queue_file_trim(fd, stream_tell(s)) == 0);
    CHECK(queue_file_trim(fd, 100) == 0);       /* longer than the file: nothing */
    stream_close(s);
    CHECK((fd = open(queue_path(path, QUEUE_INCOMING, STR(id)), O_RDONLY)) >= 0);
    CHECK_INT(read(fd, buf, sizeof(buf)), 6);
    close(fd);
    CHECK(memcmp(buf, "short\n", 6) == 0);

    /* A big message's file keeps 64 kB, not all of its blocks. */
    CHECK(queue_file_move(QUEUE_INCOMING, QUEUE_ACTIVE, STR(id), 0) == 0);
    CHECK(truncate(queue_path(path, QUEUE_ACTIVE, STR(id)), 0) == 0);
    CHECK((fd = open(STR(path), O_WRONLY)) >= 0);
    for (int i = 0; i < 40; i++) {
        char    block[4096];

        memset(block, 'x', sizeof(block));
        CHECK(write(fd, block, sizeof(block)) == (ssize_t) sizeof(block));
    }
    CHECK(fsync(fd) == 0);
    close(fd);
    CHECK(queue_file_retire(QUEUE_ACTIVE, STR(id)) == 0);
    vstring_sprintf(path, "%s/%s", QUEUE_RECYCLE, STR(id));
    CHECK(stat(STR(path), &st) == 0 && st.st_size == 65536 && st.st_blocks <= 65536 / 512 + 8);
    usleep(20000);
    again = create_one(id, "short\n");
    CHECK_INT(again, first);

    /* Not in the other queues (postdrop's maildrop/). */
    CHECK(queue_file_move(QUEUE_INCOMING, QUEUE_ACTIVE, STR(id), 0) == 0);
    CHECK(queue_file_retire(QUEUE_ACTIVE, STR(id)) == 0);
    usleep(20000);
    CHECK((s = queue_file_create(QUEUE_MAILDROP, id)) != NULL);
    CHECK(fstat(stream_fd(s), &st) == 0 && st.st_ino != first);
    stream_close(s);
    CHECK_INT(dir_entries(QUEUE_RECYCLE), 1);
    again = create_one(id, "");
    CHECK_INT(again, first);
    CHECK_INT(dir_entries(QUEUE_RECYCLE), 0);

    /* Another owner's file (postdrop run by root sees mail_owner's) is
     * neither taken nor judged. */
    snprintf(name, sizeof(name), "%s/OWN1", QUEUE_RECYCLE);
    CHECK((fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
    CHECK(fchmod(fd, QUEUE_MODE_RECYCLED) == 0 && fchown(fd, 65534, 65534) == 0);
    close(fd);
    other = create_one(id, "");
    CHECK(other != 0 && other != first);
    CHECK(stat(name, &st) == 0 && st.st_uid == 65534);
    CHECK(unlink(name) == 0);

    /* Not taken: 0600 with content (taken by a cleanup, its recycle/ name
     * left by a crash), the ready mode (both to corrupt/), two names (the
     * recycle/ name removed). An empty 0600 file (retired by an older
     * qmgr) is taken. */
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof(name), "%s/ABC%d", QUEUE_RECYCLE, i);
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL, i == 1 ? 0700 : 0600);
        CHECK(fd >= 0 && fchmod(fd, i == 1 ? 0700 : 0600) == 0);
        if (i == 0)
            CHECK(write(fd, "x", 1) == 1);
        if (i == 2)
            CHECK(link(name, "hold/ABC2") == 0);
        close(fd);
    }
    CHECK(stat(QUEUE_RECYCLE "/ABC3", &st) == 0);
    again = st.st_ino;
    taken = 0;
    for (int i = 0; i < 6 && dir_entries(QUEUE_RECYCLE) > 0; i++)
        taken += create_one(id, "") == again;
    CHECK_INT(taken, 1);                        /* the empty 0600 one */
    CHECK_INT(dir_entries(QUEUE_RECYCLE), 0);
    CHECK(stat("hold/ABC2", &st) == 0 && st.st_nlink == 1);     /* the other name stays */
    CHECK(stat(QUEUE_CORRUPT "/ABC0", &st) == 0 && st.st_size == 1);
    CHECK(stat(QUEUE_CORRUPT "/ABC1", &st) == 0 && (st.st_mode & 07777) == 0700);

    /* No recycle/: unlinked. */
    CHECK(system("rm -rf " QUEUE_RECYCLE) == 0);
    CHECK(queue_file_retire(QUEUE_INCOMING, STR(id)) == 0);
    CHECK(access(queue_path(path, QUEUE_INCOMING, STR(id)), F_OK) < 0);
    vstring_free(id);
    vstring_free(path);
    queue_teardown(dir);
}


/*
 * Directory entries of recycle/ read by queue.c: this program's opendir(),
 * readdir() and getdents64() stand in for libc's (an executable's
 * definition wins over the shared library's), count, and pass on.
 */
static DIR *recycle_dir;                /* the open recycle/ directory */
static long recycle_opens;              /* opendir() of recycle/ */
static long recycle_entries;            /* its entries handed out */

DIR *
opendir(const char *name)
{
    DIR    *(*real) (const char *) = (DIR * (*)(const char *)) dlsym(RTLD_NEXT, "opendir");
    DIR    *dp = real(name);

    if (dp && strcmp(name, QUEUE_RECYCLE) == 0) {
        recycle_dir = dp;
        recycle_opens++;
    }
    return dp;
}

struct dirent *
readdir(DIR *dp)
{
    struct dirent *(*real) (DIR *) = (struct dirent * (*)(DIR *)) dlsym(RTLD_NEXT, "readdir");
    struct dirent *de = real(dp);

    if (de && dp == recycle_dir)
        recycle_entries++;
    return de;
}

ssize_t
getdents64(int fd, void *buf, size_t len)
{
    ssize_t (*real) (int, void *, size_t) =
        (ssize_t (*)(int, void *, size_t)) dlsym(RTLD_NEXT, "getdents64");
    ssize_t n = real(fd, buf, len);
    struct stat st, rst;

    if (n > 0 && fstat(fd, &st) == 0 && stat(QUEUE_RECYCLE, &rst) == 0
        && st.st_ino == rst.st_ino && st.st_dev == rst.st_dev)
        for (ssize_t off = 0; off < n; off += ((struct dirent64 *) ((char *) buf + off))->d_reclen)
            recycle_entries++;
    return n;
}

/* n empty files of mode 0600 in recycle/, named like queue ids. */
static void
recycle_fill(int n)
{
    char    name[64];
    int     fd;

    for (int i = 0; i < n; i++) {
        snprintf(name, sizeof(name), "%s/FILL%05d", QUEUE_RECYCLE, i);
        if ((fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0)
            abort();
        close(fd);
    }
}

/*
 * A full recycle/ costs little: with about 1,000 files waiting (after a
 * backlog was delivered), qmgr retiring messages must not read the whole
 * directory for each one (it unlinks for a while before it counts again),
 * and the directory never holds more than the bound; cleanup taking files
 * reads a few entries per new queue file, not the whole directory per
 * batch.
 */
UNIT_TEST(recycle_full_costs_little)
{
    char   *dir = queue_setup();
    VSTRING *id = vstring_alloc(QUEUE_ID_MAX);
    STREAM *s;

    queue_params(NULL);
    CHECK(mkdir(QUEUE_RECYCLE, 0700) == 0);
    recycle_fill(1000);
    recycle_opens = 0;
    for (int i = 0; i < 200; i++) {
        char    name[64];
        int     fd;

        snprintf(name, sizeof(name), "%s/RET%05d", QUEUE_ACTIVE, i);
        fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0700);
        CHECK(fd >= 0);
        close(fd);
        CHECK(queue_file_retire(QUEUE_ACTIVE, name + sizeof(QUEUE_ACTIVE)) == 0);
    }
    CHECK(recycle_opens <= 4);                  /* was 200: one per retire */
    CHECK_INT(dir_entries(QUEUE_RECYCLE), 1000);

    recycle_entries = 0;
    for (int i = 0; i < 64; i++) {
        CHECK((s = queue_file_create(QUEUE_INCOMING, id)) != NULL);
        if (s)
            stream_close(s);
    }
    CHECK(recycle_entries <= 64 * 16);          /* was 8,000: all per 8 files */
    CHECK_INT(dir_entries(QUEUE_RECYCLE), 1000 - 64);
    vstring_free(id);
    queue_teardown(dir);
}

UNIT_TESTS {
    {"id_ok", id_ok},
    {"path", path},
    {"postfix_placement", postfix_placement},
    {"create_ready_move", create_ready_move},
    {"create_hashed_and_chrooted", create_hashed_and_chrooted},
    {"create_fallbacks", create_fallbacks},
    {"fs_syncs_names", fs_syncs_names},
    {"incremental_scan", incremental_scan},
    {"recycle_retire_and_reuse", recycle_retire_and_reuse},
    {"recycle_full_costs_little", recycle_full_costs_little},
    UNIT_END
};
