/*
 * fuzz/standalone_main.c - runs a fuzz target over files and directories
 * without libFuzzer (gcc builds for `make test`): every file in the seed
 * corpus and the regression inputs is executed once, normally and under
 * ASan+UBSan.  Prints "N passed, 0 failed" (a crash aborts the process).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap);
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		if (n == 0)
			break;
		len += n;
	}
	fclose(f);
	uint8_t *exact = malloc(len ? len : 1);     /* exact size: overreads are caught */
	memcpy(exact, buf, len);
	free(buf);
	LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	return 0;
}

int main(int argc, char **argv)
{
	int ran = 0;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			ran += run_file(argv[i]) == 0;
			continue;
		}
		DIR *d = opendir(argv[i]);
		struct dirent *e;
		while (d && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			char p[4096];
			snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
			ran += run_file(p) == 0;
		}
		if (d)
			closedir(d);
	}
	if (ran == 0) {
		fprintf(stderr, "no inputs found\n");
		printf("0 passed, 1 failed\n");
		return 1;
	}
	printf("%d passed, 0 failed\n", ran);
	return 0;
}
