/* log: stderr lines, escaped, one write per line so threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
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

void
log_set_program(const char *name)
{
	log_program = name;
}

static void
format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
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

void
log_event(const char *event, struct json_object *obj)
{
	struct json_object *line = json_object_new_object();
	char when[32];
	const char *text;

	if (line == NULL) {
		json_object_put(obj);
		return;
	}
	format_time(when, sizeof(when));
	json_object_object_add(line, "time", json_object_new_string(when));
	json_object_object_add(line, "event", json_object_new_string(event));
	if (obj != NULL) {
		json_object_object_foreach(obj, key, val)
		{
			json_object_object_add(line, key, json_object_get(val));
		}
		json_object_put(obj);
	}
	/* json-c escapes control bytes and '/', so the line is one line. */
	text = json_object_to_json_string_ext(
	    line, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL) {
		size_t len = strlen(text);
		char buf[4096];
		if (len + 1 < sizeof(buf)) {
			memcpy(buf, text, len);
			buf[len] = '\n';
			write_all(buf, len + 1);
		} else {
			write_all(text, len);
			write_all("\n", 1);
		}
	}
	json_object_put(line);
}
