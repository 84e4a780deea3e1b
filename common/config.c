/* config: settings from a JSON file, then the environment, then flags,
 * validated against one field table so every source is checked the same. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_util.h"

#define CONFIG_MAX_FILE (1024 * 1024)
#define CONFIG_MAX_NAME 64

/* Where a value came from, for the one-line error message. */
struct config_source {
	char label[256]; /* "auth.json: access_ttl", "--access-ttl", ... */
};

static void *
field_ptr(void *dst, const struct config_field *f)
{
	return (char *)dst + f->offset;
}

static void
strlist_free(char **list)
{
	if (list == NULL)
		return;
	for (char **p = list; *p != NULL; p++)
		free(*p);
	free(list);
}

static char **
strlist_copy(char *const *list)
{
	size_t n = 0;
	char **copy;

	while (list != NULL && list[n] != NULL)
		n++;
	if ((copy = calloc(n + 1, sizeof(*copy))) == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if ((copy[i] = strdup(list[i])) == NULL) {
			strlist_free(copy);
			return NULL;
		}
	}
	return copy;
}

/* Defaults may be string literals: make every string owned by dst. */
static int
own_defaults(
    const struct config_field *fields, size_t n, void *dst, struct err *e)
{
	for (size_t i = 0; i < n; i++) {
		void *p = field_ptr(dst, &fields[i]);
		if (fields[i].type == CONFIG_STRING) {
			char **s = p;
			if (*s != NULL && (*s = strdup(*s)) == NULL)
				return err_set(e, ERR_NOMEM, "config defaults");
		} else if (fields[i].type == CONFIG_STRLIST) {
			char ***l = p;
			if ((*l = strlist_copy(*l)) == NULL)
				return err_set(e, ERR_NOMEM, "config defaults");
		}
	}
	return 0;
}

void
config_free(const struct config_field *fields, size_t n, void *dst)
{
	for (size_t i = 0; i < n; i++) {
		void *p = field_ptr(dst, &fields[i]);
		if (fields[i].type == CONFIG_STRING) {
			char **s = p;
			free(*s);
			*s = NULL;
		} else if (fields[i].type == CONFIG_STRLIST) {
			char ***l = p;
			strlist_free(*l);
			*l = NULL;
		}
	}
}

