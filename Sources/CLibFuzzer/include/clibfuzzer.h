#ifndef CLIBFUZZER_H
#define CLIBFUZZER_H

#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver, for a program that has a main of its own (SwiftPM gives every
/// executable one): https://llvm.org/docs/LibFuzzer.html#using-libfuzzer-as-a-library.
/// Linked only in the -sanitize=fuzzer build of multirun-fuzz, which alone calls it.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
