/* memfile.h - for the fuzz targets whose parser reads a path (a rule
 * file, a baseline): one in-memory file (memfd), rewritten with each
 * input and named by its /proc/self/fd path, so no input touches the
 * disk. Header-only: each target is one program, and this is its
 * LLVMFuzzerInitialize. */
#ifndef STW_FUZZ_MEMFILE_H
#define STW_FUZZ_MEMFILE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int memfile_fd = -1;
static char memfile_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Creates the file; aborts on failure: a target that cannot run must not
 * pass. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    memfile_fd = memfd_create("fuzz-input", 0);
    if (memfile_fd < 0) {
        perror("memfd_create");
        abort();
    }
    snprintf(memfile_path, sizeof(memfile_path), "/proc/self/fd/%d",
             memfile_fd);
    return 0;
}

/* Makes the file hold exactly data; returns its path. */
static const char *memfile_set(const uint8_t *data, size_t size)
{
    if (ftruncate(memfile_fd, 0) != 0 ||
        pwrite(memfile_fd, data, size, 0) != (ssize_t)size)
        abort();
    return memfile_path;
}

#endif