/* A short printable rendering of a bad value for the error message. */
static void
quote_value(const char *s, size_t len, char *buf, size_t buflen)
{
	size_t o = 0;

	buf[o++] = '"';
	for (size_t i = 0; i < len && o + 6 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (i >= 40) {
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
			o +=
			    (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o++] = '"';
	buf[o] = '\0';
}

static int
expected(const struct config_field *f, const struct config_source *src,
    const char *got, size_t gotlen, struct err *e)
{
	char shown[64];

	quote_value(got, gotlen, shown, sizeof(shown));
	switch (f->type) {
	case CONFIG_INT:
		return err_set(e, ERR_CONFIG,
		    "%s: expected an integer %" PRId64 "..%" PRId64 ", got %s",
		    src->label, f->min, f->max, shown);
	case CONFIG_BOOL:
		return err_set(e, ERR_CONFIG,
		    "%s: expected true or false, got %s", src->label, shown);
	case CONFIG_STRLIST:
		return err_set(e, ERR_CONFIG,
		    "%s: expected a list of non-empty strings, got %s",
		    src->label, shown);
	case CONFIG_STRING:
	default:
		return err_set(e, ERR_CONFIG, "%s: expected a%s string, got %s",
		    src->label, f->min > 0 ? " non-empty" : "", shown);
	}
}

static int
set_int_text(const struct config_field *f, void *dst, const char *s,
    const struct config_source *src, struct err *e)
{
	char *end = NULL;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (*s == '\0' || isspace((unsigned char)*s) || *end != '\0' ||
	    errno != 0 || v < f->min || v > f->max)
		return expected(f, src, s, strlen(s), e);
	*(int64_t *)field_ptr(dst, f) = v;
	return 0;
}

static int
set_bool_text(const struct config_field *f, void *dst, const char *s,
    const struct config_source *src, struct err *e)
{
	bool *b = field_ptr(dst, f);

	if (strcmp(s, "true") == 0 || strcmp(s, "1") == 0 ||
	    strcmp(s, "yes") == 0)
		*b = true;
	else if (strcmp(s, "false") == 0 || strcmp(s, "0") == 0 ||
	         strcmp(s, "no") == 0)
		*b = false;
	else
		return expected(f, src, s, strlen(s), e);
	return 0;
}

static int
set_string(const struct config_field *f, void *dst, const char *s, size_t len,
    const struct config_source *src, struct err *e)
{
	char **slot = field_ptr(dst, f);
	char *copy;

	if (memchr(s, '\0', len) != NULL || (f->min > 0 && len == 0))
		return expected(f, src, s, len, e);
	if ((copy = strndup(s, len)) == NULL)
		return err_set(e, ERR_NOMEM, "%s", src->label);
	free(*slot);
	*slot = copy;
	return 0;
}

/* "a,b,c" -> list; an empty string is the empty list. */
static int
set_strlist_text(const struct config_field *f, void *dst, const char *s,
    const struct config_source *src, struct err *e)
{
	char ***slot = field_ptr(dst, f);
	size_t n = 1, i = 0;
	char **list;
	const char *p = s;

	for (const char *q = s; *q != '\0'; q++)
		n += *q == ',';
	if ((list = calloc(n + 1, sizeof(*list))) == NULL)
		return err_set(e, ERR_NOMEM, "%s", src->label);
	while (*s != '\0') {
		const char *comma = strchr(p, ',');
		size_t len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (len == 0) {
			strlist_free(list);
			return expected(f, src, s, strlen(s), e);
		}
		if ((list[i++] = strndup(p, len)) == NULL) {
			strlist_free(list);
			return err_set(e, ERR_NOMEM, "%s", src->label);
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	strlist_free(*slot);
	*slot = list;
	return 0;
}

static int
set_from_text(const struct config_field *f, void *dst, const char *s,
    const struct config_source *src, struct err *e)
{
	switch (f->type) {
	case CONFIG_INT:
		return set_int_text(f, dst, s, src, e);
	case CONFIG_BOOL:
		return set_bool_text(f, dst, s, src, e);
	case CONFIG_STRLIST:
		return set_strlist_text(f, dst, s, src, e);
	case CONFIG_STRING:
	default:
		return set_string(f, dst, s, strlen(s), src, e);
	}
}

static int
set_strlist_json(const struct config_field *f, void *dst, struct json_object *v,
    const struct config_source *src, struct err *e)
{
	char ***slot = field_ptr(dst, f);
	size_t n = json_object_array_length(v);
	char **list;

	if ((list = calloc(n + 1, sizeof(*list))) == NULL)
		return err_set(e, ERR_NOMEM, "%s", src->label);
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(v, i);
		const char *s = json_object_get_string(item);
		size_t len = (size_t)json_object_get_string_len(item);
		if (!json_object_is_type(item, json_type_string) || len == 0 ||
		    memchr(s, '\0', len) != NULL) {
			strlist_free(list);
			return expected(f, src, json_object_to_json_string(v),
			    strlen(json_object_to_json_string(v)), e);
		}
		if ((list[i] = strndup(s, len)) == NULL) {
			strlist_free(list);
			return err_set(e, ERR_NOMEM, "%s", src->label);
		}
	}
	strlist_free(*slot);
	*slot = list;
	return 0;
}

static int
set_from_json(const struct config_field *f, void *dst, struct json_object *v,
    const struct config_source *src, struct err *e)
{
	/* A string is shown by its contents, anything else as JSON text. */
	const char *shown =
	    json_object_is_type(v, json_type_string)
	        ? json_object_get_string(v)
	        : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
	int64_t i;

	switch (f->type) {
	case CONFIG_INT:
		if (!json_object_is_type(v, json_type_int) ||
		    json_get_int64(v, &i) == -1 || i < f->min || i > f->max)
			break;
		*(int64_t *)field_ptr(dst, f) = i;
		return 0;
	case CONFIG_BOOL:
		if (!json_object_is_type(v, json_type_boolean))
			break;
		*(bool *)field_ptr(dst, f) = json_object_get_boolean(v);
		return 0;
	case CONFIG_STRLIST:
		if (json_object_is_type(v, json_type_array))
			return set_strlist_json(f, dst, v, src, e);
		break;
	case CONFIG_STRING:
		if (json_object_is_type(v, json_type_string))
			return set_string(f, dst, json_object_get_string(v),
			    (size_t)json_object_get_string_len(v), src, e);
		break;
	}
	return expected(f, src, shown, strlen(shown), e);
}

static const struct config_field *
field_by_name(
    const struct config_field *fields, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(fields[i].name) == len &&
		    memcmp(fields[i].name, name, len) == 0)
			return &fields[i];
	return NULL;
}

int
config_read_file(
    const char *path, size_t max, char **out, size_t *len, struct err *e)
{
	char *buf = NULL;
	size_t used = 0;
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return err_set(e, errno == ENOENT ? ERR_CONFIG : ERR_IO,
		    "%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		err_set(e, ERR_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	if ((size_t)st.st_size > max) {
		err_set(e, ERR_CONFIG, "%s: larger than %zu bytes", path, max);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "%s", path);
		goto out;
	}
	while (used < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + used, (size_t)st.st_size - used);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			err_set(e, ERR_IO, "%s: read failed", path);
			goto out;
		}
		used += (size_t)r;
	}
	buf[used] = '\0';
	*out = buf;
	*len = used;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	close(fd);
	return rc;
}

