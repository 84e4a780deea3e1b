/* log: one line per event on stderr. Human lines for operators, JSON lines
 * for the audit and access logs. Never pass a token, password or key. */
#ifndef JWT_LOG_H
#define JWT_LOG_H

#include <json-c/json.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

void log_set_level(enum log_level level);

/* "debug", "info", "warn" or "error" (exact); -1 for anything else. */
int log_level_parse(const char *name, enum log_level *out);

/* "2026-11-23T01:02:03Z auth_service warn: <message>"; control bytes in the
 * formatted message are escaped so untrusted text cannot forge lines. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Program name shown in every line; a static string. */
void log_set_program(const char *name);

/* Writes obj as one JSON line, adding "time" (RFC 3339, UTC) and "event"
 * first. Takes ownership of obj. Thread-safe (one write(2) per line). */
void log_event(const char *event, struct json_object *obj);

#endif
