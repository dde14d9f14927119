// SPDX-License-Identifier: GPL-2.0-or-later
/* The worker's console backends and control socket, driven as a client would. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "control.h"
#include "guest_text.h"
#include "serial.h"

static char *tmpdir;

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	g_assert_cmpuint(strlen(path), <, sizeof(addr.sun_path));
	strcpy(addr.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(fd, >=, 0);
	g_assert_cmpint(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	return fd;
}

static void spin(int ms)
{
	gint64 end = g_get_monotonic_time() + ms * 1000;
	while (g_get_monotonic_time() < end)
		g_main_context_iteration(NULL, FALSE);
}

/* Reads until `want` bytes arrived or a second passed, running the main loop meanwhile. */
static GString *read_some(int fd, size_t want)
{
	GString *s = g_string_new(NULL);
	gint64 end = g_get_monotonic_time() + G_USEC_PER_SEC;
	while (s->len < want && g_get_monotonic_time() < end) {
		g_main_context_iteration(NULL, FALSE);
		char buf[256];
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			g_string_append_len(s, buf, n);
		else
			g_usleep(1000);
	}
	return s;
}

static void test_serial_file(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "console.log", NULL);
	g_autofree char *spec = g_strconcat("file:", path, NULL);
	GError *error = NULL;
	struct serial *s = serial_open(spec, &error);
	g_assert_no_error(error);
	const struct chardev_sink *sink = serial_sink(s);
	sink->write(sink->opaque, (const uint8_t *)"boot\n", 5);
	sink->write(sink->opaque, (const uint8_t *)"done\n", 5);
	serial_close(s);
	g_autofree char *text = NULL;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpstr(text, ==, "boot\ndone\n");
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);

	g_autofree char *bad = g_build_filename(tmpdir, "no-such-dir", "log", NULL);
	s = serial_open(bad, &error);
	g_assert_null(s);
	g_assert_nonnull(strstr(error->message, bad));
	g_clear_error(&error);
}

struct input_probe {
	GString *got;
	size_t room;
};

static size_t probe_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct input_probe *p = opaque;
	size_t take = MIN(len, p->room);
	g_string_append_len(p->got, (const char *)buf, take);
	p->room -= take;
	return take;
}

static void test_serial_unix(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "console.sock", NULL);
	g_autofree char *spec = g_strconcat("unix:", path, NULL);
	GError *error = NULL;
	struct serial *s = serial_open(spec, &error);
	g_assert_no_error(error);
	struct stat st;
	g_assert_cmpint(stat(path, &st), ==, 0);
	g_assert_cmpuint(st.st_mode & 0777, ==, 0600);
	struct input_probe probe = { g_string_new(NULL), 4 };
	serial_attach(s, probe_input, NULL, &probe);

	/* Output before anyone connects is replayed to the first client. */
	const struct chardev_sink *sink = serial_sink(s);
	sink->write(sink->opaque, (const uint8_t *)"early ", 6);
	int c = connect_unix(path);
	spin(20);
	sink->write(sink->opaque, (const uint8_t *)"late", 4);
	g_autoptr(GString) got = read_some(c, 10);
	g_assert_cmpstr(got->str, ==, "early late");

	/* Input reaches the UART as fast as it has room; the rest waits, nothing is lost. */
	g_assert_cmpint(write(c, "abcdefgh", 8), ==, 8);
	spin(50);
	g_assert_cmpstr(probe.got->str, ==, "abcd");
	probe.room = 100;
	spin(50);
	g_assert_cmpstr(probe.got->str, ==, "abcdefgh");
	close(c);
	spin(20);
	serial_close(s);
	g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
	g_string_free(probe.got, TRUE);
}

static char *echo_handler(void *opaque, const char *command)
{
	int *calls = opaque;
	(*calls)++;
	if (g_str_equal(command, "status"))
		return g_strdup("ok state=running");
	return g_strdup_printf("error unknown command \"%.64s\"", command);
}

static void test_control(void)
{
	g_autofree char *path = g_build_filename(tmpdir, "control.sock", NULL);
	GError *error = NULL;
	int calls = 0;
	struct control *ctl = control_open(path, echo_handler, &calls, &error);
	g_assert_no_error(error);

	int c = connect_unix(path);
	g_assert_cmpint(write(c, "status\r\nbogus\n", 14), ==, 14);
	g_autoptr(GString) got = read_some(c, strlen("ok state=running\nerror unknown command \"bogus\"\n"));
	g_assert_cmpstr(got->str, ==, "ok state=running\nerror unknown command \"bogus\"\n");
	g_assert_cmpint(calls, ==, 2);

	/* A line longer than the limit is refused and the client dropped; the service lives on. */
	g_autofree char *flood = g_strnfill(5000, 'x');
	(void)!write(c, flood, strlen(flood));
	g_autoptr(GString) refused = read_some(c, strlen("error line too long\n"));
	g_assert_cmpstr(refused->str, ==, "error line too long\n");
	close(c);

	int c2 = connect_unix(path);
	g_assert_cmpint(write(c2, "status\n", 7), ==, 7);
	g_autoptr(GString) again = read_some(c2, strlen("ok state=running\n"));
	g_assert_cmpstr(again->str, ==, "ok state=running\n");
	close(c2);
	g_assert_cmpint(calls, ==, 3);
	control_close(ctl);

	/* A path too long for a socket address is named in the error. */
	g_autofree char *longpath = g_strnfill(200, 'p');
	g_assert_null(control_open(longpath, echo_handler, &calls, &error));
	g_assert_nonnull(strstr(error->message, "path too long"));
	g_clear_error(&error);
}

/* What an error report quotes of the guest's console: the last lines only,
 * and nothing a terminal would act on. */
static void test_serial_tail(void)
{
	const char out[] = "one\r\ntwo\r\n\x1b[31mthree\x07\tfour\r\n\xff\xfe five\n\n";
	g_autofree char *two = guest_text_tail((const uint8_t *)out, sizeof(out) - 1, 2, 4096);
	g_assert_cmpstr(two, ==, "[31mthree four\n\xef\xbf\xbd\xef\xbf\xbd five");
	g_autofree char *all = guest_text_tail((const uint8_t *)out, sizeof(out) - 1, 40, 4096);
	g_assert_true(g_str_has_prefix(all, "one\ntwo\n[31mthree"));
	g_autofree char *few = guest_text_tail((const uint8_t *)out, sizeof(out) - 1, 40, 6);
	g_assert_cmpstr(few, ==, "\xef\xbf\xbd five");
	g_autofree char *none = guest_text_tail((const uint8_t *)"\r\n", 2, 40, 4096);
	g_assert_cmpstr(none, ==, "");
	g_autofree char *nul = guest_text_tail((const uint8_t *)"a\0b", 3, 40, 4096);
	g_assert_cmpstr(nul, ==, "ab");
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	tmpdir = g_dir_make_tmp("vireo-worker-io-XXXXXX", NULL);
	g_test_add_func("/worker-io/serial-file", test_serial_file);
	g_test_add_func("/worker-io/serial-unix", test_serial_unix);
	g_test_add_func("/worker-io/control", test_control);
	g_test_add_func("/worker-io/serial-tail", test_serial_tail);
	int r = g_test_run();
	g_autofree char *log = g_build_filename(tmpdir, "console.log", NULL);
	g_unlink(log);
	g_rmdir(tmpdir);
	g_free(tmpdir);
	return r;
}