static int
load_file(const char *path, bool must_exist, const struct config_field *fields,
    size_t n, void *dst, struct err *e)
{
	struct json_object *root = NULL;
	struct config_source src;
	struct err pe = { 0 };
	char *text = NULL;
	size_t len;
	int rc = -1;

	if (!must_exist && access(path, F_OK) == -1 && errno == ENOENT)
		return 0;
	if (config_read_file(path, CONFIG_MAX_FILE, &text, &len, e) == -1)
		return -1;
	if (json_parse_strict(text, len, JSON_DEFAULT_MAX_DEPTH, ERR_CONFIG,
	        &root, &pe) == -1) {
		err_set(e, ERR_CONFIG, "%s: invalid JSON: %s", path, pe.msg);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		err_set(e, ERR_CONFIG, "%s: expected a JSON object", path);
		goto out;
	}
	json_object_object_foreach(root, key, val)
	{
		const struct config_field *f =
		    field_by_name(fields, n, key, strlen(key));
		snprintf(src.label, sizeof(src.label), "%s: %s", path, key);
		if (f == NULL) {
			err_set(e, ERR_CONFIG, "%s: unknown field", src.label);
			goto out;
		}
		if (set_from_json(f, dst, val, &src, e) == -1)
			goto out;
	}
	rc = 0;
out:
	json_object_put(root);
	free(text);
	return rc;
}

static int
load_env(const char *prefix, const struct config_field *fields, size_t n,
    void *dst, struct err *e)
{
	struct config_source src;
	char name[CONFIG_MAX_NAME + 32];

	for (size_t i = 0; i < n; i++) {
		const char *v;
		size_t o;

		o = (size_t)snprintf(name, sizeof(name), "%s_", prefix);
		for (const char *p = fields[i].name;
		     *p != '\0' && o + 1 < sizeof(name); p++)
			name[o++] = (char)toupper((unsigned char)*p);
		name[o] = '\0';
		if ((v = getenv(name)) == NULL)
			continue;
		snprintf(src.label, sizeof(src.label), "environment %s", name);
		if (set_from_text(&fields[i], dst, v, &src, e) == -1)
			return -1;
	}
	return 0;
}

/* "--access-ttl" -> field access_ttl. */
static const struct config_field *
field_by_flag(
    const struct config_field *fields, size_t n, const char *flag, size_t len)
{
	char name[CONFIG_MAX_NAME];

	if (len < 3 || len - 2 >= sizeof(name) || strncmp(flag, "--", 2) != 0)
		return NULL;
	for (size_t i = 2; i < len; i++)
		name[i - 2] = flag[i] == '-' ? '_' : flag[i];
	return field_by_name(fields, n, name, len - 2);
}

static bool
is_cli_flag(const char *arg, const char *flag)
{
	size_t n = strlen(flag);
	return strncmp(arg, flag, n) == 0 && (arg[n] == '\0' || arg[n] == '=');
}

static int
load_flags(int argc, char **argv, const struct config_field *fields, size_t n,
    void *dst, struct err *e)
{
	struct config_source src;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq = strchr(arg, '='), *value;
		size_t flen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		const struct config_field *f;

		if (is_cli_flag(arg, "--config")) {
			i += eq == NULL; /* its value was read in scan_cli */
			continue;
		}
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0 ||
		    strcmp(arg, "--version") == 0 ||
		    strcmp(arg, "--check-config") == 0)
			continue;
		if ((f = field_by_flag(fields, n, arg, flen)) == NULL)
			return err_set(e, ERR_CONFIG, "%.*s: unknown option",
			    (int)(flen > 64 ? 64 : flen), arg);
		snprintf(src.label, sizeof(src.label), "%.*s", (int)flen, arg);
		if (eq != NULL)
			value = eq + 1;
		else if (f->type == CONFIG_BOOL &&
		         (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0))
			value = "true"; /* a bare boolean flag */
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return err_set(
			    e, ERR_CONFIG, "%s: missing value", src.label);
		if (set_from_text(f, dst, value, &src, e) == -1)
			return -1;
	}
	return 0;
}

