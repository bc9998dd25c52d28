/* replay.c - a main() for the libFuzzer targets when they are not built
 * with -fsanitize=fuzzer (any compiler, every test build): it runs each
 * file named on the command line (or in a directory named there, like
 * libFuzzer's corpus arguments) through LLVMFuzzerTestOneInput once, so
 * the targets are compiled and exercised on every change and cannot rot,
 * and a crashing input found by fuzzing can be replayed under a debugger
 * without libFuzzer. */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Optional, as for libFuzzer: a target without setup leaves it out. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The whole file at path into a malloc'd buffer; NULL on failure. */
static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0;
    *n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (*n == cap) {
            uint8_t *nb = realloc(buf, cap = cap ? cap * 2 : 65536);
            if (!nb)
                break;
            buf = nb;
        }
        size_t k = fread(buf + *n, 1, cap - *n, f);
        *n += k;
        if (k == 0)
            break;
    }
    if (ferror(f) || *n == 0) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    return buf;
}

/* Runs one file; a directory, each regular file in it (by name, so a
 * failure is found at the same place every time). Returns the number of
 * inputs run, or -1 when one cannot be read. */
static long replay(const char *prog, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        struct dirent **names;
        int n = scandir(path, &names, NULL, alphasort);
        if (n < 0) {
            fprintf(stderr, "%s: %s: cannot list\n", prog, path);
            return -1;
        }
        long total = 0;
        for (int i = 0; i < n; i++) {
            char sub[4096];
            int k = snprintf(sub, sizeof(sub), "%s/%s", path, names[i]->d_name);
            bool skip = names[i]->d_name[0] == '.' || k < 0 ||
                        (size_t)k >= sizeof(sub) || stat(sub, &sb) != 0 ||
                        !S_ISREG(sb.st_mode);
            long r = skip || total < 0 ? 0 : replay(prog, sub);
            total = r < 0 || total < 0 ? -1 : total + r;
            free(names[i]);
        }
        free(names);
        return total;
    }
    size_t n;
    uint8_t *data = slurp(path, &n);
    if (!data) {
        /* An empty file is an input too (libFuzzer keeps them). */
        if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size == 0) {
            uint8_t none = 0;
            LLVMFuzzerTestOneInput(&none, 0);
            return 1;
        }
        fprintf(stderr, "%s: %s: cannot read\n", prog, path);
        return -1;
    }
    LLVMFuzzerTestOneInput(data, n);
    free(data);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT|DIR...\n", argv[0]);
        return 2;
    }
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    long total = 0;
    for (int i = 1; i < argc; i++) {
        long r = replay(argv[0], argv[i]);
        if (r < 0)
            return 1;
        total += r;
    }
    /* A corpus that unpacked to nothing would pass without testing. */
    if (total == 0) {
        fprintf(stderr, "%s: no inputs\n", argv[0]);
        return 1;
    }
    printf("%s: %ld inputs\n", argv[0], total);
    return 0;
}
