/* Tests for log: log_event writes one line of JSON per event, "time" and
 * "event" first, then the object's members unchanged; an object's own
 * "time" or "event" replaces the default in place (as log_event always
 * did) and is never duplicated; a line longer than the stack buffer is
 * still one line. log_fields writes every string and integer so that it
 * parses back to the same value (escapes at every position, the fast path
 * and the careful one near the end of the line). A thread's buffer holds
 * deferred lines until it is full, flushed or stopped, and any other line
 * of the thread goes out after them at once; threads writing through a
 * slow pipe never mix their lines. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_util.h"
#include "log.h"
#include "test.h"

/* Runs log_event with stderr sent to a temporary file; returns what it
 * wrote (malloc'd, NUL-terminated). */
static char *
captured(const char *event, struct json_object *obj)
{
	FILE *f = tmpfile();
	int saved = dup(STDERR_FILENO);
	char *text = NULL;
	long n;

	if (f == NULL || saved == -1) {
		CHECK(0);
		json_object_put(obj);
		return NULL;
	}
	fflush(stderr);
	dup2(fileno(f), STDERR_FILENO);
	log_event(event, obj);
	dup2(saved, STDERR_FILENO);
	close(saved);
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (text = calloc(1, (size_t)n + 1)))
		CHECK(fread(text, 1, (size_t)n, f) == (size_t)n);
	fclose(f);
	return text;
}

/* One line, ending in '\n', that parses strictly as an object whose first
 * two members are time and event. Returns the parsed object. */
static struct json_object *
one_line(const char *text, const char *event)
{
	struct json_object *o = NULL, *v = NULL;
	struct err e = { 0 };
	size_t len = text != NULL ? strlen(text) : 0;

	CHECK(len > 1 && text[len - 1] == '\n');
	if (len < 2)
		return NULL;
	CHECK(memchr(text, '\n', len - 1) == NULL);
	CHECK(strncmp(text, "{\"time\":\"", 9) == 0);
	CHECK(
	    json_parse_strict(text, len, 16, ERR_INVALID_REQUEST, &o, &e) == 0);
	CHECK(json_object_object_get_ex(o, "event", &v) &&
	      strcmp(json_object_get_string(v), event) == 0);
	CHECK(strstr(text, "\"event\":") < strchr(text, ',') + 2);
	return o;
}

static void
test_members_follow_time_and_event(void)
{
	struct json_object *obj = json_object_new_object(), *o, *v = NULL;
	char *text;

	json_object_object_add(obj, "sub", json_object_new_string("u/1\n"));
	json_object_object_add(obj, "status", json_object_new_int(200));
	text = captured("access", obj);
	o = one_line(text, "access");
	CHECK(json_object_object_length(o) == 4);
	CHECK(json_object_object_get_ex(o, "sub", &v) &&
	      strcmp(json_object_get_string(v), "u/1\n") == 0);
	CHECK(json_object_object_get_ex(o, "status", &v) &&
	      json_object_get_int(v) == 200);
	json_object_put(o);
	free(text);
}

static void
test_no_members(void)
{
	struct json_object *o;
	char *text;

	text = captured("start", NULL);
	o = one_line(text, "start");
	CHECK(json_object_object_length(o) == 2);
	json_object_put(o);
	free(text);
	text = captured("start", json_object_new_object());
	o = one_line(text, "start");
	CHECK(json_object_object_length(o) == 2);
	json_object_put(o);
	free(text);
}

/* An event name is escaped like any other string. */
static void
test_event_escaped(void)
{
	struct json_object *o;
	char *text;

	text = captured("a\"b\\c\n", NULL);
	o = one_line(text, "a\"b\\c\n");
	json_object_put(o);
	free(text);
}

