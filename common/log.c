/* log: stderr lines, escaped; each write(2) holds whole lines only, under
 * one lock, so threads never interleave. Access lines may wait in a
 * per-thread buffer (log_buffer_start); every other line is written at
 * once, after the pending lines of its own thread. */
#include "log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The longest line log_fields writes, and the room the buffer keeps. */
#define LOG_FIELDS_LINE_MAX 4096
/* {"time":"...","event":"...": the event is cut to fit (json_head). */
#define LOG_HEAD_MAX 128

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
 * than format every line. The coarse clock (a tick, a few ms, behind at
 * most; cheaper to read) is plenty for a time shown to the second. */
static __thread time_t log_time_sec = -1; /* of format_time's text */

static const char *
format_time(size_t *len)
{
	static __thread char last[32];
	static __thread size_t last_len;
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	if (ts.tv_sec != log_time_sec) {
		gmtime_r(&ts.tv_sec, &tm);
		last_len =
		    strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%SZ", &tm);
		log_time_sec = ts.tv_sec;
	}
	if (len != NULL)
		*len = last_len;
	return last;
}

/* One lock for every write of the process: a write(2) of more than
 * PIPE_BUF bytes to a pipe, or one cut short, is not atomic, and a buffer
 * flush is one such write; under the lock its lines stay whole whatever
 * stderr is (file, pipe, journald's socket). */
static pthread_mutex_t log_write_lock = PTHREAD_MUTEX_INITIALIZER;

static void
write_all(const char *buf, size_t len)
{
	pthread_mutex_lock(&log_write_lock);
	while (len > 0) {
		ssize_t n = write(STDERR_FILENO, buf, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf += n;
		len -= (size_t)n;
	}
	pthread_mutex_unlock(&log_write_lock);
}

/* This thread's pending access lines: whole lines only, len bytes of
 * buf (cap bytes, malloc'd by log_buffer_start). buf NULL: not started,
 * every line written at once. */
struct log_buffer {
	char *buf;
	size_t len, cap;
};

static __thread struct log_buffer log_buf;

int
log_buffer_start(size_t cap)
{
	if (log_buf.buf != NULL)
		return 0;
	if (cap < 2 * LOG_FIELDS_LINE_MAX)
		cap = 2 * LOG_FIELDS_LINE_MAX;
	if ((log_buf.buf = malloc(cap)) == NULL)
		return -1;
	log_buf.len = 0;
	log_buf.cap = cap;
	return 0;
}

void
log_buffer_flush(void)
{
	if (log_buf.len > 0) {
		write_all(log_buf.buf, log_buf.len);
		log_buf.len = 0;
	}
}

void
log_buffer_stop(void)
{
	log_buffer_flush();
	free(log_buf.buf);
	log_buf = (struct log_buffer){ 0 };
}

/* Writes one whole line now, after this thread's pending lines: in the
 * same write(2) when it fits beside them, so an audit line costs no extra
 * system call and one thread's lines keep their order. */
static void
emit(const char *line, size_t len)
{
	if (log_buf.len > 0 && len <= log_buf.cap - log_buf.len) {
		memcpy(log_buf.buf + log_buf.len, line, len);
		log_buf.len += len;
		log_buffer_flush();
		return;
	}
	log_buffer_flush();
	write_all(line, len);
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
	emit(line, o);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char raw[512], line[1200];
	const char *when;
	size_t o = 0;
	va_list ap;
	int n;

	if (level < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	when = format_time(NULL);
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
	emit(line, o);
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
			emit(buf, len + 1);
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
	emit(line, o);
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
 * overflow (before an escape that would not fit whole: half of one would
 * escape the closing quote), and always closes the string. */
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
		if (cap - o < sizeof(esc)) { /* never half an escape */
			from = len;
			break;
		}
		o = append_bytes(buf, cap, o, esc, sizeof(esc));
		from = i + 1;
	}
	o = append_bytes(buf, cap, o, s + from, len - from);
	buf[o++] = '"';
	return o;
}

/* The bytes a JSON string cannot hold as they are (RFC 8259 7). */
static const unsigned char json_escaped[256] = {
	[0 ... 0x1f] = 1,
	['"'] = 1,
	['\\'] = 1,
};

/* True if one of the 8 bytes of w is in json_escaped: below 0x20, '"' or
 * '\\' (the bit tricks of "Bit Twiddling Hacks", hasless and haszero:
 * exact as to whether any byte matches). */
static bool
json_word_escaped(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
	uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((quote - ones) & ~quote) |
	           ((backslash - ones) & ~backslash)) &
	       highs;
}

