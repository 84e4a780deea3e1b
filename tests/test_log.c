/* Tests for log: log_event writes one line of JSON per event, "time" and
 * "event" first, then the object's members unchanged; an object's own
 * "time" or "event" replaces the default in place (as log_event always
 * did) and is never duplicated; a line longer than the stack buffer is
 * still one line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int
main(void)
{
	RUN(test_members_follow_time_and_event);
	RUN(test_no_members);
	RUN(test_event_escaped);
	RUN(test_own_event_replaces_default);
	RUN(test_long_line_is_one_line);
	return test_report();
}