static void
test_own_event_replaces_default(void)
{
	struct json_object *obj = json_object_new_object(), *o, *v = NULL;
	char *text;

	json_object_object_add(obj, "event", json_object_new_string("fake"));
	json_object_object_add(obj, "user", json_object_new_string("alice"));
	text = captured("login", obj);
	o = one_line(text, "fake"); /* strict: no duplicate names */
	CHECK(json_object_object_length(o) == 3);
	CHECK(json_object_object_get_ex(o, "user", &v) &&
	      strcmp(json_object_get_string(v), "alice") == 0);
	json_object_put(o);
	free(text);
}

static void
test_long_line_is_one_line(void)
{
	struct json_object *obj = json_object_new_object(), *o, *v = NULL;
	char *big = malloc(10000), *text;

	memset(big, 'x', 9999);
	big[9999] = '\0';
	json_object_object_add(obj, "reason", json_object_new_string(big));
	text = captured("refresh_failed", obj);
	o = one_line(text, "refresh_failed");
	CHECK(json_object_object_get_ex(o, "reason", &v) &&
	      json_object_get_string_len(v) == 9999);
	json_object_put(o);
	free(text);
	free(big);
}

/* stderr sent to a temporary file while a test writes; text() reads what
 * is there so far (malloc'd, NUL-terminated). */
struct capture {
	int fd, saved;
};

static void
capture_start(struct capture *c)
{
	char path[] = "/tmp/test_log.XXXXXX";

	fflush(stderr);
	c->fd = mkstemp(path);
	c->saved = dup(STDERR_FILENO);
	CHECK(c->fd != -1 && c->saved != -1);
	unlink(path);
	dup2(c->fd, STDERR_FILENO);
}

static char *
capture_text(const struct capture *c)
{
	struct stat st;
	char *text;

	if (fstat(c->fd, &st) == -1 ||
	    (text = calloc(1, (size_t)st.st_size + 1)) == NULL)
		return NULL;
	if (pread(c->fd, text, (size_t)st.st_size, 0) != st.st_size)
		text[0] = '\0';
	return text;
}

/* Restores stderr; returns everything written (malloc'd). */
static char *
capture_end(struct capture *c)
{
	char *text = capture_text(c);

	dup2(c->saved, STDERR_FILENO);
	close(c->saved);
	close(c->fd);
	return text;
}

/* The lines of text that parse as JSON objects, at most max; sets *n.
 * Every line must parse (CHECK). */
static size_t
parse_lines(const char *text, struct json_object **out, size_t max)
{
	size_t n = 0;

	for (const char *p = text; p != NULL && *p != '\0';) {
		const char *nl = strchr(p, '\n');
		struct json_object *o = NULL;
		struct err e = { 0 };

		CHECK(nl != NULL); /* every line ends */
		if (nl == NULL)
			break;
		CHECK(json_parse_strict(p, (size_t)(nl - p), 16,
		          ERR_INVALID_REQUEST, &o, &e) == 0);
		if (o != NULL && n < max)
			out[n++] = o;
		else
			json_object_put(o);
		p = nl + 1;
	}
	return n;
}

static void
put_all(struct json_object **o, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_object_put(o[i]);
}

/* One field per line: a string with one byte that must be escaped at
 * every position of every length up to 40 (and none), so the 8-byte scan,
 * its tail and the copies between escapes all meet one. */
static void
test_fields_strings_round_trip(void)
{
	static const char specials[] = { '"', '\\', 0x01, '\n', 0x1f, 0x7f };
	struct capture c;
	char s[48];
	char *text;
	struct json_object *lines[1];
	size_t bad = 0;

	for (size_t len = 0; len <= 40; len++)
		for (size_t pos = 0; pos <= len; pos++)
			for (size_t k = 0; k < sizeof(specials); k++) {
				struct log_field f = { LOG_KEY("v"), .str = s,
					.len = len };
				struct json_object *v = NULL;

				for (size_t i = 0; i < len; i++)
					s[i] = (char)('a' + i % 26);
				if (pos < len)
					s[pos] = specials[k];
				s[len] = '\0';
				if (len == 0)
					f.len = 0; /* strlen: "" */
				capture_start(&c);
				log_fields("t", &f, 1);
				text = capture_end(&c);
				if (parse_lines(text, lines, 1) != 1) {
					bad++;
				} else {
					if (!json_object_object_get_ex(
					        lines[0], "v", &v) ||
					    (size_t)json_object_get_string_len(
					        v) != len ||
					    memcmp(json_object_get_string(v), s,
					        len) != 0)
						bad++;
					json_object_put(lines[0]);
				}
				free(text);
			}
	CHECK(bad == 0);
}

