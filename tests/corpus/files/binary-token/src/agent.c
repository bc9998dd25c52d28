/* A deploy agent that was built with its token compiled in. */
#include <stdio.h>
#include <string.h>

static const char token[] = "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";

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--header") == 0)
        printf("Authorization: token %s\n", token);
    return 0;
}
