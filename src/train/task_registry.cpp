#include <map>
#include <mutex>

#include "mudit/core/error.h"
#include "mudit/train/task.h"
#include "train/tasks/builtin.h"

namespace mudit::train {
namespace {

struct Registry {
  std::mutex mutex;
  std::map<std::string, TaskFactory> factories;
  Registry() {
    factories["toy"] = make_toy_task;
    factories["wave_vae"] = make_wave_vae_task;
    factories["mel_vae"] = make_mel_vae_task;
    factories["hifigan"] = make_hifigan_task;
    factories["chinmu"] = make_chinmu_task;
    factories["generator"] = make_generator_task;
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

void register_task(const std::string& name, TaskFactory factory) {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  MUDIT_CHECK(!r.factories.count(name), ConfigError, "task '", name, "' is already registered");
  r.factories[name] = std::move(factory);
}

std::vector<std::string> task_names() {
  auto& r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (const auto& [name, f] : r.factories) names.push_back(name);
  return names;
}

std::unique_ptr<Task> make_task(const std::string& name, const TaskContext& context) {
  TaskFactory factory;
  {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    auto it = r.factories.find(name);
    if (it != r.factories.end()) factory = it->second;
  }
  if (!factory) {
    const auto names = task_names();
    const std::string hint = closest_match(name, names);
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    MUDIT_THROW(ConfigError, "unknown task '", name, "'",
                hint.empty() ? " (registered: " + list + ")" : " (did you mean '" + hint + "'?)");
  }
  return factory(context);
}

}  // namespace mudit::train
