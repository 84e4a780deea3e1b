/* Tests for config: file, then environment, then flags; one-line errors. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "test.h"

struct demo_config {
	char *issuer;
	int64_t access_ttl;
	bool verbose;
	char **keys;
};

static const struct config_field demo_fields[] = {
	{ "issuer", CONFIG_STRING, offsetof(struct demo_config, issuer), 1, 0,
	    "issuer URL" },
	{ "access_ttl", CONFIG_INT, offsetof(struct demo_config, access_ttl),
	    60, 86400, "seconds" },
	{ "verbose", CONFIG_BOOL, offsetof(struct demo_config, verbose), 0, 0,
	    "log more" },
	{ "keys", CONFIG_STRLIST, offsetof(struct demo_config, keys), 0, 0,
	    "key files" },
};
#define N_FIELDS (sizeof(demo_fields) / sizeof(*demo_fields))

static char tmpdir[] = "/tmp/test_config.XXXXXX";

static const char *
write_file(const char *name, const char *text)
{
	static char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	return path;
}

static int
load(const char *path, int argc, char **argv, struct demo_config *c,
    struct err *e)
{
	static char *const default_keys[] = { "keys/public_key.pem", NULL };
	struct config_cli cli;

	*c = (struct demo_config){ .issuer = "http://default",
		.access_ttl = 900,
		.keys = (char **)default_keys };
	return config_load(
	    path, demo_fields, N_FIELDS, c, "DEMO", argc, argv, &cli, e);
}

static void
test_defaults_when_default_file_missing(void)
{
	struct demo_config c;
	struct err e = { 0 };
	char *argv[] = { "prog", NULL };

	CHECK(load("/nonexistent/demo.json", 1, argv, &c, &e) == 0);
	CHECK(strcmp(c.issuer, "http://default") == 0);
	CHECK(c.access_ttl == 900);
	CHECK(c.keys[0] != NULL && c.keys[1] == NULL);
	config_free(demo_fields, N_FIELDS, &c);
}

static void
test_file_then_env_then_flags(void)
{
	const char *path = write_file("ok.json",
	    "{\"issuer\":\"http://file\",\"access_ttl\":120,"
	    "\"keys\":[\"a.pem\",\"b.pem\"],\"verbose\":true}");
	struct demo_config c;
	struct err e = { 0 };
	char *argv[] = { "prog", "--access-ttl", "300", NULL };

	setenv("DEMO_ISSUER", "http://env", 1);
	setenv("DEMO_ACCESS_TTL", "200", 1);
	CHECK(load(path, 3, argv, &c, &e) == 0);
	CHECK(strcmp(c.issuer, "http://env") == 0);
	CHECK(c.access_ttl == 300);
	CHECK(c.verbose);
	CHECK(c.keys[0] != NULL && strcmp(c.keys[1], "b.pem") == 0 &&
	      c.keys[2] == NULL);
	config_free(demo_fields, N_FIELDS, &c);
	unsetenv("DEMO_ISSUER");
	unsetenv("DEMO_ACCESS_TTL");
}

static void
test_explicit_config_must_exist(void)
{
	struct demo_config c;
	struct err e = { 0 };
	char *argv[] = { "prog", "--config", "/nonexistent/x.json", NULL };

	CHECK(load("/nonexistent/demo.json", 3, argv, &c, &e) == -1);
	CHECK(e.code == ERR_CONFIG);
	CHECK(strstr(e.msg, "/nonexistent/x.json") != NULL);
	config_free(demo_fields, N_FIELDS, &c);
}

static void
test_errors_name_file_field_problem(void)
{
	const char *path = write_file("bad.json", "{\"access_ttl\":\"15m\"}");
	struct demo_config c;
	struct err e = { 0 };
	char *argv[] = { "prog", NULL };
	char want[300];

	CHECK(load(path, 1, argv, &c, &e) == -1);
	snprintf(want, sizeof(want),
	    "%s: access_ttl: expected an integer 60..86400, got \"15m\"", path);
	CHECK(strcmp(e.msg, want) == 0);
	if (strcmp(e.msg, want) != 0)
		fprintf(stderr, "got: %s\n", e.msg);
	config_free(demo_fields, N_FIELDS, &c);

	e = (struct err){ 0 };
	path = write_file("unknown.json", "{\"acces_ttl\":60}");
	CHECK(load(path, 1, argv, &c, &e) == -1);
	CHECK(strstr(e.msg, "acces_ttl: unknown field") != NULL);
	config_free(demo_fields, N_FIELDS, &c);

	e = (struct err){ 0 };
	path = write_file("range.json", "{\"access_ttl\":59}");
	CHECK(load(path, 1, argv, &c, &e) == -1);
	CHECK(strstr(e.msg, "got \"59\"") != NULL);
	config_free(demo_fields, N_FIELDS, &c);

	e = (struct err){ 0 };
	path = write_file("notjson.json", "{\"access_ttl\":60,}");
	CHECK(load(path, 1, argv, &c, &e) == -1);
	CHECK(strstr(e.msg, "invalid JSON") != NULL);
	config_free(demo_fields, N_FIELDS, &c);

	e = (struct err){ 0 };
	path = write_file("empty_issuer.json", "{\"issuer\":\"\"}");
	CHECK(load(path, 1, argv, &c, &e) == -1);
	CHECK(strstr(e.msg, "non-empty") != NULL);
	config_free(demo_fields, N_FIELDS, &c);
}

static void
test_flag_errors(void)
{
	struct demo_config c;
	struct err e = { 0 };
	char *unknown[] = { "prog", "--colour", "red", NULL };
	char *missing[] = { "prog", "--access-ttl", NULL };
	char *badint[] = { "prog", "--access-ttl=60s", NULL };
	char *ok[] = { "prog", "--access-ttl=60", "--verbose", NULL };

	CHECK(load("/nonexistent/d.json", 3, unknown, &c, &e) == -1);
	CHECK(strstr(e.msg, "--colour: unknown option") != NULL);
	config_free(demo_fields, N_FIELDS, &c);
	e = (struct err){ 0 };
	CHECK(load("/nonexistent/d.json", 2, missing, &c, &e) == -1);
	CHECK(strstr(e.msg, "missing value") != NULL);
	config_free(demo_fields, N_FIELDS, &c);
	e = (struct err){ 0 };
	CHECK(load("/nonexistent/d.json", 2, badint, &c, &e) == -1);
	CHECK(strstr(e.msg, "--access-ttl: expected an integer") != NULL);
	config_free(demo_fields, N_FIELDS, &c);
	e = (struct err){ 0 };
	CHECK(load("/nonexistent/d.json", 3, ok, &c, &e) == 0);
	CHECK(c.access_ttl == 60 && c.verbose);
	config_free(demo_fields, N_FIELDS, &c);
}

static void
test_env_errors_and_lists(void)
{
	struct demo_config c;
	struct err e = { 0 };
	char *argv[] = { "prog", NULL };

	setenv("DEMO_VERBOSE", "maybe", 1);
	CHECK(load("/nonexistent/d.json", 1, argv, &c, &e) == -1);
	CHECK(strstr(e.msg, "environment DEMO_VERBOSE") != NULL);
	config_free(demo_fields, N_FIELDS, &c);
	unsetenv("DEMO_VERBOSE");

	e = (struct err){ 0 };
	setenv("DEMO_KEYS", "x.pem,,y.pem", 1);
	CHECK(load("/nonexistent/d.json", 1, argv, &c, &e) == -1);
	config_free(demo_fields, N_FIELDS, &c);
	e = (struct err){ 0 };
	setenv("DEMO_KEYS", "x.pem,y.pem", 1);
	CHECK(load("/nonexistent/d.json", 1, argv, &c, &e) == 0);
	CHECK(strcmp(c.keys[0], "x.pem") == 0 &&
	      strcmp(c.keys[1], "y.pem") == 0 && c.keys[2] == NULL);
	config_free(demo_fields, N_FIELDS, &c);
	e = (struct err){ 0 };
	setenv("DEMO_KEYS", "", 1);
	CHECK(load("/nonexistent/d.json", 1, argv, &c, &e) == 0);
	CHECK(c.keys[0] == NULL);
	config_free(demo_fields, N_FIELDS, &c);
	unsetenv("DEMO_KEYS");
}

static void
test_help_and_check_flags(void)
{
	struct demo_config c = { .issuer = "x" };
	struct config_cli cli;
	struct err e = { 0 };
	char *argv[] = { "prog", "--check-config", "--config=/nonexistent/a",
		NULL };
	char *help[] = { "prog", "--help", NULL };

	CHECK(config_load("d.json", demo_fields, N_FIELDS, &c, "DEMO", 3, argv,
	          &cli, &e) == -1);
	CHECK(cli.check_config);
	config_free(demo_fields, N_FIELDS, &c);
	e = (struct err){ 0 };
	c = (struct demo_config){ .issuer = "x" };
	CHECK(config_load("d.json", demo_fields, N_FIELDS, &c, "DEMO", 2, help,
	          &cli, &e) == 0);
	CHECK(cli.help);
	config_free(demo_fields, N_FIELDS, &c);
}

int
main(void)
{
	if (mkdtemp(tmpdir) == NULL)
		return 1;
	RUN(test_defaults_when_default_file_missing);
	RUN(test_file_then_env_then_flags);
	RUN(test_explicit_config_must_exist);
	RUN(test_errors_name_file_field_problem);
	RUN(test_flag_errors);
	RUN(test_env_errors_and_lists);
	RUN(test_help_and_check_flags);
	return test_report();
}