static void
test_fields_values(void)
{
	static const int64_t ints[] = { 0, 7, 9, 10, 99, 100, 101, 999, 1000,
		12345, 200, 404, -1, -10, -99, -100, 1000000007, INT64_MAX,
		INT64_MIN, INT64_MAX / 10 };
	struct log_field f[] = {
		{ .key = "plain_key", .str = "caf\xc3\xa9" }, /* strlen keys */
		{ LOG_KEY("nothing") },
		{ LOG_KEY("long_key_name_past_sixteen"), .str = "12345678" },
		{ LOG_KEY("n") },
	};
	struct json_object *lines[1], *v = NULL;
	struct capture c;
	char *text;

	for (size_t i = 0; i < sizeof(ints) / sizeof(*ints); i++) {
		f[3].num = ints[i];
		f[3].is_int = true;
		capture_start(&c);
		log_fields("t", f, 4);
		text = capture_end(&c);
		CHECK(parse_lines(text, lines, 1) == 1);
		CHECK(json_object_object_get_ex(lines[0], "n", &v) &&
		      json_object_get_int64(v) == ints[i]);
		if (i == 0) {
			CHECK(json_object_object_get_ex(
			          lines[0], "plain_key", &v) &&
			      strcmp(json_object_get_string(v),
			          "caf\xc3\xa9") == 0);
			CHECK(json_object_object_get_ex(
			          lines[0], "nothing", &v) &&
			      v == NULL);
			CHECK(
			    json_object_object_get_ex(
			        lines[0], "long_key_name_past_sixteen", &v) &&
			    strcmp(json_object_get_string(v), "12345678") == 0);
			CHECK(strncmp(text, "{\"time\":\"", 9) == 0);
			CHECK(strstr(text,
			          "\",\"event\":\"t\",\"plain_key\"") != NULL);
		}
		put_all(lines, 1);
		free(text);
	}
}

/* Values longer than the line: the careful path cuts them, and the line
 * still parses, ends in "}\n" and stays within 4096 bytes. */
static void
test_fields_cut_at_the_end_of_the_line(void)
{
	char *quotes = malloc(900), *plain = malloc(5000), *text;
	struct log_field f[] = {
		{ LOG_KEY("a"), .str = quotes },
		{ LOG_KEY("b"), .str = plain },
		{ LOG_KEY("c"), .num = 1, .is_int = true },
	};
	struct json_object *lines[1], *v = NULL;
	struct capture c;

	memset(quotes, '"', 899);
	quotes[899] = '\0';
	memset(plain, 'x', 4999);
	plain[4999] = '\0';
	capture_start(&c);
	log_fields("t", f, 3);
	text = capture_end(&c);
	CHECK(parse_lines(text, lines, 1) == 1);
	CHECK(strlen(text) <= 4096);
	CHECK(json_object_object_get_ex(lines[0], "a", &v) &&
	      json_object_get_string_len(v) > 0 &&
	      json_object_get_string_len(v) < 899);
	CHECK(strspn(json_object_get_string(v), "\"") ==
	      (size_t)json_object_get_string_len(v));
	put_all(lines, 1);
	free(text);
	free(quotes);
	free(plain);
}

