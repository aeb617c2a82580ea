// mudit inspect: what a safetensors or audio file, checkpoint folder or run holds.
#include <iostream>
#include <memory>

#include "commands.h"
#include "mudit/core/inspect.h"

namespace mudit::cli {

Runner setup_inspect(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  auto path = std::make_shared<std::string>();
  auto options = std::make_shared<InspectOptions>();
  app.add_option("path", *path, "safetensors or audio file, checkpoint folder, or run/checkpoints")
      ->required();
  app.add_option("--max-tensors", options->max_tensors, "tensor rows to list (0: all)")
      ->capture_default_str();
  return [&common, path, options] {
    apply_common_options(common);
    std::cout << inspect(*path, *options);
    return kOk;
  };
}

}  // namespace mudit::cli
