#include "darkroom/models/cpu_threads.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <thread>

namespace darkroom::models {

void use_cpu_threads(int requested) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(requested > 0 ? requested : cores);
}

}  // namespace darkroom::models
