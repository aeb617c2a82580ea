// Test helper: one rank of a distributed test. Reads its place from the environment (as torchrun
// or `mudit launch` set it), connects over Gloo and runs MODE; prints "ok MODE rank R" and exits
// 0 on success, 1 on a wrong value, 3 with "error: ..." on a mudit::Error, 77 without Gloo.
//   mudit_test_dist_worker MODE [TIMEOUT_S]
// Modes: collectives, grad, dead (rank 1 dies before an all_reduce), dead-grad (rank 1 dies
// before backward), stall (rank 1 never joins the collective), bench (10 M parameters), gather
// (all_gather values; InfoNCE over gathered negatives has the whole batch's gradient).
#include <torch/autograd.h>
#include <torch/nn/functional.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>

#include "mudit/core/error.h"
#include "mudit/dist/comm.h"
#include "mudit/dist/grad_reducer.h"
#include "mudit/models/chinmu.h"

namespace {

using mudit::dist::Comm;
using mudit::dist::GradReducer;
using mudit::dist::ReduceOp;

int g_failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::cout << "FAIL " << what << std::endl;
    ++g_failures;
  }
}

void collectives(Comm& comm) {
  const int r = comm.rank();
  const double w = comm.world_size();
  // all_reduce over a float and a double tensor (two flattened groups) and a non-contiguous one.
  std::vector<at::Tensor> t = {torch::tensor({1.0f + r, 10.0f * (r + 1)}),
                               torch::full({2, 3}, r + 1.0, torch::kDouble),
                               torch::arange(6, torch::kFloat).view({2, 3}).t() * (r + 1)};
  comm.all_reduce(t, ReduceOp::kSum);  // ranks 0, 1: (1, 10) + (2, 20)
  expect(torch::equal(t[0], torch::tensor({3.0f, 30.0f})), "sum float");
  expect(torch::all(t[1] == 3.0).item<bool>(), "sum double");
  expect(torch::equal(t[2], torch::arange(6, torch::kFloat).view({2, 3}).t() * 3), "sum strided");
  std::vector<at::Tensor> m = {torch::tensor({2.0f * r, 4.0f})};
  comm.all_reduce(m, ReduceOp::kMean);
  expect(torch::allclose(m[0], torch::tensor({1.0f, 4.0f})), "mean");
  std::vector<at::Tensor> mx = {torch::tensor({static_cast<float>(r), 5.0f - r}),
                                torch::tensor({static_cast<int64_t>(7 * r)})};
  comm.all_reduce(mx, ReduceOp::kMax);
  expect(torch::equal(mx[0], torch::tensor({static_cast<float>(w) - 1.0f, 5.0f})), "max float");
  expect(mx[1].item<int64_t>() == 7 * (comm.world_size() - 1), "max int64");
  std::vector<at::Tensor> mn = {torch::tensor({static_cast<float>(r) - 1.0f})};
  comm.all_reduce(mn, ReduceOp::kMin);
  expect(mn[0].item<float>() == -1.0f, "min");

  std::vector<at::Tensor> b = {torch::full({4}, 100.0f + r), torch::full({2}, r, torch::kLong)};
  comm.broadcast(b, /*root=*/1);
  expect(torch::all(b[0] == 101.0f).item<bool>() && torch::all(b[1] == 1).item<bool>(),
         "broadcast from 1");
  comm.barrier();

  const auto avg = comm.average({{"loss", 1.0 + r}, {"acc", 0.5 * r}});
  expect(std::abs(avg.at("loss") - 1.5) < 1e-12 && std::abs(avg.at("acc") - 0.25) < 1e-12,
         "average");

  torch::manual_seed(100 + r);  // different weights on each rank before the broadcast
  torch::nn::Sequential net(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4));
  {
    torch::NoGradGuard no_grad;
    for (auto& buf : net->buffers()) buf.fill_(r + 7);
  }
  comm.broadcast_module(*net);
  torch::manual_seed(100);
  torch::nn::Sequential ref(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4));
  const auto got = net->named_parameters();
  for (const auto& p : ref->named_parameters()) {
    expect(torch::equal(got[p.key()], p.value()), "broadcast_module " + p.key());
  }
  for (const auto& buf : net->buffers()) {
    expect(torch::all(buf == 7).item<bool>(), "broadcast_module buffer");
  }
  expect(net->parameters()[0].requires_grad(), "parameters still require grad");
}

