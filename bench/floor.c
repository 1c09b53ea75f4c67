/*
 * floor.c - the least an MTA must do for the bench's local run (c), as a
 * yardstick for posthorn and Postfix: not an MTA, a floor.
 *
 *   floor PORT QUEUEDIR MAILDIR SESSIONS AGENTS
 *
 * SESSIONS threads accept SMTP sessions on 127.0.0.1:PORT (HELO, MAIL,
 * RCPT, DATA, QUIT; every reply 2xx/3xx). At the end of DATA the message
 * goes into a new file in QUEUEDIR, which is fsync()ed before the 250 --
 * the durability promise of both MTAs. AGENTS threads (the local
 * delivery agents: local_destination_concurrency_limit) each take the
 * next queue file, read it, write it to an unnamed file in MAILDIR/tmp,
 * fsync() it, link it into MAILDIR/new and unlink the queue file.
 *
 * What it leaves out is everything an MTA does besides: no logging, no
 * privilege changes, no table lookups, no header processing, no separate
 * processes (so no IPC between them), no crash recovery. Its rate is what
 * the machine allows an MTA with the same durability on this path; see
 * docs/PERFORMANCE.md section 28.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINE_MAX_LEN	4096
#define MSG_MAX_LEN	(1 << 20)

static const char *queue_dir, *maildir;
static int listen_fd;

/* The queue: names of fsync()ed queue files, oldest first. */
static pthread_mutex_t queue_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_nonempty = PTHREAD_COND_INITIALIZER;
static unsigned long *queue_ring;
static size_t queue_head, queue_len, queue_cap;
static unsigned long next_id;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static void queue_put(unsigned long id)
{
    pthread_mutex_lock(&queue_lock);
    if (queue_len == queue_cap) {
	size_t cap = queue_cap ? 2 * queue_cap : 1024;
	unsigned long *ring = malloc(cap * sizeof(*ring));

	if (ring == 0)
	    die("malloc");
	for (size_t i = 0; i < queue_len; i++)
	    ring[i] = queue_ring[(queue_head + i) % queue_cap];
	free(queue_ring);
	queue_ring = ring;
	queue_cap = cap;
	queue_head = 0;
    }
    queue_ring[(queue_head + queue_len++) % queue_cap] = id;
    pthread_cond_signal(&queue_nonempty);
    pthread_mutex_unlock(&queue_lock);
}

static unsigned long queue_get(void)
{
    unsigned long id;

    pthread_mutex_lock(&queue_lock);
    while (queue_len == 0)
	pthread_cond_wait(&queue_nonempty, &queue_lock);
    id = queue_ring[queue_head];
    queue_head = (queue_head + 1) % queue_cap;
    queue_len--;
    pthread_mutex_unlock(&queue_lock);
    return id;
}

/* A buffered reader of one SMTP session's lines. */
struct session {
    int     fd;
    char    buf[16384];
    size_t  start, end;
};

/* The next line without its CRLF into line; -1 at EOF or on error. */
static ssize_t read_line(struct session *s, char *line)
{
    size_t  len = 0;

    for (;;) {
	while (s->start < s->end) {
	    char    c = s->buf[s->start++];

	    if (c == '\n') {
		if (len > 0 && line[len - 1] == '\r')
		    len--;
		line[len] = 0;
		return (ssize_t) len;
	    }
	    if (len < LINE_MAX_LEN - 1)
		line[len++] = c;
	}
	ssize_t n = read(s->fd, s->buf, sizeof(s->buf));

	if (n <= 0)
	    return -1;
	s->start = 0;
	s->end = (size_t) n;
    }
}

static int reply(struct session *s, const char *text)
{
    size_t  len = strlen(text);

    return send(s->fd, text, len, MSG_NOSIGNAL) == (ssize_t) len ? 0 : -1;
}

static void write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
	ssize_t n = write(fd, data, len);

	if (n < 0)
	    die("write");
	data += n;
	len -= (size_t) n;
    }
}

/* The message in msg goes into a new queue file, durable on return. */
static unsigned long enqueue(const char *msg, size_t len)
{
    char    path[4096];
    unsigned long id = __atomic_fetch_add(&next_id, 1, __ATOMIC_RELAXED);
    int     fd;

    snprintf(path, sizeof(path), "%s/%lu", queue_dir, id);
    if ((fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0600)) < 0)
	die(path);
    write_all(fd, msg, len);
    if (fsync(fd) < 0)
	die("fsync");
    close(fd);
    return id;
}

