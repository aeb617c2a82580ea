// The `mudit` binary: the table of subcommands, each defined in its own thin file.
#include "cli/cli.h"
#include "commands.h"

int main(int argc, char** argv) {
  using mudit::cli::Command;
  const std::vector<Command> commands = {
      {"version", "print versions of mudit, LibTorch, CUDA, cuDNN and NCCL",
       mudit::cli::setup_version},
      {"config", "resolve config files, includes and --set overrides; print the YAML",
       mudit::cli::setup_config},
      {"inspect", "describe a safetensors or audio file, a checkpoint or a run",
       mudit::cli::setup_inspect},
      {"train", "train a task (codec, ChinMu, MuDiT, MuSiT, toy) from a run file",
       mudit::cli::setup_train},
      {"bench",
       "measure speed (suites: ddp, loader, vocoder, codec, generator, serve); medians, JSON",
       mudit::cli::setup_bench},
      {"import", "annotations and audio to a manifest: muchin (MuChin folder), folder (sidecars)",
       mudit::cli::setup_import},
      {"synth", "make the synthetic corpus: composed, rendered, described songs + manifest",
       mudit::cli::setup_synth},
      {"lyrics", "lyrics tools: clean (ASR transcript clean-up)", mudit::cli::setup_lyrics},
      {"encode", "audio file -> codec latents (chunked, bounded memory)", mudit::cli::setup_encode},
      {"decode", "codec latents -> audio file (chunked)", mudit::cli::setup_decode},
      {"vocode", "mel or audio -> audio through a HiFi-GAN vocoder", mudit::cli::setup_vocode},
      {"convert",
       "model files: official HiFi-GAN checkpoints (hifigan), trained codecs (codec), "
       "Hugging Face BERT text towers (hf-bert)",
       mudit::cli::setup_convert},
      {"vocab", "a WordPiece vocab.txt from manifests' descriptions or text files",
       mudit::cli::setup_vocab},
      {"embed", "texts -> text-tower embeddings (safetensors with ids)", mudit::cli::setup_embed},
      {"prepare", "manifest -> generator shards: codec latents, ChinMu embeddings, phoneme ids",
       mudit::cli::setup_prepare},
      {"sample", "songs from descriptions and lyrics through a bundle", mudit::cli::setup_sample},
      {"analyze", "tempo and key of audio files (JSON lines)", mudit::cli::setup_analyze},
      {"plan", "a musical plan (beats, chords, key) from a description, request, audio or labels",
       mudit::cli::setup_plan},
      {"eval", "generated songs against references: metrics.json and report.html",
       mudit::cli::setup_eval},
      {"fit-instruments", "an instrument-presence probe from labelled songs (for mudit eval)",
       mudit::cli::setup_fit_instruments},
      {"fit-plan-head", "the plan head: tempo, meter and key from description embeddings",
       mudit::cli::setup_fit_plan_head},
      {"index", "build a FAISS index of songs (ChinMu audio and lyric embeddings)",
       mudit::cli::setup_index},
      {"search", "query an index by description or lyrics (JSON lines)", mudit::cli::setup_search},
      {"serve", "the retrieval service: search API, audio, web page, authentication",
       mudit::cli::setup_serve},
      {"passwd", "add or change a user of mudit serve (Argon2id hash)", mudit::cli::setup_passwd},
      {"bundle", "codec + ChinMu + generator -> a bundle folder for mudit sample",
       mudit::cli::setup_bundle},
      {"launch", "start N copies of a mudit command for data-parallel training (like torchrun)",
       mudit::cli::setup_launch},
  };
  return mudit::cli::run_main(argc, argv, commands);
}
