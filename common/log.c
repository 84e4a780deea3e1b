/* log: stderr lines, escaped, one write per line so threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;
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

void
log_event(const char *event, struct json_object *obj)
{
	char head[256], stack[4096], when[32], *buf = stack;
	const char *rest = "}";
	size_t o, len = 1;

	format_time(when, sizeof(when));
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