// all_gather gives every rank's rows in rank order; InfoNCE of each rank's pairs against the
// gathered embeddings, backpropagated through all_gather_with_grad and averaged over ranks, has
// the gradient of one process's InfoNCE over the whole batch.
void gather(const std::shared_ptr<Comm>& comm) {
  const int r = comm->rank();
  const int64_t w = comm->world_size();
  const at::Tensor got = comm->all_gather(torch::full({2, 3}, static_cast<float>(r)));
  expect(got.sizes() == c10::IntArrayRef({2 * w, 3}), "all_gather shape");
  for (int64_t q = 0; q < w; ++q) {
    expect(torch::all(got.narrow(0, 2 * q, 2) == static_cast<float>(q)).item<bool>(),
           "all_gather rows of rank " + std::to_string(q));
  }
  const int64_t b = 4, d = 8;
  torch::manual_seed(0);
  const at::Tensor text0 = torch::randn({b * w, d}), audio0 = torch::randn({b * w, d});
  const at::Tensor scale = torch::tensor(5.0f);
  auto unit = [](const at::Tensor& x) { return x / x.norm(2, {1}, true); };
  const at::Tensor text_all = text0.clone().requires_grad_(true);
  const at::Tensor audio_all = audio0.clone().requires_grad_(true);
  const at::Tensor full = mudit::info_nce(unit(text_all), unit(audio_all), scale);
  full.backward();

  const at::Tensor text = text0.narrow(0, r * b, b).clone().requires_grad_(true);
  const at::Tensor audio = audio0.narrow(0, r * b, b).clone().requires_grad_(true);
  const at::Tensor t = unit(text), a = unit(audio);
  const at::Tensor local =
      mudit::info_nce(t, a, mudit::dist::all_gather_with_grad(comm, t),
                      mudit::dist::all_gather_with_grad(comm, a), scale, r * b);
  std::vector<at::Tensor> mean_loss = {local.detach().clone()};
  comm->all_reduce(mean_loss, ReduceOp::kMean);
  expect(std::abs(mean_loss[0].item<double>() - full.item<double>()) < 1e-5,
         "mean of the ranks' losses is the whole batch's");
  local.backward();
  // The trainer averages gradients over ranks (all_reduce mean): grad / world per row here.
  for (const auto& [mine, all] :
       {std::pair{text.grad(), text_all.grad()}, std::pair{audio.grad(), audio_all.grad()}}) {
    const double diff =
        (mine / static_cast<double>(w) - all.narrow(0, r * b, b)).abs().max().item<double>();
    expect(diff < 1e-6, "gathered-negative gradient differs by " + std::to_string(diff));
  }
  // Without the gather the loss sees B negatives only, and its gradient is not the batch's.
  const at::Tensor lonely = mudit::info_nce(t, a, scale);
  expect(std::abs(lonely.item<double>() - local.item<double>()) > 1e-4,
         "gathered negatives change the loss");
}

