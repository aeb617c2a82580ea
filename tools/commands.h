// One setup function per subcommand, each in tools/cmd_<name>.cpp.
#pragma once

#include "cli/cli.h"

namespace mudit::cli {

Runner setup_version(CLI::App& app, CommonOptions& common);
Runner setup_config(CLI::App& app, CommonOptions& common);
Runner setup_inspect(CLI::App& app, CommonOptions& common);
Runner setup_train(CLI::App& app, CommonOptions& common);
Runner setup_bench(CLI::App& app, CommonOptions& common);
Runner setup_lyrics(CLI::App& app, CommonOptions& common);
Runner setup_lyrics_phonemes(CLI::App& app, CommonOptions& common);  // in cmd_lyrics_g2p.cpp
Runner setup_lyrics_rhyme(CLI::App& app, CommonOptions& common);     // in cmd_lyrics_g2p.cpp
Runner setup_import(CLI::App& app, CommonOptions& common);
Runner setup_launch(CLI::App& app, CommonOptions& common);
Runner setup_synth(CLI::App& app, CommonOptions& common);
Runner setup_encode(CLI::App& app, CommonOptions& common);
Runner setup_decode(CLI::App& app, CommonOptions& common);  // in cmd_encode.cpp
Runner setup_vocode(CLI::App& app, CommonOptions& common);
Runner setup_convert(CLI::App& app, CommonOptions& common);
Runner setup_hf_bert(CLI::App& app, CommonOptions& common);  // in cmd_convert_bert.cpp
Runner setup_vocab(CLI::App& app, CommonOptions& common);
Runner setup_embed(CLI::App& app, CommonOptions& common);
Runner setup_prepare(CLI::App& app, CommonOptions& common);
Runner setup_sample(CLI::App& app, CommonOptions& common);
Runner setup_analyze(CLI::App& app, CommonOptions& common);
Runner setup_plan(CLI::App& app, CommonOptions& common);
Runner setup_bundle(CLI::App& app, CommonOptions& common);  // in cmd_sample.cpp
Runner setup_eval(CLI::App& app, CommonOptions& common);
Runner setup_fit_instruments(CLI::App& app, CommonOptions& common);
Runner setup_fit_plan_head(CLI::App& app, CommonOptions& common);
Runner setup_index(CLI::App& app, CommonOptions& common);   // in cmd_index.cpp
Runner setup_search(CLI::App& app, CommonOptions& common);  // in cmd_index.cpp
Runner setup_serve(CLI::App& app, CommonOptions& common);   // in cmd_serve.cpp
Runner setup_passwd(CLI::App& app, CommonOptions& common);  // in cmd_serve.cpp

}  // namespace mudit::cli
