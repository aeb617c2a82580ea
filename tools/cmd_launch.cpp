// mudit launch: starts N copies of mudit on this machine, as torchrun would.
#include <memory>

#include "commands.h"
#include "mudit/dist/launch.h"

namespace mudit::cli {

Runner setup_launch(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  auto options = std::make_shared<dist::LaunchOptions>();
  app.add_option("-n,--nproc", options->nproc, "processes to start (one per GPU)")->required();
  app.add_option("--master-port", options->master_port, "rendezvous port (default: a free one)");
  app.add_option("command", options->args, "the mudit subcommand and its arguments, after --")
      ->required();
  app.footer("example: mudit launch -n 2 -- train --config configs/train/tiny.yaml");
  return [&common, options] {
    apply_common_options(common);
    return dist::launch(*options);
  };
}

}  // namespace mudit::cli