/* The index of the first byte of p[i..len) to escape, or len: eight bytes
 * at a time, then one at a time. */
static size_t
json_next_escaped(const unsigned char *p, size_t i, size_t len)
{
	uint64_t w;

	for (; i + 8 <= len; i += 8) {
		memcpy(&w, p + i, 8);
		if (json_word_escaped(w))
			break;
	}
	/* Fewer than 8 left: the last 8 bytes of p, clean, end the scan
	 * (bytes before i among them may match: then one at a time). */
	if (i < len && i + 8 > len && len >= 8) {
		memcpy(&w, p + len - 8, 8);
		if (!json_word_escaped(w))
			return len;
	}
	while (i < len && !json_escaped[p[i]])
		i++;
	return i;
}

/* n bytes, a few most often (keys, values of the access line): up to 16
 * in two fixed-size moves the compiler inlines, rather than a memcpy
 * call. */
static void
copy_short(char *dst, const char *src, size_t n)
{
	if (n >= 8 && n <= 16) {
		memcpy(dst, src, 8);
		memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(dst, src, 4);
		memcpy(dst + n - 4, src + n - 4, 4);
	} else if (n < 4) {
		for (size_t i = 0; i < n; i++)
			dst[i] = src[i];
	} else {
		memcpy(dst, src, n);
	}
}

/* v in decimal into a buffer with room for 20 bytes: two digits a
 * division. */
static size_t
put_int(char *buf, size_t o, int64_t v)
{
	static const char pairs[] = "00010203040506070809"
	                            "10111213141516171819"
	                            "20212223242526272829"
	                            "30313233343536373839"
	                            "40414243444546474849"
	                            "50515253545556575859"
	                            "60616263646566676869"
	                            "70717273747576777879"
	                            "80818283848586878889"
	                            "90919293949596979899";
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v, p = 10;
	size_t n = 1;
	char *at;

	if (v < 0)
		buf[o++] = '-';
	for (; n < 20 && u >= p; n++)
		p *= 10; /* past 10^19 it wraps, never read again */
	at = buf + o + n;
	for (; u >= 100; u /= 100) {
		at -= 2;
		memcpy(at, pairs + 2 * (u % 100), 2);
	}
	if (u >= 10)
		memcpy(at - 2, pairs + 2 * u, 2);
	else
		at[-1] = (char)('0' + u);
	return o + n;
}

/* s[0..len) as a JSON string, escaped like append_json_string_len, into a
 * buffer the caller made room in (6 * len + 2 bytes): the access line's
 * values, with no bound to check per byte. */
static size_t
put_json_string(char *buf, size_t o, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t from = 0, i;

	buf[o++] = '"';
	while ((i = json_next_escaped(p, from, len)) < len) {
		copy_short(buf + o, s + from, i - from);
		o += i - from;
		memcpy(buf + o, "\\u00", 4);
		buf[o + 4] = hex[p[i] >> 4];
		buf[o + 5] = hex[p[i] & 15];
		o += 6;
		from = i + 1;
	}
	copy_short(buf + o, s + from, len - from);
	o += len - from;
	buf[o++] = '"';
	return o;
}

/* One member of a JSON log_fields line: ,"key":value. Where the worst
 * case fits (every byte escaped), written with no check per byte; else by
 * the careful appenders, which stop short. */
static size_t
json_field(char *line, size_t cap, size_t o, const struct log_field *f)
{
	size_t klen = f->key_len > 0 ? f->key_len : strlen(f->key);
	size_t len = f->str == NULL ? 0 : f->len > 0 ? f->len : strlen(f->str);

	if (cap - o < klen + 6 * len + 32) {
		o = append_bytes(line, cap, o, ",\"", 2);
		o = append_bytes(line, cap, o, f->key, klen);
		o = append_bytes(line, cap, o, "\":", 2);
		if (f->str != NULL)
			return append_json_string_len(
			    line, cap, o, f->str, len);
		if (f->is_int)
			return append_int(line, cap, o, f->num);
		return append_bytes(line, cap, o, "null", 4);
	}
	line[o++] = ',';
	line[o++] = '"';
	copy_short(line + o, f->key, klen);
	o += klen;
	line[o++] = '"';
	line[o++] = ':';
	if (f->str != NULL)
		return put_json_string(line, o, f->str, len);
	if (f->is_int)
		return put_int(line, o, f->num);
	memcpy(line + o, "null", 4);
	return o + 4;
}

