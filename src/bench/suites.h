// The bench suites; bench.cpp lists them by name.
#pragma once

#include <vector>

#include "mudit/bench/bench.h"

namespace mudit::bench {

/// "ddp": per-step time of the toy transformer (~9.5 M parameters) trained by 1 process and by
/// 2 Gloo ranks with the same per-rank batch, each process pinned to `threads` threads; the
/// ratio is the data-parallel overhead (1.0 = none).
std::vector<Measurement> run_ddp_suite(const BenchOptions& options);

/// "loader": items/s and MB/s of data::Loader over a generated shard set (512 items, batch 16,
/// crops to 256 frames) with 0 workers (synchronous, the baseline), 1 and 2 workers; ratios
/// are against the synchronous loader of the same run. Each is measured twice: reading batches
/// back to back, and with a consumer that sleeps 1 ms per batch (a GPU step), where workers
/// overlap loading with the step.
std::vector<Measurement> run_loader_suite(const BenchOptions& options);

/// "vocoder": real-time factor (compute seconds per audio second) of the HiFi-GAN V1 (2 s at
/// 22.05 kHz) and v1_large (1 s at 24 kHz) generators with the weight norm folded, in C++ and
/// in PyTorch eager mode (tools/bench/hifigan_eager.py) with the same weights, input and
/// threads; the speed-up is PyTorch's time over C++'s (> 1: C++ is faster) and the outputs'
/// largest difference shows the two computed the same thing. v1_large runs repeats / 4 times.
std::vector<Measurement> run_vocoder_suite(const BenchOptions& options);

/// "generator": the MuDiT / MuSiT backbone (random weights) in C++ and in PyTorch eager mode
/// (tools/bench/dit_eager.py, our port of DiT's forward) with the same weights, inputs and
/// threads, in three cases: `tiny` (DiTConfig::tiny()), `medium` (512 hidden, 4 blocks, 8 heads,
/// 64-d latents, patch 2, a per-frame condition of 8 windows) and `seed` (DiTConfig::seed(),
/// sampling only), all with lyrics and in-context channels. Training step (tiny: 8 songs of up
/// to 512 frames; medium: 4 of up to 255): the median ms of zero_grad, forward, masked MSE
/// against a fixed target, backward and an AdamW step (lr 1e-4, betas 0.9 / 0.999, eps 1e-8,
/// weight decay 0.01; LibTorch's and torch's), and the first step's loss difference.
/// Sampling real-time factor: the median time of one inference-mode forward of a song's guided
/// batch (the conditioned and the null row) times 30 Euler steps over the song's seconds (tiny
/// 512 frames and medium 1023 at the wave VAE's 11.72 frames/s; seed 128 at the mel VAE's
/// 5.86), and the forward outputs' largest difference. The batches pad songs and lyrics, drop
/// conditions and lyrics and hold known frames in context, so the agreement covers every input.
/// Speed-ups are PyTorch's time over C++'s (> 1: C++ is faster); medium runs repeats / 2 times,
/// seed repeats / 4, and every case at most one warm-up.
std::vector<Measurement> run_generator_suite(const BenchOptions& options);

/// "codec": the seed-scale wave VAE (random weights) round-tripping 1 and 5 minutes of 24 kHz
/// stereo through chunked encode and decode (30 s windows, 3 s overlap): real-time factors and
/// the process's peak resident memory after each, then after one unchunked 90 s round trip (the
/// baseline chunking avoids). Peak memory is a high-water mark, so each figure includes the
/// ones before it.
std::vector<Measurement> run_codec_suite(const BenchOptions& options);

/// "serve": the retrieval service on loopback under load: 100 000 songs of random 512-d unit
/// vectors in an IVF-Flat index (1024 cells, 10 probed: the seed's Milvus setting), 50
/// concurrent clients (keep-alive connections) sending 200 searches each (k 10) to a server
/// with the default 8 request threads; latency p50 / p99 / max, errors and throughput, against
/// the same search called in process (the baseline; the ratio is what HTTP, JSON and queueing
/// add). Query vectors are drawn from the query text's hash, so no text tower runs.
std::vector<Measurement> run_serve_suite(const BenchOptions& options);

/// "device": the device of `options.device` measured with mudit's models at `options.scale`
/// (random weights): its dense matrix-product rate (bf16 8192^3 on a GPU, fp32 on the CPU; the
/// MFU's denominator); the generator backbone's training step (AdamW, bf16 autocast on a GPU; 8
/// songs of 1024 frames at seed scale) in ms, tokens/s, MFU and peak memory, with and without
/// activation checkpointing; and a song from noise to audio (30 Euler steps of the guided
/// two-row batch, the mel VAE's decoder, the vocoder; 240 s at seed scale) in seconds, split
/// into sampler and decode. Peak memory is the caching allocator's mark (GPU only).
std::vector<Measurement> run_device_suite(const BenchOptions& options);

}  // namespace mudit::bench
