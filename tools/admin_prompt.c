/* admin_prompt: password input with the terminal's echo turned off
 * (termios), restored on every path. */
#include "admin_prompt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "secret.h"

/* One line from fd into buf (at most ADMIN_PROMPT_MAX bytes before the
 * newline), byte by byte so nothing past the line is consumed. */
static int
admin_prompt_line(int fd, char *buf, size_t *len, struct err *e)
{
	size_t n = 0;
	char c;
	ssize_t r;

	for (;;) {
		r = read(fd, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			return err_set(e, ERR_IO, "reading the password: %s",
			    strerror(errno));
		if (r == 0 || c == '\n')
			break;
		if (n == ADMIN_PROMPT_MAX)
			return err_set(e, ERR_INVALID_REQUEST,
			    "password longer than %d bytes", ADMIN_PROMPT_MAX);
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	*len = n;
	return 0;
}

/* Asks twice on the terminal fd, echo off for both: it is turned off
 * before the first prompt shows and back on after the second answer, so
 * nothing typed after a prompt (even typed ahead) is ever echoed or
 * flushed away. */
static int
admin_prompt_tty(int fd, const char *prompt, char *a, size_t *alen, char *b,
    size_t *blen, struct err *e)
{
	struct termios old, quiet;
	int rc = -1;

	if (tcgetattr(fd, &old) == -1)
		return err_set(e, ERR_IO, "terminal: %s", strerror(errno));
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	if (tcsetattr(fd, TCSAFLUSH, &quiet) == -1)
		return err_set(e, ERR_IO, "terminal: %s", strerror(errno));
	/* The user's Enter is not echoed: each answer ends the line here. */
	if (write(fd, prompt, strlen(prompt)) == -1 ||
	    admin_prompt_line(fd, a, alen, e) == -1 ||
	    write(fd, "\n", 1) == -1 || write(fd, "Again: ", 7) == -1 ||
	    admin_prompt_line(fd, b, blen, e) == -1 ||
	    write(fd, "\n", 1) == -1) {
		if (e->code == ERR_OK)
			err_set(e, ERR_IO, "terminal: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	tcsetattr(fd, TCSADRAIN, &old);
	return rc;
}

int
admin_prompt_password(
    const char *who, bool from_stdin, char **pw, size_t *len, struct err *e)
{
	char *a = NULL, *b = NULL, prompt[160];
	size_t alen = 0, blen = 0;
	int fd = -1, rc = -1;

	*pw = NULL;
	*len = 0;
	if ((a = malloc(ADMIN_PROMPT_MAX + 1)) == NULL ||
	    (b = malloc(ADMIN_PROMPT_MAX + 1)) == NULL) {
		err_set(e, ERR_NOMEM, "password buffer");
		goto out;
	}
	if (from_stdin || !isatty(STDIN_FILENO)) {
		if (admin_prompt_line(STDIN_FILENO, a, &alen, e) == -1)
			goto out;
	} else {
		if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) == -1) {
			err_set(e, ERR_IO, "/dev/tty: %s", strerror(errno));
			goto out;
		}
		snprintf(prompt, sizeof(prompt), "New password for %s: ", who);
		if (admin_prompt_tty(fd, prompt, a, &alen, b, &blen, e) == -1)
			goto out;
		if (!secret_equal(a, alen, b, blen)) {
			err_set(
			    e, ERR_INVALID_REQUEST, "the two passwords differ");
			goto out;
		}
	}
	if (alen == 0) {
		err_set(e, ERR_INVALID_REQUEST, "empty password");
		goto out;
	}
	/* /login compares the password with its length: a NUL read here
	 * would make a password nobody can type. */
	if (memchr(a, '\0', alen) != NULL) {
		err_set(e, ERR_INVALID_REQUEST, "password contains a NUL byte");
		goto out;
	}
	*pw = a;
	*len = alen;
	a = NULL;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (a != NULL) {
		secret_wipe(a, ADMIN_PROMPT_MAX + 1);
		free(a);
	}
	if (b != NULL) {
		secret_wipe(b, ADMIN_PROMPT_MAX + 1);
		free(b);
	}
	return rc;
}
