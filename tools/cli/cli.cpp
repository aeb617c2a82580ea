// Parsing argv against the command table and turning every error into one line and an exit code.
#include "cli/cli.h"

#include <c10/util/Exception.h>

#include <iostream>

#include "mudit/core/error.h"
#include "mudit/core/log.h"
#include "mudit/core/version.h"

namespace mudit::cli {
namespace {

// One line, whatever the message holds.
std::string one_line(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (size_t pos = s.find('\n'); pos != std::string::npos; pos = s.find('\n', pos)) {
    s.replace(pos, 1, "; ");
  }
  return s;
}

int fail(const std::string& who, int code, const std::string& message) {
  log::flush();
  std::cerr << who << ": error: " << one_line(message) << std::endl;
  return code;
}

int exit_code_for(const Error& e) {
  if (dynamic_cast<const ConfigError*>(&e)) return kUsage;
  if (dynamic_cast<const IoError*>(&e) || dynamic_cast<const DataError*>(&e) ||
      dynamic_cast<const CheckpointError*>(&e)) {
    return kInput;
  }
  return kRuntime;
}

}  // namespace

int run_main(int argc, char** argv, const std::vector<Command>& commands) {
  CLI::App app{"mudit — description-to-song generation on LibTorch", "mudit"};
  app.set_help_all_flag("--help-all", "help for every command");
  bool show_version = false;
  app.add_flag("--version", show_version, "print versions of mudit, LibTorch and CUDA");
  app.require_subcommand(0, 1);
  app.fallthrough(false);

  CommonOptions common;
  std::vector<std::pair<CLI::App*, Runner>> runners;
  std::vector<std::string> names;
  for (const Command& c : commands) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runners.emplace_back(sub, c.setup(*sub, common));
    names.emplace_back(c.name);
  }

  if (argc > 1 && argv[1][0] != '-') {
    const std::string name = argv[1];
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      const std::string hint = closest_match(name, names);
      return fail("mudit", kUsage,
                  "unknown command '" + name + "'" +
                      (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                      "; run 'mudit --help' for the list");
    }
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    const CLI::App* target = &app;
    for (auto& [sub, runner] : runners) {
      if (sub->parsed()) target = sub;
    }
    std::cout << target->help();
    return kOk;
  } catch (const CLI::CallForAllHelp&) {
    std::cout << app.help("", CLI::AppFormatMode::All);
    return kOk;
  } catch (const CLI::ParseError& e) {
    std::string who = "mudit";
    for (auto& [sub, runner] : runners) {
      if (sub->parsed()) who += " " + sub->get_name();
    }
    return fail(who, kUsage, std::string(e.what()) + " (see '" + who + " --help')");
  }

  if (show_version) {
    std::cout << build_info() << std::endl;
    return kOk;
  }

  for (auto& [sub, runner] : runners) {
    if (!sub->parsed()) continue;
    const std::string who = "mudit " + sub->get_name();
    try {
      return runner();
    } catch (const Error& e) {
      return fail(who, exit_code_for(e), e.what());
    } catch (const c10::Error& e) {
      return fail(who, kRuntime, e.what_without_backtrace());
    } catch (const std::exception& e) {
      return fail(who, kRuntime, e.what());
    }
  }
  std::cerr << app.help();
  return kUsage;
}

}  // namespace mudit::cli
