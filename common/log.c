/* log: stderr lines, escaped, one write per line so threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
static enum log_format log_format = LOG_FORMAT_JSON;
static const char *log_program = "jwt";

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
log_set_level(enum log_level level)
{
	log_min = level;
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names);
	     i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

void
log_set_format(enum log_format format)
{
	log_format = format;
}

int
log_format_parse(const char *name, enum log_format *out)
{
	if (strcmp(name, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else if (strcmp(name, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else
		return -1;
	return 0;
}

void
log_set_program(const char *name)
{
	log_program = name;
}

/* The text changes once a second: each thread keeps its last one rather
 * than format every line. */
static void
format_time(char *buf, size_t len)
{
	static __thread time_t last_sec = -1;
	static __thread char last[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (ts.tv_sec != last_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%SZ", &tm);
		last_sec = ts.tv_sec;
	}
	snprintf(buf, len, "%s", last);
}

static void
write_all(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n <= 0)
			return;
		buf += n;
		len -= (size_t)n;
	}
}

/* Appends event as a JSON string. Event names are the program's own
 * identifiers; escaping '"', '\\' and control bytes keeps the line valid
 * JSON whatever they hold. Stops short rather than overflow. */
static size_t
append_json_string(char *buf, size_t cap, size_t o, const char *s)
{
	if (o < cap)
		buf[o++] = '"';
	for (const unsigned char *p = (const unsigned char *)s;
	     *p != '\0' && o + 8 < cap; p++) {
		if (*p < 0x20 || *p == '"' || *p == '\\')
			o += (size_t)snprintf(
			    buf + o, cap - o, "\\u%04x", (unsigned int)*p);
		else
			buf[o++] = (char)*p;
	}
	if (o < cap)
		buf[o++] = '"';
	return o;
}

/* Appends s as a text-line value: as is when it is one plain word, else
 * quoted with '"', '\\' and control bytes escaped, so a value can never
 * end the line or pose as another key. Stops short rather than
 * overflow. */
