// mudit version: what this build is and what it can reach.
#include <iostream>

#include "commands.h"
#include "mudit/core/version.h"

namespace mudit::cli {

Runner setup_version(CLI::App& app, CommonOptions& common) {
  add_common_options(app, common);
  return [&common] {
    apply_common_options(common);
    std::cout << build_info() << std::endl;
    return kOk;
  };
}

}  // namespace mudit::cli