static void smtp_session(int fd, char *msg)
{
    struct session s = {.fd = fd};
    char    line[LINE_MAX_LEN];
    ssize_t len;

    if (reply(&s, "220 floor ESMTP\r\n") < 0)
	return;
    while ((len = read_line(&s, line)) >= 0) {
	if (strncasecmp(line, "DATA", 4) == 0) {
	    size_t  used = 0;

	    if (reply(&s, "354 End data with <CR><LF>.<CR><LF>\r\n") < 0)
		return;
	    while ((len = read_line(&s, line)) >= 0 && strcmp(line, ".") != 0) {
		const char *text = line[0] == '.' ? line + 1 : line;
		size_t  tlen = line[0] == '.' ? (size_t) len - 1 : (size_t) len;

		if (used + tlen + 2 <= MSG_MAX_LEN) {
		    memcpy(msg + used, text, tlen);
		    memcpy(msg + used + tlen, "\r\n", 2);
		    used += tlen + 2;
		}
	    }
	    if (len < 0)
		return;
	    queue_put(enqueue(msg, used));
	    if (reply(&s, "250 2.0.0 Ok: queued\r\n") < 0)
		return;
	} else if (strncasecmp(line, "QUIT", 4) == 0) {
	    reply(&s, "221 2.0.0 Bye\r\n");
	    return;
	} else if (reply(&s, "250 Ok\r\n") < 0) {
	    return;
	}
    }
}

static void *session_thread(void *unused)
{
    char   *msg = malloc(MSG_MAX_LEN);

    if (msg == 0)
	die("malloc");
    for (;;) {
	int     fd = accept(listen_fd, 0, 0);

	if (fd < 0) {
	    if (errno == EINTR || errno == ECONNABORTED)
		continue;
	    die("accept");
	}
	smtp_session(fd, msg);
	close(fd);
    }
    return unused;
}

static void *agent_thread(void *unused)
{
    char   *msg = malloc(MSG_MAX_LEN);
    char    path[4096], dst[4096], tmp[4096];
    unsigned long id;

    if (msg == 0)
	die("malloc");
    snprintf(tmp, sizeof(tmp), "%s/tmp", maildir);
    for (;;) {
	ssize_t len;
	int     fd, out;

	id = queue_get();
	snprintf(path, sizeof(path), "%s/%lu", queue_dir, id);
	if ((fd = open(path, O_RDONLY)) < 0)
	    die(path);
	if ((len = read(fd, msg, MSG_MAX_LEN)) < 0)
	    die("read");
	close(fd);
	if ((out = open(tmp, O_TMPFILE | O_WRONLY, 0600)) < 0)
	    die(tmp);
	write_all(out, msg, (size_t) len);
	if (fsync(out) < 0)
	    die("fsync");
	snprintf(dst, sizeof(dst), "%s/new/%lu.floor", maildir, id);
	if (linkat(out, "", AT_FDCWD, dst, AT_EMPTY_PATH) < 0)
	    die(dst);
	close(out);
	if (unlink(path) < 0)
	    die(path);
    }
    return unused;
}

int     main(int argc, char **argv)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    pthread_t tid;
    int     sessions, agents, on = 1;

    if (argc != 6) {
	fprintf(stderr, "usage: floor PORT QUEUEDIR MAILDIR SESSIONS AGENTS\n");
	return 2;
    }
    queue_dir = argv[2];
    maildir = argv[3];
    sessions = atoi(argv[4]);
    agents = atoi(argv[5]);
    sin.sin_port = htons((unsigned short) atoi(argv[1]));
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if ((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
	die("socket");
    setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (bind(listen_fd, (struct sockaddr *) &sin, sizeof(sin)) < 0)
	die("bind");
    if (listen(listen_fd, 256) < 0)
	die("listen");
    for (int i = 0; i < agents; i++)
	if (pthread_create(&tid, 0, agent_thread, 0) != 0)
	    die("pthread_create");
    for (int i = 0; i < sessions; i++)
	if (pthread_create(&tid, 0, session_thread, 0) != 0)
	    die("pthread_create");
    pause();
    return 0;
}
