// mudit config: the resolved YAML of --config files (with their includes) and --set overrides.
#include <iostream>
#include <memory>

#include "commands.h"
#include "mudit/core/log.h"

namespace mudit::cli {

Runner setup_config(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  auto out_dir = std::make_shared<std::string>();
  app.add_option("--out", *out_dir, "also write the result to DIR/config.yaml")->type_name("DIR");
  return [&common, out_dir] {
    apply_common_options(common);
    const std::string yaml = to_yaml(resolve_config(common));
    if (!out_dir->empty()) {
      write_config_file(*out_dir, yaml);
      log::info("wrote ", *out_dir, "/config.yaml");
    }
    std::cout << yaml;
    return kOk;
  };
}

}  // namespace mudit::cli
