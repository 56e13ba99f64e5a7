#pragma once
// How many CPU threads libtorch's operators use. Every program sets it once at start-up, because libtorch's
// own default is not "all cores" everywhere: on this project's two-core machines it picks one thread, which
// halves the speed of training and generation.

namespace darkroom::models {

// `requested` threads, or one per core when it is 0 or less.
void use_cpu_threads(int requested);

}  // namespace darkroom::models
