/*
 * discard.h - private interface of the discard delivery agent
 * ("discard unix - - n - - discard" in master.cf).
 *
 * discard.c          main(): single_server_main(discard_service)
 * discard_deliver.c  one request: every recipient "delivered", with the
 *                    next hop as the reason
 */
#ifndef POSTHORN_DISCARD_H
#define POSTHORN_DISCARD_H

#include "deliver.h"
#include "stream.h"

#define DISCARD_REASON_DEFAULT "discarded"

/*
 * Split "2.Y.Z text" into the code and the text; a reason without a
 * code (or with a code of another class) gets 2.0.0 / class 2. Returns
 * the text part (inside reason).
 */
const char *discard_split_reason(const char *reason, char *dsn, size_t dsnlen);

/* Deliver one request (tests call it without a socket). */
void    discard_deliver(DELIVER_REQUEST *req);
/* The single_server callback. */
void    discard_service(STREAM *client);

#endif
