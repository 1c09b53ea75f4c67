/*
 * error.h - private interface of the error delivery agent.
 *
 * One binary for two master.cf services:
 *   error unix - - n - - error     bounce every recipient
 *   retry unix - - n - - error     defer every recipient
 * The program defers instead of bouncing when its service name (or
 * argv[0]) is "retry", and under soft_bounce = yes.
 *
 * error.c          main(): single_server_main(error_service)
 * error_deliver.c  one request: the next hop is the reason text
 */
#ifndef POSTHORN_ERROR_H
#define POSTHORN_ERROR_H

#include "deliver.h"
#include "stream.h"

#define ERROR_REASON_DEFAULT "delivery failed"

/* Set once after the privilege drop: defer instead of bounce. */
extern int error_defer_only;

/* Deliver one request (tests call it without a socket). */
void    error_deliver(DELIVER_REQUEST *req);
/* The single_server callback. */
void    error_service(STREAM *client);

#endif