// A small MLP with one parameter the forward never uses.
struct MlpImpl : torch::nn::Module {
  MlpImpl() {
    fc1 = register_module("fc1", torch::nn::Linear(6, 16));
    fc2 = register_module("fc2", torch::nn::Linear(16, 3));
    unused = register_parameter("unused", torch::ones({5}));
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::tanh(fc1(x))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::Tensor unused;
};
TORCH_MODULE(Mlp);

torch::Tensor loss_of(Mlp& net, const torch::Tensor& x, const torch::Tensor& y) {
  return torch::mse_loss(net->forward(x), y);  // mean over its rows
}

// Checks that the reduced gradients of each rank's half equal the full batch's on one process.
void grad(const std::shared_ptr<Comm>& comm) {
  const int r = comm->rank();
  const int w = comm->world_size();
  torch::manual_seed(0);
  const auto x = torch::randn({8 * w, 6});  // [B, 6]
  const auto y = torch::randn({8 * w, 3});  // [B, 3]
  torch::manual_seed(1);
  Mlp reference;
  loss_of(reference, x, y).backward();

  for (double bucket_mb : {25.0, 0.0002}) {
    torch::manual_seed(1);
    Mlp net;
    GradReducer reducer(comm, net->parameters(), bucket_mb);
    const std::string tag = "bucket_mb " + std::to_string(bucket_mb);
    if (bucket_mb < 1) {
      expect(reducer.num_buckets() > 2,
             tag + ": several buckets, got " + std::to_string(reducer.num_buckets()));
    } else {
      expect(reducer.num_buckets() == 1, tag + ": one bucket");
    }
    auto check = [&](const std::string& what) {
      const auto ref = reference->named_parameters();
      for (const auto& p : net->named_parameters()) {
        const auto& g = p.value().grad();
        const auto& want = ref[p.key()].grad();
        if (!want.defined()) {
          expect(g.defined() && torch::all(g == 0).item<bool>(),
                 tag + " " + what + ": " + p.key() + " zero");
          continue;
        }
        const double diff = (g - want).abs().max().item<double>();
        expect(diff <= 1e-6,
               tag + " " + what + ": " + p.key() + " differs by " + std::to_string(diff));
      }
    };
    const auto xs = x.chunk(w)[r];  // [8, 6]
    const auto ys = y.chunk(w)[r];
    // Two synchronised steps in a row (the second checks that state resets).
    for (int step = 0; step < 2; ++step) {
      net->zero_grad(/*set_to_none=*/true);
      reducer.begin(true);
      loss_of(net, xs, ys).backward();
      reducer.finish();
      check("step " + std::to_string(step));
    }
    // Accumulation: two micro-steps of 4 rows, each loss halved, only the second synchronised.
    net->zero_grad(/*set_to_none=*/true);
    for (int micro = 0; micro < 2; ++micro) {
      reducer.begin(micro == 1);
      const auto xm = xs.chunk(2)[micro];  // [4, 6]
      const auto ym = ys.chunk(2)[micro];
      (loss_of(net, xm, ym) / 2).backward();
      reducer.finish();
      if (micro == 0) {  // local only: equals the local half-batch gradient of 4 rows
        expect(net->fc1->weight.grad().defined(), tag + ": accumulation keeps local grads");
      }
    }
    check("accumulated");
  }
}

void die_before_collective(Comm& comm) {
  if (comm.rank() == 1) ::_exit(1);
  std::vector<at::Tensor> t = {torch::ones({1000})};
  comm.all_reduce(t, ReduceOp::kSum);
}

void die_before_backward(const std::shared_ptr<Comm>& comm) {
  torch::manual_seed(1);
  Mlp net;
  GradReducer reducer(comm, net->parameters(), 0.0002);
  if (comm->rank() == 1) ::_exit(1);
  reducer.begin(true);
  loss_of(net, torch::randn({4, 6}), torch::randn({4, 3})).backward();
  reducer.finish();
}

void stall(Comm& comm, double timeout_s) {
  if (comm.rank() == 1) {
    std::this_thread::sleep_for(std::chrono::duration<double>(timeout_s * 2));
    ::_exit(0);
  }
  std::vector<at::Tensor> t = {torch::ones({10})};
  comm.all_reduce(t, ReduceOp::kSum);
}

void bench(const std::shared_ptr<Comm>& comm) {
  // 10 M fp32 parameters in 10 tensors of 1 M, reduced in 25 MB buckets.
  std::vector<torch::Tensor> params;
  for (int i = 0; i < 10; ++i) params.push_back(torch::randn({1000, 1000}).requires_grad_());
  GradReducer reducer(comm, params, 25);
  auto step = [&](bool sync) {
    for (auto& p : params) p.mutable_grad() = torch::Tensor();
    torch::Tensor loss = torch::zeros({});
    for (auto& p : params) loss = loss + p.sum();
    const auto t0 = std::chrono::steady_clock::now();
    reducer.begin(sync);
    loss.backward();
    reducer.finish();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  step(true);  // warm-up: allocates the buckets
  double local = 1e9, synced = 1e9;
  for (int i = 0; i < 5; ++i) {
    local = std::min(local, step(false));
    synced = std::min(synced, step(true));
  }
  std::vector<at::Tensor> flat = {torch::ones({10 * 1000 * 1000})};
  double plain = 1e9;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    comm->all_reduce(flat, ReduceOp::kSum);
    plain = std::min(plain,
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  if (comm->is_main()) {
    std::printf(
        "bench: 10 M fp32 params, %zu buckets, world %d: backward alone %.1f ms, backward + "
        "reduce %.1f ms; one 40 MB all_reduce %.1f ms (best of 5)\n",
        reducer.num_buckets(), comm->world_size(), local * 1e3, synced * 1e3, plain * 1e3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODE [TIMEOUT_S]\n", argv[0]);
    return 2;
  }
  const std::string mode = argv[1];
  if (!mudit::dist::has_backend("gloo")) {
    std::printf("skip: built without Gloo\n");
    return 77;
  }
  try {
    const auto env = mudit::dist::DistEnv::from_environment();
    mudit::dist::DistConfig config;
    config.backend = "gloo";
    if (argc > 2) config.timeout_s = std::stod(argv[2]);
    auto comm = mudit::dist::init_comm(env, config, torch::kCPU);
    if (mode == "collectives") {
      collectives(*comm);
    } else if (mode == "grad") {
      grad(comm);
    } else if (mode == "dead") {
      die_before_collective(*comm);
    } else if (mode == "dead-grad") {
      die_before_backward(comm);
    } else if (mode == "stall") {
      stall(*comm, config.timeout_s);
    } else if (mode == "gather") {
      gather(comm);
    } else if (mode == "bench") {
      bench(comm);
    } else {
      std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
      return 2;
    }
    if (g_failures) return 1;
    std::cout << "ok " << mode << " rank " << comm->rank() << " of " << comm->world_size() << " ("
              << env.source << ")" << std::endl;
    return 0;
  } catch (const mudit::Error& e) {
    std::cout << "error: " << e.what() << std::endl;
    return 3;
  } catch (const std::exception& e) {
    std::cout << "unexpected exception: " << e.what() << std::endl;
    return 4;
  }
}
