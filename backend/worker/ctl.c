// SPDX-License-Identifier: GPL-2.0-or-later
/* vireo-worker-ctl SOCKET COMMAND: sends one command to a worker's control socket. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 3 || strchr(argv[2], '\n')) {
		fprintf(stderr, "usage: vireo-worker-ctl SOCKET COMMAND\n"
				"commands: power-button, turn-off, reset, status, help\n");
		return 2;
	}
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(argv[1]) >= sizeof(addr.sun_path)) {
		fprintf(stderr, "vireo-worker-ctl: %s: path too long\n", argv[1]);
		return 1;
	}
	strcpy(addr.sun_path, argv[1]);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		fprintf(stderr, "vireo-worker-ctl: %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	char line[1100];
	int n = snprintf(line, sizeof(line), "%s\n", argv[2]);
	if (n < 0 || (size_t)n >= sizeof(line) || write(fd, line, (size_t)n) != n) {
		fprintf(stderr, "vireo-worker-ctl: %s: cannot send the command\n", argv[1]);
		return 1;
	}
	size_t got = 0;
	while (got < sizeof(line) - 1) {
		ssize_t r = read(fd, line + got, sizeof(line) - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		if (memchr(line, '\n', got))
			break;
	}
	line[got] = 0;
	close(fd);
	if (got == 0) {
		fprintf(stderr, "vireo-worker-ctl: %s: no reply\n", argv[1]);
		return 1;
	}
	fputs(line, stdout);
	return strncmp(line, "ok", 2) == 0 ? 0 : 1;
}