static size_t
append_text_value(char *buf, size_t cap, size_t o, const char *s, size_t len)
{
	bool plain = len > 0;

	for (size_t i = 0; i < len && plain; i++) {
		unsigned char c = (unsigned char)s[i];
		plain =
		    c > 0x20 && c != 0x7f && c != '"' && c != '\\' && c != '=';
	}
	if (o + 8 >= cap)
		return o;
	if (plain) {
		if (len > cap - o - 8)
			len = cap - o - 8;
		memcpy(buf + o, s, len);
		return o + len;
	}
	buf[o++] = '"';
	for (size_t i = 0; i < len && o + 8 < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
		else if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	return o;
}

/* JSON: {"time":"...","event":"log","program":...,"level":...,
 * "message":...}. */
static void
log_msg_json(const char *when, enum log_level level, const char *raw)
{
	char line[1600];
	size_t o;

	o = (size_t)snprintf(line, sizeof(line),
	    "{\"time\":\"%s\",\"event\":\"log\",\"program\":", when);
	o = append_json_string(line, sizeof(line) - 32, o, log_program);
	o += (size_t)snprintf(line + o, sizeof(line) - o,
	    ",\"level\":\"%s\",\"message\":", level_names[level]);
	o = append_json_string(line, sizeof(line) - 4, o, raw);
	line[o++] = '}';
	line[o++] = '\n';
	write_all(line, o);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[512], line[1200], when[32];
	size_t o = 0;
	va_list ap;
	int n;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	format_time(when, sizeof(when));
	if (log_format == LOG_FORMAT_JSON) {
		log_msg_json(when, level, raw);
		return;
	}
	n = snprintf(line, sizeof(line), "%s %s %s: ", when, log_program,
	    level_names[level]);
	if (n < 0)
		return;
	o = (size_t)n;
	for (const unsigned char *p = (const unsigned char *)raw;
	     *p != '\0' && o + 5 < sizeof(line); p++) {
		if (*p < 0x20 || *p == 0x7f)
			o += (size_t)snprintf(
			    line + o, sizeof(line) - o, "\\x%02x", *p);
		else
			line[o++] = (char)*p;
	}
	line[o++] = '\n';
	write_all(line, o);
}

/* The old shape: every member copied into a new object led by time and
 * event. Kept for an obj that has its own "time" or "event", which the
 * copy replaces. */
static void
log_event_merged(const char *when, const char *event, struct json_object *obj)
{
	struct json_object *line = json_object_new_object();
	const char *text;
	size_t len;

	if (line == NULL)
		return;
	json_object_object_add(line, "time", json_object_new_string(when));
	json_object_object_add(line, "event", json_object_new_string(event));
	json_object_object_foreach(obj, key, val)
	{
		json_object_object_add(line, key, json_object_get(val));
	}
	text = json_object_to_json_string_length(line,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (text != NULL) {
		char *buf = malloc(len + 1);

		if (buf != NULL) {
			memcpy(buf, text, len);
			buf[len] = '\n';
			write_all(buf, len + 1);
			free(buf);
		}
	}
	json_object_put(line);
}

/* Text: "time program info: event key=value ..." with each value as
 * append_text_value writes it (strings bare or quoted, others as JSON). */
static void
log_event_text(const char *when, const char *event, struct json_object *obj)
{
	char line[4096];
	size_t o;

	o = (size_t)snprintf(
	    line, sizeof(line), "%s %s info: ", when, log_program);
	o = append_text_value(line, sizeof(line), o, event, strlen(event));
	if (obj != NULL) {
		json_object_object_foreach(obj, key, val)
		{
			const char *v;
			size_t vlen;

			if (o + 16 >= sizeof(line))
				break;
			line[o++] = ' ';
			o = append_text_value(
			    line, sizeof(line) - 8, o, key, strlen(key));
			line[o++] = '=';
			if (val == NULL) {
				v = "null";
				vlen = 4;
			} else if (json_object_is_type(val, json_type_string)) {
				v = json_object_get_string(val);
				vlen = (size_t)json_object_get_string_len(val);
			} else {
				v = json_object_to_json_string_length(val,
				    JSON_C_TO_STRING_PLAIN |
				        JSON_C_TO_STRING_NOSLASHESCAPE,
				    &vlen);
			}
			o = append_text_value(line, sizeof(line), o, v, vlen);
		}
	}
	line[o++] = '\n';
	write_all(line, o);
}

/* Appends len bytes, stopping short rather than overflow. */
static size_t
append_bytes(char *buf, size_t cap, size_t o, const char *s, size_t len)
{
	if (o >= cap)
		return o;
	if (len > cap - o)
		len = cap - o;
	memcpy(buf + o, s, len);
	return o + len;
}

/* Appends v in decimal (no printf: the access line is on the hot path). */
static size_t
append_int(char *buf, size_t cap, size_t o, int64_t v)
{
	char digits[24];
	size_t n = 0;
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;

	do {
		digits[sizeof(digits) - 1 - n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		digits[sizeof(digits) - 1 - n++] = '-';
	return append_bytes(buf, cap, o, digits + sizeof(digits) - n, n);
}

/* s[0..len) as a JSON string (RFC 8259 7): runs of plain bytes copied at
 * once, '"', '\\' and control bytes escaped. Stops short rather than
 * overflow, and always closes the string. */
static size_t
append_json_string_len(
    char *buf, size_t cap, size_t o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t from = 0;

	if (o + 2 >= cap)
		return o;
	cap -= 1; /* room for the closing quote */
	buf[o++] = '"';
	for (size_t i = 0; i < len && o < cap; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		o = append_bytes(buf, cap, o, s + from, i - from);
		o = append_bytes(buf, cap, o, esc, sizeof(esc));
		from = i + 1;
	}
	o = append_bytes(buf, cap, o, s + from, len - from);
	buf[o++] = '"';
	return o;
}

void
log_fields(const char *event, const struct log_field *f, size_t n)
{
	char line[4096], when[32];
	size_t o, cap = sizeof(line) - 2;
	bool text = log_format == LOG_FORMAT_TEXT;

	format_time(when, sizeof(when));
	if (text) {
		o = (size_t)snprintf(
		    line, sizeof(line), "%s %s info: ", when, log_program);
		o = append_text_value(line, cap, o, event, strlen(event));
	} else {
		o = append_bytes(line, cap, 0, "{\"time\":\"", 9);
		o = append_bytes(line, cap, o, when, strlen(when));
		o = append_bytes(line, cap, o, "\",\"event\":", 10);
		o = append_json_string(line, cap, o, event);
	}
	for (size_t i = 0; i < n && o + 64 < cap; i++) {
		size_t len = f[i].str == NULL ? 0
		             : f[i].len > 0   ? f[i].len
		                              : strlen(f[i].str);
		/* text: " key=", JSON: ",\"key\":" (keys are identifiers). */
		o = append_bytes(
		    line, cap, o, text ? " " : ",\"", text ? 1 : 2);
		o = append_bytes(line, cap, o, f[i].key, strlen(f[i].key));
		o = append_bytes(
		    line, cap, o, text ? "=" : "\":", text ? 1 : 2);
		if (f[i].str != NULL)
			o = text
			        ? append_text_value(line, cap, o, f[i].str, len)
			        : append_json_string_len(
			              line, cap, o, f[i].str, len);
		else if (f[i].is_int)
			o = append_int(line, cap, o, f[i].num);
		else
			o = append_bytes(
			    line, cap, o, text ? "-" : "null", text ? 1 : 4);
	}
	if (!text)
		line[o++] = '}';
	line[o++] = '\n';
	write_all(line, o);
}

void
log_event(const char *event, struct json_object *obj)
{
	char head[256], stack[4096], when[32], *buf = stack;
	const char *rest = "}";
	size_t o, len = 1;

	format_time(when, sizeof(when));
	if (log_format == LOG_FORMAT_TEXT) {
		log_event_text(when, event, obj);
		json_object_put(obj);
		return;
	}
	if (obj != NULL && (json_object_object_get_ex(obj, "time", NULL) ||
	                       json_object_object_get_ex(obj, "event", NULL))) {
		log_event_merged(when, event, obj);
		json_object_put(obj);
		return;
	}
	/* {"time":...,"event":... then obj's own text after its '{': no
	 * copy of the members. json-c escapes control bytes and '/' stays
	 * as is, so the line is one line. */
	o = (size_t)snprintf(
	    head, sizeof(head), "{\"time\":\"%s\",\"event\":", when);
	o = append_json_string(head, sizeof(head), o, event);
	if (obj != NULL && json_object_object_length(obj) > 0 &&
	    (rest = json_object_to_json_string_length(obj,
	         JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
	         &len)) != NULL) {
		head[o++] = ','; /* the event stops 8 bytes short of the end */
		rest++;          /* past the object's own '{' */
		len--;
	}
	if (rest == NULL)
		goto out;
	/* One write per line, so lines from threads never interleave. */
	if (o + len + 1 > sizeof(stack) && (buf = malloc(o + len + 1)) == NULL)
		goto out;
	memcpy(buf, head, o);
	memcpy(buf + o, rest, len);
	buf[o + len] = '\n';
	write_all(buf, o + len + 1);
	if (buf != stack)
		free(buf);
out:
	json_object_put(obj);
}