/* {"time":"...","event":"..." into line (room for LOG_HEAD_MAX bytes),
 * from a copy each thread keeps while the second and the event stay the
 * same (every access line in a busy second). */
static size_t
json_head(char *line, const char *when, size_t tlen, const char *event)
{
	static __thread char text[LOG_HEAD_MAX], last_event[32];
	static __thread time_t last_sec = -1;
	static __thread size_t len;
	size_t elen = strlen(event);

	if (last_sec != log_time_sec || elen >= sizeof(last_event) ||
	    memcmp(event, last_event, elen + 1) != 0) {
		len = append_bytes(text, sizeof(text), 0, "{\"time\":\"", 9);
		len = append_bytes(text, sizeof(text), len, when, tlen);
		len =
		    append_bytes(text, sizeof(text), len, "\",\"event\":", 10);
		len = append_json_string(text, sizeof(text), len, event);
		/* A name too long to keep a copy of is never taken as kept. */
		last_sec = elen < sizeof(last_event) ? log_time_sec : -1;
		if (elen < sizeof(last_event))
			memcpy(last_event, event, elen + 1);
	}
	memcpy(line, text, len);
	return len;
}

/* Formats an event line from fields into line (LOG_FIELDS_LINE_MAX
 * bytes); returns its length, '\n' included. The access line is on every
 * request's path: no printf, the time text kept per thread. */
static size_t
format_fields(
    char *line, const char *event, const struct log_field *f, size_t n)
{
	size_t o, tlen, cap = LOG_FIELDS_LINE_MAX - 2;
	const char *when = format_time(&tlen);

	if (log_format == LOG_FORMAT_JSON) {
		o = json_head(line, when, tlen, event);
		for (size_t i = 0; i < n && o + 64 < cap; i++)
			o = json_field(line, cap, o, &f[i]);
		line[o++] = '}';
		line[o++] = '\n';
		return o;
	}
	o = append_bytes(line, cap, 0, when, tlen);
	o = append_bytes(line, cap, o, " ", 1);
	o = append_bytes(line, cap, o, log_program, strlen(log_program));
	o = append_bytes(line, cap, o, " info: ", 7);
	o = append_text_value(line, cap, o, event, strlen(event));
	for (size_t i = 0; i < n && o + 64 < cap; i++) {
		size_t len = f[i].str == NULL ? 0
		             : f[i].len > 0   ? f[i].len
		                              : strlen(f[i].str);
		/* " key=value" (keys are identifiers). */
		o = append_bytes(line, cap, o, " ", 1);
		o = append_bytes(line, cap, o, f[i].key,
		    f[i].key_len > 0 ? f[i].key_len : strlen(f[i].key));
		o = append_bytes(line, cap, o, "=", 1);
		if (f[i].str != NULL)
			o = append_text_value(line, cap, o, f[i].str, len);
		else if (f[i].is_int)
			o = append_int(line, cap, o, f[i].num);
		else
			o = append_bytes(line, cap, o, "-", 1);
	}
	line[o++] = '\n';
	return o;
}

void
log_fields(const char *event, const struct log_field *f, size_t n)
{
	char line[LOG_FIELDS_LINE_MAX];

	emit(line, format_fields(line, event, f, n));
}

bool
log_fields_deferred(const char *event, const struct log_field *f, size_t n)
{
	bool first;

	if (log_buf.buf == NULL) {
		log_fields(event, f, n);
		return false;
	}
	/* Room for the longest line, or out with what is there: a flush
	 * only ever holds whole lines. */
	if (log_buf.cap - log_buf.len < LOG_FIELDS_LINE_MAX)
		log_buffer_flush();
	first = log_buf.len == 0;
	log_buf.len += format_fields(log_buf.buf + log_buf.len, event, f, n);
	return first;
}

void
log_event(const char *event, struct json_object *obj)
{
	char head[256], stack[4096], *buf = stack;
	const char *when, *rest = "}";
	size_t o, len = 1;

	when = format_time(NULL);
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
	emit(buf, o + len + 1);
	if (buf != stack)
		free(buf);
out:
	json_object_put(obj);
}
