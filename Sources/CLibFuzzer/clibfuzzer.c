// Only a declaration lives here (include/clibfuzzer.h); SwiftPM needs a source file.
#include "clibfuzzer.h"
