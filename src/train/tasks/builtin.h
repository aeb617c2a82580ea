// Factories of the tasks built into mudit; task_registry.cpp registers them by name.
#pragma once

#include <memory>

#include "mudit/train/task.h"

namespace mudit::train {

/// "toy": a small transformer regressing a fixed random teacher on synthetic sequences. Trains
/// in seconds; the engine's tests and the DDP-overhead benchmark use it.
std::unique_ptr<Task> make_toy_task(const TaskContext& context);

}  // namespace mudit::train
