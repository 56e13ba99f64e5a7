// Linked into every test executable (see darkroom_add_test). ThreadSanitizer: oneDNN (inside libtorch, not
// instrumented) shares its primitive cache between threads in ways TSan cannot see, so two generations at
// once look like races inside libdnnl. Our code is instrumented.
extern "C" const char* __tsan_default_suppressions() { return "race:libdnnl.so\n"; }
