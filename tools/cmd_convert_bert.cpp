// mudit convert hf-bert: a Hugging Face BERT folder into a text-tower file.
#include <memory>

#include "commands.h"
#include "mudit/core/log.h"
#include "mudit/models/text_tower.h"

namespace mudit::cli {

Runner setup_hf_bert(CLI::App& app, CommonOptions& common) {
  struct Flags {
    std::string dir, out, pooling;
  };
  auto f = std::make_shared<Flags>();
  app.add_option("dir", f->dir,
                 "Hugging Face BERT folder: config.json, vocab.txt, model.safetensors")
      ->required();
  app.add_option("--out", f->out, "text-tower file")->required()->type_name("FILE");
  app.add_option("--pooling", f->pooling,
                 "mean, cls or pooler (default: the folder's sentence-transformers pooling, "
                 "else cls)");
  add_common_options(app, common);
  return [&common, f] {
    apply_common_options(common);
    if (!f->pooling.empty()) check_choice("--pooling", f->pooling, {"mean", "cls", "pooler"});
    const auto r = convert_hf_bert(f->dir, f->out, f->pooling);
    log::info("converted ", r.tensors, " tensors from ", r.weights, " (", r.parameters / 1e6,
              " M parameters; ", r.dropped, " non-encoder tensors dropped), ", r.tokens,
              " tokens, ", r.config.pooling, " pooling", r.config.normalize ? ", normalised" : "",
              ", max ", r.config.tokenizer.max_length, " tokens -> ", f->out);
    return kOk;
  };
}

}  // namespace mudit::cli