static int
scan_cli(int argc, char **argv, const char *default_path,
    struct config_cli *cli, struct err *e)
{
	*cli = (struct config_cli){ .config_path = default_path };
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0)
			cli->help = true;
		else if (strcmp(argv[i], "--version") == 0)
			cli->version = true;
		else if (strcmp(argv[i], "--check-config") == 0)
			cli->check_config = true;
		else if (strncmp(argv[i], "--config=", 9) == 0)
			cli->config_path = argv[i] + 9;
		else if (strcmp(argv[i], "--config") == 0) {
			if (i + 1 >= argc)
				return err_set(
				    e, ERR_CONFIG, "--config: missing value");
			cli->config_path = argv[++i];
		}
	}
	if (cli->config_path == NULL || cli->config_path[0] == '\0')
		return err_set(e, ERR_CONFIG, "--config: empty path");
	return 0;
}

int
config_load(const char *default_path, const struct config_field *fields,
    size_t n, void *dst, const char *env_prefix, int argc, char **argv,
    struct config_cli *cli, struct err *e)
{
	if (own_defaults(fields, n, dst, e) == -1 ||
	    scan_cli(argc, argv, default_path, cli, e) == -1)
		return -1;
	if (cli->help || cli->version)
		return 0;
	if (load_file(cli->config_path, cli->config_path != default_path,
	        fields, n, dst, e) == -1 ||
	    load_env(env_prefix, fields, n, dst, e) == -1 ||
	    load_flags(argc, argv, fields, n, dst, e) == -1)
		return -1;
	return 0;
}

/* A field's value in dst as --help shows a default: "none" when empty. */
static void
config_show(
    const struct config_field *f, const void *dst, char *buf, size_t len)
{
	const char *base = dst;
	size_t o = 0;

	switch (f->type) {
	case CONFIG_STRING: {
		const char *v = *(char *const *)(base + f->offset);
		snprintf(
		    buf, len, "%s", v != NULL && v[0] != '\0' ? v : "none");
		return;
	}
	case CONFIG_INT:
		snprintf(buf, len, "%lld",
		    (long long)*(const int64_t *)(base + f->offset));
		return;
	case CONFIG_BOOL:
		snprintf(buf, len, "%s",
		    *(const bool *)(base + f->offset) ? "true" : "false");
		return;
	case CONFIG_STRLIST:
		buf[0] = '\0';
		for (char *const *p = *(char **const *)(base + f->offset);
		     p != NULL && *p != NULL && o < len; p++)
			o += (size_t)snprintf(
			    buf + o, len - o, "%s%s", o > 0 ? "," : "", *p);
		if (buf[0] == '\0')
			snprintf(buf, len, "none");
		return;
	}
}

void
config_usage(FILE *out, const char *program, const char *default_path,
    const struct config_field *fields, size_t n, const char *env_prefix,
    const void *defaults)
{
	fprintf(out,
	    "usage: %s [--config FILE] [--check-config] [--help] [--version] "
	    "[options]\n"
	    "  --config FILE       settings file (default %s)\n"
	    "  --check-config      validate the settings and exit\n"
	    "  --version           print the version and exit\n"
	    "Each option may also be set in FILE (key as below, '_' for "
	    "'-')\nor in the environment (%s_KEY); flags win over both.\n",
	    program, default_path, env_prefix);
	for (size_t i = 0; i < n; i++) {
		char flag[CONFIG_MAX_NAME + 3] = "--", value[256];
		size_t o = 2;
		for (const char *p = fields[i].name;
		     *p != '\0' && o + 1 < sizeof(flag); p++)
			flag[o++] = *p == '_' ? '-' : *p;
		flag[o] = '\0';
		fprintf(out, "  %-24s %s", flag,
		    fields[i].help != NULL ? fields[i].help : "");
		if (defaults != NULL) {
			config_show(&fields[i], defaults, value, sizeof(value));
			fprintf(out, " (%s)", value);
		}
		fputc('\n', out);
	}
}
