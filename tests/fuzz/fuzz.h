/* fuzz.h: what the fuzz targets share: the libFuzzer entry point, and a scratch directory. */
#ifndef PM_FUZZ_H
#define PM_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* libFuzzer calls this with each input; driver.c does too, for the regression runs. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private directory for the run's files (in /dev/shm when there is one: fast syncs), removed
 * at exit. Borrowed. */
const char *pm_fuzz_dir(void);
/* Write data to path (returns 0, or -1 when it cannot). */
int pm_fuzz_write(const char *path, const uint8_t *data, size_t size);

#endif
