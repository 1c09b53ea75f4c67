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

#define DISCARD_REASON_DEFAULT "discarded"   /* nexthop without text */

/* Deliver one request (tests call it without a socket). */
void    discard_deliver(DELIVER_REQUEST *req);
/* The single_server callback. */
void    discard_service(STREAM *client);

#endif
