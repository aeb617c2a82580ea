// Saving and restoring the thread's autocast state (private to mudit_core). AutocastGuard and
// the activation checkpoint's recompute are the only users: autocast is switched nowhere else.
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

namespace mudit::train::detail {

struct AutocastState {
  bool enabled = false;
  c10::ScalarType dtype = c10::ScalarType::Undefined;
};

/// The current thread's autocast state for `device_type`.
AutocastState autocast_state(c10::DeviceType device_type);

/// Sets the state for `device_type` and enters one autocast nesting level (as entering
/// torch.autocast does). Pair with exit_autocast().
void enter_autocast(c10::DeviceType device_type, const AutocastState& state);

/// Leaves a nesting level, clears the autocast cache when it was the outermost, and restores
/// `previous` for `device_type`.
void exit_autocast(c10::DeviceType device_type, const AutocastState& previous);

}  // namespace mudit::train::detail
