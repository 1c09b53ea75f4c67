/*
 * smtpd_data_stubs.h - stand-ins for the session side of
 * smtpd/smtpd_data.c (replies, cleanup stream, restriction hooks), so
 * that the DATA/BDAT reader and the ESMTP parameter parser can be
 * compiled alone: included once, after smtpd_data.c, by
 * tests/unit/test_smtpd_data.c and tests/fuzz/fuzz_smtpd_data.c.
 * Every stub does nothing and reports success.
 */
#ifndef POSTHORN_SMTPD_DATA_STUBS_H
#define POSTHORN_SMTPD_DATA_STUBS_H

void smtpd_chat_reply(SMTPD_STATE *s, const char *f, ...) { (void) s; (void) f; }
int smtpd_chat_flush(SMTPD_STATE *s) { (void) s; return 0; }
void smtpd_chat_reply_timeout(SMTPD_STATE *s) { (void) s; }
void smtpd_chat_deadline(SMTPD_STATE *s, int d) { (void) s; (void) d; }
void smtpd_chat_log_reject(SMTPD_STATE *s, const char *r) { (void) s; (void) r; }
void smtpd_chat_log_action(SMTPD_STATE *s, const char *a, const char *t) { (void) s; (void) a; (void) t; }
void smtpd_policy_server_addr(const SMTPD_STATE *s, char *h, size_t hs, char *p, size_t ps)
{ (void) s; (void) p; (void) ps; if (hs) *h = 0; }
const char *smtpd_chat_queue_label(const SMTPD_STATE *s) { (void) s; return "NOQUEUE"; }
void smtpd_cleanup_abort(SMTPD_STATE *s) { (void) s; }
void smtpd_state_mail_reset(SMTPD_STATE *s) { (void) s; }
int smtpd_cleanup_begin_content(SMTPD_STATE *s) { (void) s; return 0; }
int smtpd_cleanup_finish(SMTPD_STATE *s, VSTRING *r) { (void) s; (void) r; return 0; }
/* the restriction hooks (smtpd_check.h) */
int smtpd_check_data_stage(SMTPD_STATE *s, VSTRING *r) { (void) s; (void) r; return 0; }
int smtpd_check_eod_stage(SMTPD_STATE *s, VSTRING *r) { (void) s; (void) r; return 0; }
int smtpd_cleanup_line(SMTPD_STATE *s, int t, const char *d, size_t l)
{ (void) s; (void) t; (void) d; (void) l; return 0; }

#endif