static void
test_fields_text_format(void)
{
	struct log_field f[] = {
		{ LOG_KEY("path"), .str = "/a b" },
		{ LOG_KEY("status"), .num = -404, .is_int = true },
		{ LOG_KEY("sub") },
	};
	struct capture c;
	char *text;

	log_set_format(LOG_FORMAT_TEXT);
	capture_start(&c);
	log_fields("access", f, 3);
	text = capture_end(&c);
	log_set_format(LOG_FORMAT_JSON);
	CHECK(
	    text != NULL &&
	    strstr(text,
	        " jwt info: access path=\"/a b\" status=-404 sub=-\n") != NULL);
	free(text);
}

static size_t
count_lines(const char *text)
{
	size_t n = 0;

	for (; text != NULL && *text != '\0'; text++)
		n += *text == '\n';
	return n;
}

/* Deferred lines wait; the first reports itself; a flush writes them in
 * order; log_msg and log_event go out at once, after them. */
static void
test_buffer_holds_until_flush_or_other_line(void)
{
	struct log_field f = { LOG_KEY("seq"), .is_int = true };
	struct json_object *lines[8], *v = NULL;
	struct capture c;
	char *before, *after, *last, *stopped;
	size_t n;
	bool first[3];

	capture_start(&c);
	CHECK(log_buffer_start(16384) == 0);
	for (int i = 0; i < 3; i++) {
		f.num = i;
		first[i] = log_fields_deferred("access", &f, 1);
	}
	before = capture_text(&c);
	log_msg(LOG_WARN, "after three");
	after = capture_text(&c);
	f.num = 3;
	first[0] = first[0] && log_fields_deferred("access", &f, 1);
	log_event("audit", NULL);
	last = capture_text(&c);
	f.num = 4;
	CHECK(log_fields_deferred("access", &f, 1));
	log_buffer_stop();
	stopped = capture_end(&c);
	CHECK(first[0] && !first[1] && !first[2]);
	CHECK(before != NULL && before[0] == '\0');
	CHECK(count_lines(after) == 4);
	CHECK(count_lines(last) == 6);
	n = parse_lines(stopped, lines, 8);
	CHECK(n == 7);
	for (size_t i = 0; i < n; i++) {
		const char *want = i == 3 ? "log" : i == 5 ? "audit" : "access";
		CHECK(json_object_object_get_ex(lines[i], "event", &v) &&
		      strcmp(json_object_get_string(v), want) == 0);
		if (strcmp(want, "access") == 0)
			CHECK(json_object_object_get_ex(lines[i], "seq", &v) &&
			      json_object_get_int(v) == (int)(i < 3    ? i
			                                      : i == 4 ? 3
			                                               : 4));
	}
	put_all(lines, n);
	free(before);
	free(after);
	free(last);
	free(stopped);
}

/* A full buffer goes out by itself, whole lines only. */
static void
test_buffer_full_writes_whole_lines(void)
{
	char value[300];
	struct log_field f[] = {
		{ LOG_KEY("seq"), .is_int = true },
		{ LOG_KEY("pad"), .str = value },
	};
	struct capture c;
	size_t written = 0, flushes = 0, whole = 0;

	memset(value, 'p', sizeof(value) - 1);
	value[sizeof(value) - 1] = '\0';
	capture_start(&c);
	CHECK(log_buffer_start(0) == 0); /* the smallest: 8 KiB */
	for (int i = 0; i < 200; i++) {
		char *text;
		size_t len;

		f[0].num = i;
		(void)log_fields_deferred("access", f, 2);
		text = capture_text(&c);
		len = text != NULL ? strlen(text) : 0;
		if (len != written) {
			flushes++;
			whole += text[len - 1] == '\n';
			written = len;
		}
		free(text);
	}
	log_buffer_stop();
	log_buffer_stop(); /* twice: nothing */
	{
		char *text = capture_end(&c);
		struct json_object *lines[200];
		size_t n = parse_lines(text, lines, 200);

		CHECK(n == 200);
		put_all(lines, n);
		free(text);
	}
	CHECK(flushes >= 5 && whole == flushes);
}

