/* log: one line per event on stderr, every line of a process in one format
 * (log_format): JSON objects, or text lines "time program level: ...".
 * Operator messages, audit events and access lines alike. Never pass a
 * token, password or key. Every line is written at once, except the access
 * lines of a thread that started a buffer (log_fields_deferred). */
#ifndef JWT_LOG_H
#define JWT_LOG_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

enum log_format { LOG_FORMAT_JSON, LOG_FORMAT_TEXT };

/* Once at start, before any thread logs. The default is JSON. */
void log_set_format(enum log_format format);

/* "json" or "text" (exact); -1 for anything else. */
int log_format_parse(const char *name, enum log_format *out);

/* One member of a log_fields line: a string (str, len bytes; len 0 with
 * str set: strlen), an integer (str NULL, is_int), or null (neither). */
struct log_field {
	const char *key; /* the program's own identifier */
	size_t key_len;  /* 0: strlen(key); LOG_KEY sets it */
	const char *str;
	size_t len;
	int64_t num;
	bool is_int;
};

/* .key and .key_len of a key written as a string literal. */
#define LOG_KEY(k) .key = "" k, .key_len = sizeof(k) - 1

/* Writes an event line from fields without building a json-c object:
 * the access log's per-request line. Same format, same single write. */
void log_fields(const char *event, const struct log_field *f, size_t n);

/* This thread's deferred lines wait in a buffer of cap bytes (at least
 * 8 KiB) instead of a write(2) each. They are written, whole lines in one
 * write, when the next would not fit, before any other line of this thread
 * (so its lines keep their order), and at log_buffer_flush. Whoever starts
 * a buffer must flush it on a timer and stop it before the thread ends:
 * what is pending at a crash is lost. -1: no memory. */
int log_buffer_start(size_t cap);
void log_buffer_flush(void);
void log_buffer_stop(void); /* flushes, frees; none started: nothing */

/* log_fields into this thread's buffer when it has one (else written at
 * once, like log_fields). True when the line is the buffer's only one:
 * the moment to arm the flush timer. */
bool log_fields_deferred(
    const char *event, const struct log_field *f, size_t n);

void log_set_level(enum log_level level);

/* "debug", "info", "warn" or "error" (exact); -1 for anything else. */
int log_level_parse(const char *name, enum log_level *out);

/* Text: "2026-11-23T01:02:03Z auth_service warn: <message>", control
 * bytes in the formatted message escaped so untrusted text cannot forge
 * lines. JSON: {"time","event":"log","program","level","message"}. */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Program name shown in every line; a static string. */
void log_set_program(const char *name);

/* Writes obj as one line, adding "time" (RFC 3339, UTC) and "event"
 * first (text: "time program info: event key=value ..."). Takes ownership
 * of obj. Thread-safe (whole lines per write(2), under one lock). */
void log_event(const char *event, struct json_object *obj);

#endif
