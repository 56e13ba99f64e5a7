#include "darkroom/models/interruption.hpp"

namespace darkroom::models {
namespace {

thread_local const InterruptionScope* current = nullptr;

}  // namespace

InterruptionScope::InterruptionScope(std::function<void()> check) : check_(std::move(check)), enclosing_(current) {
  current = this;
}

InterruptionScope::~InterruptionScope() { current = enclosing_; }

void interruption_point() {
  if (current && current->check_) current->check_();
}

}  // namespace darkroom::models