/* Two threads, each with a small buffer, write deferred lines and, now
 * and then, a line at once, into a pipe read in small bites (so their
 * writes block part way): every line whole, each thread's in order. */
#define THREAD_LINES 3000

struct writer {
	int id;
};

static void *
writer_run(void *arg)
{
	struct writer *w = arg;
	char pad[200];
	struct log_field f[] = {
		{ LOG_KEY("thread"), .num = w->id, .is_int = true },
		{ LOG_KEY("seq"), .is_int = true },
		{ LOG_KEY("pad"), .str = pad },
	};

	memset(pad, 'a' + w->id, sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	if (log_buffer_start(0) == -1)
		return NULL;
	for (int i = 0; i < THREAD_LINES; i++) {
		f[1].num = i;
		if (i % 97 == 0)
			log_fields("now", f, 3);
		else
			(void)log_fields_deferred("access", f, 3);
	}
	log_buffer_stop();
	return NULL;
}

struct reader {
	int fd;
	char *text;
	size_t len, cap;
};

static void *
reader_run(void *arg)
{
	struct reader *r = arg;
	char bite[512];
	ssize_t n;

	while ((n = read(r->fd, bite, sizeof(bite))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;
		if (r->len + (size_t)n + 1 > r->cap) {
			char *more = realloc(r->text, r->cap * 2 + 4096);
			if (more == NULL)
				break;
			r->text = more;
			r->cap = r->cap * 2 + 4096;
		}
		memcpy(r->text + r->len, bite, (size_t)n);
		r->len += (size_t)n;
		r->text[r->len] = '\0';
		usleep(50); /* a slow reader: the pipe fills */
	}
	return NULL;
}

static void
test_threads_never_mix_lines(void)
{
	struct writer w[2] = { { 0 }, { 1 } };
	struct reader r = { 0 };
	pthread_t wt[2], rt;
	int fds[2], saved;
	static struct json_object *lines[2 * THREAD_LINES + 1];
	int next[2] = { 0, 0 };
	size_t n, bad = 0;
	struct json_object *v = NULL;

	CHECK(pipe(fds) == 0);
	r.fd = fds[0];
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	dup2(fds[1], STDERR_FILENO);
	close(fds[1]);
	pthread_create(&rt, NULL, reader_run, &r);
	for (int i = 0; i < 2; i++)
		pthread_create(&wt[i], NULL, writer_run, &w[i]);
	for (int i = 0; i < 2; i++)
		pthread_join(wt[i], NULL);
	dup2(saved, STDERR_FILENO); /* the pipe's last writer: EOF */
	close(saved);
	pthread_join(rt, NULL);
	close(fds[0]);
	n = parse_lines(r.text, lines, sizeof(lines) / sizeof(*lines));
	CHECK(n == 2 * THREAD_LINES);
	for (size_t i = 0; i < n; i++) {
		int t = -1, seq = -1;

		if (json_object_object_get_ex(lines[i], "thread", &v))
			t = json_object_get_int(v);
		if (json_object_object_get_ex(lines[i], "seq", &v))
			seq = json_object_get_int(v);
		if (t < 0 || t > 1 || seq != next[t]++)
			bad++;
	}
	CHECK(bad == 0);
	CHECK(next[0] == THREAD_LINES && next[1] == THREAD_LINES);
	put_all(lines, n);
	free(r.text);
}

int
main(void)
{
	RUN(test_members_follow_time_and_event);
	RUN(test_no_members);
	RUN(test_event_escaped);
	RUN(test_own_event_replaces_default);
	RUN(test_long_line_is_one_line);
	RUN(test_fields_strings_round_trip);
	RUN(test_fields_values);
	RUN(test_fields_cut_at_the_end_of_the_line);
	RUN(test_fields_text_format);
	RUN(test_buffer_holds_until_flush_or_other_line);
	RUN(test_buffer_full_writes_whole_lines);
	RUN(test_threads_never_mix_lines);
	return test_report();
}
