/*
 * mail_flow.h - in_flow_delay: the mail flow tokens between qmgr and
 * cleanup (Postfix's in_flow_delay behaviour).
 *
 * master makes one pipe and hands both ends to every service process on
 * SERVER_FLOW_READ_FD and SERVER_FLOW_WRITE_FD (server.h). qmgr tops it
 * up to default_process_limit tokens (bytes) in every round of its
 * scheduler; cleanup takes one token per message and, when there is
 * none, waits for one for at most in_flow_delay before it goes on
 * anyway. So while qmgr runs, nothing waits; when qmgr stalls for that
 * many messages (no CPU for it, or stuck), new messages are slowed down
 * until it runs again, by at most in_flow_delay each.
 *
 * DIAGNOSTICS: none; without the pipe (a program started by hand, or
 * standalone) every call is a no-op that returns -1.
 */
#ifndef POSTHORN_MAIL_FLOW_H
#define POSTHORN_MAIL_FLOW_H

void    mail_flow_init(void);           /* server skeleton, after master's fds are known */
int     mail_flow_get(int count);       /* count taken, or -1: not that many */
int     mail_flow_put(int count);       /* count put, or -1 */
int     mail_flow_count(void);          /* tokens in the pipe, or -1 */
void    mail_flow_wait(int count, double seconds); /* take count, waiting at most seconds */

#endif
