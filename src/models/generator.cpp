#include "mudit/models/generator.h"

#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"
#include "mudit/models/model_files.h"

namespace mudit {

void GeneratorConfig::validate() const {
  dit.validate();
  MUDIT_CHECK(objective == "interpolant" || objective == "ddpm", ConfigError,
              "generator objective '", objective,
              "': expected interpolant (MuSiT) or ddpm (MuDiT)");
  MUDIT_CHECK(condition == "audio" || condition == "text" || condition == "none", ConfigError,
              "generator condition '", condition, "': expected audio, text or none");
  interpolant.validate();
  ddpm.validate();
}

Generator load_generator(const std::filesystem::path& file, c10::Device device, bool use_ema) {
  return with_context("generator " + file.string(), [&] {
    const ModelMeta meta = read_model_meta(file);
    MUDIT_CHECK(meta.arch == "generator", CheckpointError, file.string(), ": holds a '", meta.arch,
                "' model, not a generator");
    Generator g;
    g.config = bind_config<GeneratorConfig>(parse_config_text(meta.config, file.string()));
    g.dit = DiT(g.config.dit);
    load_trained(file, *g.dit, "generator", use_ema);
    g.dit->to(device);
    g.dit->eval();
    return g;
  });
}

}  // namespace mudit
