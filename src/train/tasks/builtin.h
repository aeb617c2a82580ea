// Factories of the tasks built into mudit; task_registry.cpp registers them by name.
#pragma once

#include <memory>

#include "mudit/train/task.h"

namespace mudit::train {

/// "toy": a small transformer regressing a fixed random teacher on synthetic sequences. Trains
/// in seconds; the engine's tests and the DDP-overhead benchmark use it.
std::unique_ptr<Task> make_toy_task(const TaskContext& context);

/// "wave_vae", "mel_vae", "hifigan": the codec stage (gan_codec_task.h).
std::unique_ptr<Task> make_wave_vae_task(const TaskContext& context);
std::unique_ptr<Task> make_mel_vae_task(const TaskContext& context);
std::unique_ptr<Task> make_hifigan_task(const TaskContext& context);

/// "chinmu": contrastive training of ChinMu's text and audio towers (chinmu_task.cpp).
std::unique_ptr<Task> make_chinmu_task(const TaskContext& context);

/// "generator": MuDiT (DDPM) or MuSiT (interpolant) on prepared shards, stage 2 (audio
/// conditions) or 3 (text conditions) (generator_task.cpp).
std::unique_ptr<Task> make_generator_task(const TaskContext& context);

}  // namespace mudit::train
