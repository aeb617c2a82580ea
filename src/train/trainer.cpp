#include "mudit/train/trainer.h"

#include <ATen/ops/scalar_tensor.h>
#include <torch/csrc/autograd/autograd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mudit/core/device.h"
#include "mudit/core/error.h"
#include "mudit/core/fs.h"
#include "mudit/core/log.h"
#include "mudit/core/rng.h"
#include "mudit/core/safetensors.h"
#include "mudit/dist/grad_reducer.h"
#include "mudit/train/grad.h"

namespace mudit::train {
namespace fs = std::filesystem;

void TrainConfig::validate() const {
  MUDIT_CHECK(steps >= 0, ConfigError, "steps must be >= 0, got ", steps);
  MUDIT_CHECK(epochs >= 0, ConfigError, "epochs must be >= 0, got ", epochs);
  MUDIT_CHECK(batch_size >= 1, ConfigError, "batch_size must be >= 1, got ", batch_size);
  MUDIT_CHECK(grad_accum >= 1, ConfigError, "grad_accum must be >= 1, got ", grad_accum);
  MUDIT_CHECK(clip_grad_norm >= 0, ConfigError, "clip_grad_norm must be >= 0");
  MUDIT_CHECK(max_nonfinite_steps >= 1, ConfigError, "max_nonfinite_steps must be >= 1");
  for (int64_t every : {log_every, validate_every, checkpoint_every, sample_every}) {
    MUDIT_CHECK(every >= 0, ConfigError, "*_every settings must be >= 0, got ", every);
  }
}

void RunConfig::validate() const {
  MUDIT_CHECK(
      !task.empty(), ConfigError, "task: name the task to train (one of: ",
      [] {
        std::string s;
        for (const auto& n : task_names()) s += (s.empty() ? "" : ", ") + n;
        return s;
      }(),
      ")");
  MUDIT_CHECK(!run_dir.empty(), ConfigError, "run_dir must not be empty");
  if (resume != "auto" && resume != "never") {
    MUDIT_CHECK(!resume.empty() && resume.find_first_not_of("0123456789") == std::string::npos,
                ConfigError, "resume: expected auto, never or a step number, got '", resume, "'");
  }
}

int TrainResult::exit_code() const {
  if (signal == SIGTERM) return 143;
  if (signal == SIGINT) return 130;
  return 0;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Signals: the first SIGTERM/SIGINT asks the loop to finish its step, checkpoint and return.

std::atomic<int> g_signal{0};

extern "C" void on_stop_signal(int sig) {
  g_signal.store(sig);
}

class StopSignals {
 public:
  StopSignals() {
    g_signal.store(0);
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old_term_);
    sigaction(SIGINT, &sa, &old_int_);
  }
  ~StopSignals() {
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

 private:
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
};

// ---------------------------------------------------------------------------------------------
// One optimizer and what travels with it.

struct OptimizerSlot {
  std::string name;
  NamedParams params;
  std::vector<at::Tensor> tensors;
  std::map<std::string, at::Tensor> by_name;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  double base_lr = 0;
  ScheduleConfig schedule;
  std::unique_ptr<dist::GradReducer> reducer;
  std::unique_ptr<LossScaler> scaler;
};

std::string module_file(const std::string& name) {
  return name + ".safetensors";
}
std::string optimizer_file(const std::string& name) {
  return "optimizer_" + name + ".safetensors";
}

ModelMeta model_meta(const Task& task, int64_t step) {
  ModelMeta meta;
  meta.arch = task.arch();
  meta.arch_rev = task.arch_rev();
  meta.config = task.model_config_yaml();
  meta.step = step;
  return meta;
}

void save_checkpoint(CheckpointManager& manager, int64_t step, int64_t skipped, Task& task,
                     const std::vector<OptimizerSlot>& slots, const Ema* ema,
                     const RunConfig& run) {
  manager.save(step, [&](const fs::path& dir) {
    for (const auto& [name, module] : task.modules()) {
      save_model(dir / module_file(name), *module, model_meta(task, step));
    }
    if (ema) {
      ModelMeta meta = model_meta(task, step);
      meta.extra["mudit.ema_decay"] = std::to_string(run.train.ema.decay);
      meta.format = kModelFormat;
      save_safetensors(dir / "ema.safetensors", ema->shadow(), meta.to_metadata());
    }
    for (const auto& slot : slots) {
      std::map<std::string, std::string> meta;
      for (const auto& [k, v] : slot.scaler->state()) meta["scaler." + k] = std::to_string(v);
      save_safetensors(dir / optimizer_file(slot.name),
                       optimizer_state_dict(*slot.optimizer, slot.by_name), meta);
    }
    nlohmann::json j;
    j["step"] = step;
    j["skipped_steps"] = skipped;
    j["data_state"] = task.data_state();
    j["seed"] = run.train.seed;
    j["rng"] = "reseeded every step from (seed, step, rank)";
    j["task"] = run.task;
    write_file_atomic(dir / "trainer.json", j.dump(2) + "\n");
  });
}

// Restores everything save_checkpoint wrote; returns (step, skipped).
std::pair<int64_t, int64_t> load_checkpoint(const fs::path& dir, Task& task,
                                            std::vector<OptimizerSlot>& slots, Ema* ema) {
  return with_context("resuming from " + dir.string(), [&] {
    const nlohmann::json j = [&] {
      try {
        return nlohmann::json::parse(read_file(dir / "trainer.json"));
      } catch (const nlohmann::json::exception& e) {
        MUDIT_THROW(CheckpointError, (dir / "trainer.json").string(), ": ", e.what());
      }
    }();
    for (const auto& [name, module] : task.modules()) {
      load_model(dir / module_file(name), *module, task.arch(), task.arch_rev());
    }
    if (ema) {
      MUDIT_CHECK(fs::exists(dir / "ema.safetensors"), CheckpointError,
                  "no ema.safetensors (the run was saved without EMA; set train.ema.enabled)");
      ema->load(load_safetensors(dir / "ema.safetensors").tensors);
    }
    for (auto& slot : slots) {
      const TensorFile f = load_safetensors(dir / optimizer_file(slot.name));
      load_optimizer_state(*slot.optimizer, slot.by_name, f.tensors);
      std::map<std::string, double> scaler;
      for (const auto& [k, v] : f.metadata) {
        if (k.rfind("scaler.", 0) == 0) scaler[k.substr(7)] = std::stod(v);
      }
      if (!scaler.empty()) slot.scaler->load_state(scaler);
    }
    task.load_data_state(j.value("data_state", std::string()));
    return std::make_pair(j.at("step").get<int64_t>(), j.value("skipped_steps", int64_t{0}));
  });
}

std::optional<fs::path> resume_dir(const RunConfig& run, CheckpointManager& manager) {
  if (run.resume == "never") return std::nullopt;
  if (run.resume == "auto") {
    if (!manager.latest()) return std::nullopt;
    return manager.resolve();
  }
  return manager.resolve(std::stoll(run.resume));
}

// One line per process that trains this run, appended when it starts: the step it starts from
// (0 for a fresh run, else the checkpoint it resumed), so a resume can be told from a restart.
void record_session(const fs::path& run_dir, int64_t from_step, int64_t total_steps, int world) {
  const nlohmann::json j = {
      {"time",
       std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()},
      {"from_step", from_step},
      {"steps", total_steps},
      {"world_size", world}};
  std::ofstream out(run_dir / "sessions.jsonl", std::ios::app);
  out << j.dump() << "\n";
  out.flush();
  MUDIT_CHECK(out.good(), IoError, "cannot append to ", (run_dir / "sessions.jsonl").string());
}

double now_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

TrainResult train(const RunConfig& run, Task& task, std::shared_ptr<dist::Comm> comm) {
  const TrainConfig& cfg = run.train;
  const fs::path run_dir = run.run_dir;
  const bool main = comm->is_main();
  const int world = comm->world_size();

  const auto modules = task.modules();
  MUDIT_CHECK(!modules.empty(), ConfigError, "task '", run.task, "' has no modules to train");
  const c10::Device device = [&] {
    for (const auto& p : modules.front().second->parameters()) return p.device();
    return c10::Device(c10::kCPU);
  }();
  apply_tf32(cfg.amp);
  int64_t total_steps = cfg.steps;
  if (cfg.epochs > 0) {
    const int64_t per_epoch = task.steps_per_epoch(cfg.batch_size * cfg.grad_accum * world);
    MUDIT_CHECK(per_epoch > 0, ConfigError, "train.epochs needs data with a finite epoch; task '",
                run.task, "' has none here (set train.steps instead)");
    total_steps = cfg.epochs * per_epoch;
    log::info(cfg.epochs, " epochs of ", per_epoch, " steps: ", total_steps, " steps");
  }

  std::vector<OptimizerSlot> slots(static_cast<size_t>(task.num_optimizers()));
  for (int i = 0; i < task.num_optimizers(); ++i) {
    OptimizerSlot& s = slots[static_cast<size_t>(i)];
    const OptimConfig& oc = i == 0 ? cfg.optim : cfg.disc_optim;
    s.name = task.optimizer_name(i);
    s.params = task.parameters(i);
    MUDIT_CHECK(!s.params.empty(), ConfigError, "optimizer '", s.name, "' has no parameters");
    for (const auto& [n, t] : s.params) {
      s.tensors.push_back(t);
      s.by_name[n] = t;
    }
    s.optimizer = make_optimizer(s.params, oc);
    s.base_lr = oc.lr;
    s.schedule = (i == 0 ? cfg.schedule : cfg.disc_schedule).resolved(total_steps);
    // A schedule pinned shorter than the run (a preset's total_steps kept while train.steps was
    // raised) leaves the learning rate at its floor for the rest: say so.
    if ((s.schedule.kind == "linear" || s.schedule.kind == "cosine") &&
        s.schedule.total_steps < total_steps)
      log::warn("optimizer '", s.name, "': the ", s.schedule.kind, " schedule ends at step ",
                s.schedule.total_steps, " of ", total_steps,
                "; the learning rate stays at its floor after it (leave ",
                i == 0 ? "train.schedule" : "train.disc_schedule",
                ".total_steps unset to follow the run's length)");
    s.scaler = std::make_unique<LossScaler>(cfg.amp);
    if (world > 1)
      s.reducer = std::make_unique<dist::GradReducer>(comm, s.tensors, cfg.dist.bucket_mb);
  }
  std::unique_ptr<Ema> ema;
  if (cfg.ema.enabled) ema = std::make_unique<Ema>(*modules.front().second, cfg.ema);

  CheckpointManager manager(run_dir / "checkpoints", cfg.checkpoint);
  int64_t step = 0;
  int64_t skipped = 0;
  if (auto dir = resume_dir(run, manager)) {
    std::tie(step, skipped) = load_checkpoint(*dir, task, slots, ema.get());
    log::info("resumed from ", dir->string(), " at step ", step);
  }
  const int64_t first_step = step;
  for (const auto& [name, module] : modules) comm->broadcast_module(*module);

  std::unique_ptr<MetricsLog> metrics_log;
  if (main) {
    write_config_file(run_dir, dump_config(run));
    record_session(run_dir, first_step, total_steps, world);
    log::add_file((run_dir / "train.log").string());
    metrics_log = std::make_unique<MetricsLog>(run_dir, cfg.logging, total_steps, run.task);
  }

  StopSignals signals;
  TrainResult result;
  int64_t consecutive_bad = 0;
  std::map<std::string, double> window;  // sums since the last log line
  int64_t window_steps = 0;
  double window_start = now_seconds();
  int64_t last_saved = -1;

  while (step < total_steps) {
    // Every step draws its randomness from (seed, step, rank): a resumed run continues exactly.
    seed_everything(derive_seed(cfg.seed, static_cast<uint64_t>(step)),
                    static_cast<uint64_t>(comm->rank()));
    std::vector<Batch> batches;
    for (int64_t micro = 0; micro < cfg.grad_accum; ++micro)
      batches.push_back(task.batch(step, micro));

    bool step_bad = false;
    std::map<std::string, double> step_metrics;
    for (int i = 0; i < task.num_optimizers(); ++i) {
      if (!task.optimizer_active(i, step)) continue;
      OptimizerSlot& s = slots[static_cast<size_t>(i)];
      s.optimizer->zero_grad(/*set_to_none=*/true);
      for (int64_t micro = 0; micro < cfg.grad_accum; ++micro) {
        if (s.reducer) s.reducer->begin(/*sync=*/micro == cfg.grad_accum - 1);
        std::map<std::string, at::Tensor> losses;
        {
          AutocastGuard autocast(device.type(), cfg.amp);
          losses = task.losses(batches[static_cast<size_t>(micro)], i, step);
        }
        auto it = losses.find("loss");
        MUDIT_CHECK(it != losses.end(), ConfigError, "task '", run.task,
                    "' returned no \"loss\" for optimizer ", s.name);
        const at::Tensor loss = it->second.to(at::kFloat) / static_cast<double>(cfg.grad_accum);
        for (const auto& [k, v] : losses) {
          step_metrics[s.name + "/" + k] +=
              v.detach().to(at::kDouble).item<double>() / static_cast<double>(cfg.grad_accum);
        }
        torch::autograd::backward({s.scaler->scale_loss(loss)}, {}, std::nullopt, false, s.tensors);
      }
      if (s.reducer) s.reducer->finish();
      const bool finite =
          s.scaler->enabled() ? s.scaler->unscale_and_check(s.tensors) : grads_finite(s.tensors);
      const double norm = finite ? clip_grad_norm(s.tensors, cfg.clip_grad_norm) : NAN;
      if (!finite || !std::isfinite(norm)) {
        s.optimizer->zero_grad(true);
        s.scaler->update(/*found_inf=*/true);
        step_bad = true;
        log::warn("step ", step + 1, ": non-finite ", finite ? "gradient norm" : "gradients",
                  " for ", s.name, "; step skipped");
        continue;
      }
      const double lr = s.base_lr * lr_factor(s.schedule, step);
      set_learning_rate(*s.optimizer, lr);
      s.optimizer->step();
      s.scaler->update(/*found_inf=*/false);
      step_metrics[s.name + "/grad_norm"] = norm;
      step_metrics[s.name + "/lr"] = lr;
      if (s.scaler->enabled()) step_metrics[s.name + "/loss_scale"] = s.scaler->scale();
    }

    ++step;
    if (step_bad) {
      ++skipped;
      ++consecutive_bad;
      MUDIT_CHECK(consecutive_bad < cfg.max_nonfinite_steps, Error,
                  "training stopped: ", consecutive_bad,
                  " consecutive steps with non-finite losses or gradients (last at step ", step,
                  "); lower the learning rate or check the data");
    } else {
      consecutive_bad = 0;
      if (ema) ema->update(*modules.front().second, step);
    }
    for (const auto& [k, v] : step_metrics) window[k] += v;
    ++window_steps;

    if (cfg.log_every > 0 && (step % cfg.log_every == 0 || step == total_steps)) {
      std::map<std::string, double> mean;
      for (const auto& [k, v] : window) mean[k] = v / static_cast<double>(window_steps);
      const double elapsed = std::max(now_seconds() - window_start, 1e-9);
      mean["steps_per_s"] = static_cast<double>(window_steps) / elapsed;
      mean["samples_per_s"] =
          mean["steps_per_s"] * static_cast<double>(cfg.batch_size * cfg.grad_accum * world);
      mean["skipped_steps"] = static_cast<double>(skipped);
      mean = comm->average(mean);
      if (metrics_log) metrics_log->log_scalars(step, mean);
      result.last_metrics = mean;
      window.clear();
      window_steps = 0;
      window_start = now_seconds();
    }
    if (cfg.validate_every > 0 && step % cfg.validate_every == 0) {
      std::map<std::string, double> v;
      for (const auto& [k, x] : task.validate(step)) v["valid/" + k] = x;
      v = comm->average(v);
      if (metrics_log && !v.empty()) metrics_log->log_scalars(step, v);
    }
    if (main && cfg.sample_every > 0 && step % cfg.sample_every == 0)
      task.sample(step, *metrics_log);

    int stop = g_signal.load();
    if (world > 1) {
      std::vector<at::Tensor> flag = {at::scalar_tensor(static_cast<double>(stop), at::kDouble)};
      comm->all_reduce(flag, dist::ReduceOp::kMax);
      stop = static_cast<int>(flag[0].item<double>());
    }
    const bool due = (cfg.checkpoint_every > 0 && step % cfg.checkpoint_every == 0) ||
                     step == total_steps || stop != 0;
    if (due) {
      if (main) save_checkpoint(manager, step, skipped, task, slots, ema.get(), run);
      last_saved = step;
      comm->barrier();
    }
    if (stop != 0) {
      log::warn("stopping at step ", step, " on signal ", stop, " (checkpoint written)");
      result.signal = stop;
      break;
    }
  }
  if (main && last_saved != step && step > first_step) {
    save_checkpoint(manager, step, skipped, task, slots, ema.get(), run);
  }
  if (metrics_log) {
    metrics_log->finish();
    log::close_files();
  }
  result.step = step;
  result.skipped_steps = skipped;
  return result;
}

TrainResult train(const RunConfig& run) {
  const dist::DistEnv env = dist::DistEnv::from_environment();
  c10::Device device = parse_device(run.train.device);
  if (device.is_cuda() && env.distributed()) {
    device = c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(env.local_rank));
  }
  auto comm = dist::init_comm(env, run.train.dist, device);
  TaskContext ctx;
  ctx.device = device;
  ctx.rank = comm->rank();
  ctx.world_size = comm->world_size();
  ctx.seed = run.train.seed;
  ctx.batch_size = run.train.batch_size;
  ctx.grad_accum = run.train.grad_accum;
  ctx.activation_checkpointing = run.train.activation_checkpointing;
  ctx.run_dir = run.run_dir;
  ctx.model = run.model;
  ctx.data = run.data;
  ctx.comm = comm;
  std::unique_ptr<Task> task = make_task(run.task, ctx);
  return train(run, *task, comm);
}

}  // namespace mudit::train
