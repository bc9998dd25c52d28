/* replay.c - a main() for the libFuzzer targets when they are not built
 * with -fsanitize=fuzzer (any compiler, every test build): it runs each
 * file named on the command line through LLVMFuzzerTestOneInput once, so
 * the targets are compiled and exercised on every change and cannot rot,
 * and a crashing input found by fuzzing can be replayed under a debugger
 * without libFuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s INPUT...\n", argv[0]);
        return 2;
    }
    LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        size_t n;
        uint8_t *data = slurp(argv[i], &n);
        if (!data) {
            fprintf(stderr, "%s: %s: cannot read\n", argv[0], argv[i]);
            return 1;
        }
        LLVMFuzzerTestOneInput(data, n);
        free(data);
    }
    return 0;
}
