// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Runs a libFuzzer target without libFuzzer, so that `meson test` exercises
 * it with any compiler: every file named on the command line (or found in a
 * directory named there), then a fixed series of pseudo-random inputs.
 * A failing input aborts, as under libFuzzer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_RANDOM_INPUTS 400
#define REPLAY_RANDOM_MAX_LEN 2048
#define REPLAY_SEED UINT64_C(0x9E3779B97F4A7C15)

static unsigned replay_file(const char *path)
{
	g_autofree gchar *buf = NULL;
	gsize len = 0;
	g_autoptr(GError) error = NULL;
	if (!g_file_get_contents(path, &buf, &len, &error)) {
		fprintf(stderr, "%s\n", error->message);
		exit(EXIT_FAILURE);
	}
	LLVMFuzzerTestOneInput((const uint8_t *)buf, len);
	return 1;
}

static unsigned replay_path(const char *path)
{
	if (!g_file_test(path, G_FILE_TEST_IS_DIR))
		return replay_file(path);
	g_autoptr(GError) error = NULL;
	GDir *dir = g_dir_open(path, 0, &error);
	if (!dir) {
		fprintf(stderr, "%s\n", error->message);
		exit(EXIT_FAILURE);
	}
	unsigned n = 0;
	const char *name;
	while ((name = g_dir_read_name(dir))) {
		g_autofree gchar *child = g_build_filename(path, name, NULL);
		if (g_file_test(child, G_FILE_TEST_IS_REGULAR))
			n += replay_file(child);
	}
	g_dir_close(dir);
	return n;
}

/* xorshift64*: the same inputs on every run and every machine. */
static uint64_t replay_next(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return *state * UINT64_C(0x2545F4914F6CDD1D);
}

int main(int argc, char **argv)
{
	unsigned files = 0;
	for (int i = 1; i < argc; i++)
		files += replay_path(argv[i]);

	uint64_t state = REPLAY_SEED;
	g_autofree uint8_t *buf = g_malloc(REPLAY_RANDOM_MAX_LEN);
	for (unsigned i = 0; i < REPLAY_RANDOM_INPUTS; i++) {
		size_t len = replay_next(&state) % (REPLAY_RANDOM_MAX_LEN + 1);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)(replay_next(&state) >> 56);
		LLVMFuzzerTestOneInput(buf, len);
	}
	printf("replayed %u corpus files and %u generated inputs\n", files, REPLAY_RANDOM_INPUTS);
	return EXIT_SUCCESS;
}
