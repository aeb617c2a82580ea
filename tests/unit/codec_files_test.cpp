// Codec and vocoder files, HiFi-GAN conversion, encode / decode / vocode of files, latent
// statistics and the YAML presets of the codec stage.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>

#include "mudit/audio/io.h"
#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/safetensors.h"
#include "mudit/core/state_dict.h"
#include "mudit/data/manifest.h"
#include "mudit/models/convert.h"
#include "mudit/models/model_files.h"
#include "mudit/pipeline/codec.h"
#include "mudit/train/trainer.h"
#include "unit/test_util.h"

namespace mudit {
namespace {

const std::string kConfigs = std::string(MUDIT_TEST_DATA_DIR) + "/../../configs/";

at::Tensor tones(int64_t channels, int64_t samples) {
  const at::Tensor t = at::arange(samples, at::kFloat) / 24000.0;
  std::vector<at::Tensor> rows;
  for (int64_t c = 0; c < channels; ++c)
    rows.push_back(0.3 * at::sin(2 * M_PI * (220.0 * (c + 1)) * t) * at::cos(2 * M_PI * 2.0 * t));
  return at::stack(rows);  // [C, T]
}

HifiganConfig tiny_160() {
  HifiganConfig g = HifiganConfig::tiny();
  g.num_mels = 160;
  return g;
}

// A fresh tiny mel VAE with statistics, saved as a model file.
MelVAE save_tiny_mel_vae(const std::filesystem::path& file) {
  MelVAE vae(MelVAEConfig::tiny());
  vae->set_statistics(torch::full({160}, -5.0), torch::full({160}, 2.0), 50);
  ModelMeta meta;
  meta.arch = "mel_vae";
  meta.config = dump_config(vae->config());
  save_model(file, *vae, meta);
  return vae;
}

// --- presets --------------------------------------------------------------------------------

TEST(CodecPresets, YamlFilesEqualTheCppPresets) {
  EXPECT_EQ(dump_config(bind_config<WaveVAEConfig>(
                load_config_file(kConfigs + "codec/wave_vae/seed.yaml"))),
            dump_config(WaveVAEConfig::seed()));
  EXPECT_EQ(dump_config(bind_config<WaveVAEConfig>(
                load_config_file(kConfigs + "codec/wave_vae/tiny.yaml"))),
            dump_config(WaveVAEConfig::tiny()));
  EXPECT_EQ(dump_config(
                bind_config<MelVAEConfig>(load_config_file(kConfigs + "codec/mel_vae/seed.yaml"))),
            dump_config(MelVAEConfig::seed()));
  EXPECT_EQ(dump_config(
                bind_config<MelVAEConfig>(load_config_file(kConfigs + "codec/mel_vae/tiny.yaml"))),
            dump_config(MelVAEConfig::tiny()));
}

TEST(CodecPresets, RunFilesBindAndNestTheModelPresets) {
  for (const char* name : {"wave_vae", "mel_vae", "hifigan"}) {
    for (const char* size : {"seed", "tiny"}) {
      const std::string file = kConfigs + "codec/" + name + "_" + size + ".yaml";
      const ConfigNode tree = load_config_file(file);
      const auto run = bind_config<train::RunConfig>(tree);
      EXPECT_EQ(run.task, name) << file;
      EXPECT_GT(run.train.steps, 0) << file;
    }
  }
  const ConfigNode seed = load_config_file(kConfigs + "codec/wave_vae_seed.yaml");
  EXPECT_EQ(dump_config(bind_config<WaveVAEConfig>(seed, "model.vae")),
            dump_config(WaveVAEConfig::seed()));
  const ConfigNode tiny = load_config_file(kConfigs + "codec/hifigan_tiny.yaml");
  const auto g = bind_config<HifiganConfig>(tiny, "model.generator");
  EXPECT_EQ(g.upsample_initial_channel, 32);
  EXPECT_EQ(g.num_mels, 160);
  const auto large = bind_config<HifiganConfig>(
      load_config_file(kConfigs + "codec/hifigan_seed.yaml"), "model.generator");
  EXPECT_EQ(dump_config(large), dump_config(HifiganConfig::v1_large()));
}

// --- files ----------------------------------------------------------------------------------

TEST(CodecFiles, WaveCodecRoundTripsWithItsStatistics) {
  test::TempDir dir;
  torch::manual_seed(1);
  WaveVAECodec codec(WaveVAEConfig::tiny());
  codec->set_latent_stats(torch::linspace(-1, 1, 32), torch::linspace(0.5, 2, 32), 777);
  save_codec(dir / "codec.safetensors", *codec, 12);
  Codec loaded = load_codec(dir / "codec.safetensors");
  EXPECT_EQ(loaded->kind(), "wave_vae");
  EXPECT_EQ(loaded->latent_stats_frames(), 777);
  EXPECT_EQ(read_model_meta(dir / "codec.safetensors").step, 12);
  torch::NoGradGuard no_grad;
  const at::Tensor x = tones(2, 8192).unsqueeze(0);
  EXPECT_TRUE(torch::equal(loaded->encode(x), codec->encode(x)));
  EXPECT_TRUE(torch::equal(loaded->normalize(torch::ones({3, 32})),
                           codec->normalize(torch::ones({3, 32}))));
}

TEST(CodecFiles, MelCodecFromPartsAndBack) {
  test::TempDir dir;
  torch::manual_seed(2);
  MelVAE vae = save_tiny_mel_vae(dir / "vae.safetensors");
  HifiganGenerator g(tiny_160());
  VocoderConfig vc{tiny_160(), MelConfig::mudit_24k()};
  save_vocoder(dir / "vocoder.safetensors", g, vc);

  Codec codec = codec_from_parts(dir / "vae.safetensors", dir / "vocoder.safetensors", true);
  EXPECT_EQ(codec->kind(), "mel_vae");
  save_codec(dir / "codec.safetensors", *codec);
  Codec loaded = load_codec(dir / "codec.safetensors");
  torch::NoGradGuard no_grad;
  const at::Tensor x = tones(1, 8192).unsqueeze(0);
  EXPECT_TRUE(torch::equal(loaded->encode(x), codec->encode(x)));
  const at::Tensor z = codec->encode(x);
  EXPECT_TRUE(torch::allclose(loaded->decode(z), g(vae->decode(z)), 1e-6, 1e-6));

  // A mel VAE alone cannot decode to audio; a vocoder with other mels does not fit.
  EXPECT_THAT(test::error_of([&] { load_codec(dir / "vae.safetensors"); }),
              ::testing::HasSubstr("needs a vocoder"));
  HifiganGenerator g80(HifiganConfig::tiny());
  save_vocoder(dir / "v80.safetensors", g80, {HifiganConfig::tiny(), MelConfig::hifigan_22k()});
  EXPECT_THROW(codec_from_parts(dir / "vae.safetensors", dir / "v80.safetensors", true),
               ConfigError);
}

// A mel codec decoded by Griffin-Lim: no vocoder weights in the file, the same audio back.
TEST(CodecFiles, GriffinLimMelCodecRoundTrips) {
  test::TempDir dir;
  torch::manual_seed(5);
  MelVAE vae = save_tiny_mel_vae(dir / "vae.safetensors");

  Codec codec = codec_from_parts(dir / "vae.safetensors", kGriffinLimVocoder, true);
  auto* mel = dynamic_cast<MelVAECodecImpl*>(codec.get());
  ASSERT_NE(mel, nullptr);
  EXPECT_EQ(mel->vocoder_kind(), "griffin_lim");
  EXPECT_THROW(mel->vocoder(), ConfigError);
  codec->set_latent_stats(torch::zeros({32}), torch::ones({32}), 10);
  save_codec(dir / "codec.safetensors", *codec, 3);
  Codec loaded = load_codec(dir / "codec.safetensors");
  auto* loaded_mel = dynamic_cast<MelVAECodecImpl*>(loaded.get());
  ASSERT_NE(loaded_mel, nullptr);
  EXPECT_EQ(loaded_mel->vocoder_kind(), "griffin_lim");
  EXPECT_EQ(loaded->latent_stats_frames(), 10);
  // Only the mel VAE's tensors are stored.
  for (const auto& [name, tensor] : load_safetensors(dir / "codec.safetensors").tensors)
    EXPECT_EQ(name.rfind("vocoder.", 0), std::string::npos) << name;
  torch::NoGradGuard no_grad;
  const at::Tensor z = codec->encode(tones(1, 8192).unsqueeze(0));
  const at::Tensor a = loaded->decode(z);
  EXPECT_EQ(a.sizes(), (at::IntArrayRef{1, 1, 8192}));
  EXPECT_TRUE(torch::equal(a, codec->decode(z)));  // seeded phases: the same audio each time
  EXPECT_TRUE(
      torch::equal(a.squeeze(1), griffin_lim_from_log_mel(vae->decode(z), vae->config().mel, {})));
}

TEST(CodecFiles, VocoderFilesAndRunFolders) {
  test::TempDir dir;
  torch::manual_seed(3);
  HifiganGenerator g(HifiganConfig::tiny());
  const VocoderConfig vc{HifiganConfig::tiny(), MelConfig::hifigan_22k()};
  // A run folder: checkpoints/step-5/model.safetensors, found through `latest`.
  CheckpointManager manager(dir / "run" / "checkpoints");
  manager.save(
      5, [&](const std::filesystem::path& d) { save_vocoder(d / "model.safetensors", g, vc, 5); });
  EXPECT_EQ(resolve_model_file(dir / "run"), dir / "run/checkpoints/step-5/model.safetensors");
  Vocoder v = load_vocoder(resolve_model_file(dir / "run"));
  torch::NoGradGuard no_grad;
  const at::Tensor mel = torch::randn({1, 80, 12});
  EXPECT_TRUE(torch::equal(v.generator(mel), g(mel)));
  EXPECT_THROW(resolve_model_file(dir / "nothing"), IoError);
  EXPECT_THROW(load_vocoder(dir / "run/checkpoints/step-5/trainer.json"), Error);
  // A vocoder that does not match its mel recipe is refused.
  EXPECT_THROW(
      save_vocoder(dir / "bad.safetensors", g, {HifiganConfig::tiny(), MelConfig::mudit_24k()}),
      ConfigError);
}

// --- encode / decode / vocode files ---------------------------------------------------------

TEST(CodecPipeline, EncodeDecodeFilesKeepTheLengthAndRefuseStrangers) {
  test::TempDir dir;
  torch::manual_seed(4);
  WaveVAECodec codec(WaveVAEConfig::tiny());
  codec->set_latent_stats(torch::full({32}, 0.1), torch::full({32}, 0.5), 10);
  audio::write_audio(dir / "in.wav", tones(2, 30000), 24000);
  const auto r =
      pipeline::encode_file(*codec, dir / "in.wav", dir / "z.safetensors", {1.0, 0.25}, true);
  EXPECT_EQ(r.samples, 30000);
  EXPECT_EQ(r.frames, 15);  // ceil(30000 / 2048)
  const TensorFile f = load_safetensors(dir / "z.safetensors");
  EXPECT_EQ(f.tensors.at("latents").sizes(), (at::IntArrayRef{15, 32}));
  EXPECT_EQ(f.metadata.at("normalized"), "true");
  // The stored latents are the normalised chunked encoding.
  const at::Tensor raw = encode_chunked(*codec, tones(2, 30000), {1.0, 0.25});
  EXPECT_TRUE(torch::allclose(f.tensors.at("latents"), codec->normalize(raw), 1e-4, 1e-4));

  EXPECT_EQ(pipeline::decode_file(*codec, dir / "z.safetensors", dir / "out.wav", {1.0, 0.25}),
            30000);
  const audio::AudioInfo info = audio::probe_audio(dir / "out.wav");
  EXPECT_EQ(info.frames, 30000);
  EXPECT_EQ(info.channels, 2);

  // Latents of another codec: one clear error, no output file.
  HifiganConfig voc = tiny_160();
  MelVAECodec other(MelVAEConfig::tiny(), voc);
  EXPECT_THAT(test::error_of([&] {
                pipeline::decode_file(*other, dir / "z.safetensors", dir / "never.wav", {});
              }),
              ::testing::HasSubstr("was made by a wave_vae codec"));
  EXPECT_FALSE(std::filesystem::exists(dir / "never.wav"));
  // Normalising needs statistics.
  WaveVAECodec bare(WaveVAEConfig::tiny());
  EXPECT_THROW(pipeline::encode_file(*bare, dir / "in.wav", dir / "z2.safetensors", {}, true),
               ConfigError);
  EXPECT_FALSE(std::filesystem::exists(dir / "z2.safetensors"));
  EXPECT_THROW(pipeline::encode_file(*codec, dir / "missing.wav", dir / "z3.safetensors", {}, true),
               IoError);
}

TEST(CodecPipeline, ChunkedVocodingMatchesTheWholeMel) {
  torch::manual_seed(5);
  HifiganGenerator g(HifiganConfig::tiny());
  g->eval();
  const at::Tensor mel = torch::randn({80, 200}) * 0.5 - 4;
  at::Tensor whole;
  {
    torch::NoGradGuard no_grad;
    whole = g(mel.unsqueeze(0)).squeeze(0);  // [1, 200 * 256]
  }
  // 22050 / 256 = 86 frames/s: 60-frame windows sharing 20 frames.
  const double fps = 22050.0 / 256.0;
  const at::Tensor y = pipeline::vocode_chunked(g, mel, {60 / fps, 20 / fps}, 22050);
  EXPECT_EQ(y.sizes(), whole.sizes());
  EXPECT_LT((y - whole).pow(2).mean().item<double>(), 1e-3 * whole.pow(2).mean().item<double>());
}

// --- latent statistics ----------------------------------------------------------------------

TEST(LatentStats, MatchTheLatentsAndCountUnreadableSongs) {
  test::TempDir dir;
  torch::manual_seed(6);
  WaveVAECodec codec(WaveVAEConfig::tiny());
  audio::write_audio(dir / "a.wav", tones(2, 40960), 24000);
  audio::write_audio(dir / "b.wav", tones(1, 20480) * 0.5, 24000);
  std::vector<data::ManifestEntry> songs(3);
  songs[0].id = "a";
  songs[0].audio = "a.wav";
  songs[1].id = "b";
  songs[1].audio = "b.wav";
  songs[2].id = "gone";
  songs[2].audio = "gone.wav";
  for (auto& s : songs) s.split = "train";
  data::write_manifest(dir / "m.jsonl", songs);
  const auto r = compute_latent_stats(*codec, dir / "m.jsonl", "train", 0, {60, 3});
  EXPECT_EQ(r.songs, 2);
  EXPECT_EQ(r.skipped, 1);
  EXPECT_EQ(r.frames, 30);
  ASSERT_TRUE(codec->has_latent_stats());
  torch::NoGradGuard no_grad;
  const at::Tensor za = codec->encode(audio::read_audio(dir / "a.wav").samples.unsqueeze(0))[0];
  const at::Tensor zb =
      codec->encode(audio::read_audio(dir / "b.wav").samples.unsqueeze(0).expand({1, 2, 20480}))[0];
  const at::Tensor z = at::cat({za, zb});  // [30, 32]
  const auto sd = state_dict(*codec);
  EXPECT_TRUE(torch::allclose(sd.at("latent_mean"), z.mean(0), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(sd.at("latent_std"), z.std(0), 1e-3, 1e-4));
  EXPECT_THROW(compute_latent_stats(*codec, dir / "m.jsonl", "valid", 0, {}), DataError);
}

// --- HiFi-GAN conversion --------------------------------------------------------------------

const char* kOfficialV1Json = R"({
  "resblock": "1", "num_gpus": 0, "batch_size": 16, "learning_rate": 0.0002,
  "adam_b1": 0.8, "adam_b2": 0.99, "lr_decay": 0.999, "seed": 1234,
  "upsample_rates": [8,8,2,2], "upsample_kernel_sizes": [16,16,4,4],
  "upsample_initial_channel": 512, "resblock_kernel_sizes": [3,7,11],
  "resblock_dilation_sizes": [[1,3,5], [1,3,5], [1,3,5]],
  "segment_size": 8192, "num_mels": 80, "num_freq": 1025, "n_fft": 1024, "hop_size": 256,
  "win_size": 1024, "sampling_rate": 22050, "fmin": 0, "fmax": 8000, "fmax_for_loss": null,
  "num_workers": 4, "dist_config": {"dist_backend": "nccl", "dist_url": "tcp://localhost:54321",
  "world_size": 1}
})";

int run_export(const std::string& mode, const std::filesystem::path& in,
               const std::filesystem::path& out) {
  const std::string python = MUDIT_TEST_PYTHON;
  if (python.empty()) return 77;
  const std::string script = std::string(MUDIT_TEST_DATA_DIR) + "/../integration/hifigan_export.py";
  const std::string cmd =
      "'" + python + "' '" + script + "' " + mode + " '" + in.string() + "' '" + out.string() + "'";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(HifiganConvert, OfficialConfigJson) {
  test::TempDir dir;
  const VocoderConfig c =
      vocoder_config_from_hifigan_json(dir.write("config.json", kOfficialV1Json));
  EXPECT_EQ(dump_config(c.generator), dump_config(HifiganConfig::v1()));
  EXPECT_EQ(dump_config(c.mel), dump_config(MelConfig::hifigan_22k()));
  EXPECT_THROW(vocoder_config_from_hifigan_json(dir.write("bad.json", "{\"resblock\": 1}")),
               DataError);
}

TEST(HifiganConvert, SafetensorsExportAndTorchArchivesLoadStrictly) {
  test::TempDir dir;
  torch::manual_seed(7);
  HifiganGenerator g(HifiganConfig::tiny());
  // The one-line Python export of a whole checkpoint dict keeps "generator." in the names.
  std::map<std::string, at::Tensor> prefixed;
  for (const auto& [k, t] : state_dict(*g)) prefixed["generator." + k] = t;
  save_safetensors(dir / "g.safetensors", prefixed);
  const VocoderConfig vc{HifiganConfig::tiny(), MelConfig::hifigan_22k()};
  const auto r = convert_hifigan(dir / "g.safetensors", vc, dir / "v.safetensors", false);
  EXPECT_EQ(r.format, "safetensors");
  const at::Tensor mel = torch::randn({1, 80, 10});
  {
    Vocoder v = load_vocoder(dir / "v.safetensors");
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(v.generator(mel), g(mel)));
  }
  // Folded weight norm: same output (to rounding), and the file says so.
  convert_hifigan(dir / "g.safetensors", vc, dir / "folded.safetensors", true);
  {
    Vocoder v = load_vocoder(dir / "folded.safetensors");
    EXPECT_EQ(state_dict(*v.generator).count("conv_pre.weight"), 1u);
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::allclose(v.generator(mel), g(mel), 1e-5, 1e-5));
  }
  // A checkpoint of another shape: every problem named, no file written.
  EXPECT_THAT(test::error_of([&] {
                convert_hifigan(dir / "g.safetensors",
                                {HifiganConfig::v2(), MelConfig::hifigan_22k()},
                                dir / "wrong.safetensors", false);
              }),
              ::testing::HasSubstr("mis-shaped"));
  EXPECT_FALSE(std::filesystem::exists(dir / "wrong.safetensors"));

  // torch.save archives: plain dicts load; the OrderedDict of the official training and the
  // legacy format are refused with the export one-liner.
  save_safetensors(dir / "plain.safetensors", state_dict(*g));
  const int rc = run_export("dict", dir / "plain.safetensors", dir / "g_00001000");
  if (rc == 77) GTEST_SKIP() << "Python with torch and safetensors not available";
  ASSERT_EQ(rc, 0);
  const auto z = convert_hifigan(dir / "g_00001000", vc, dir / "from_zip.safetensors", false);
  EXPECT_EQ(z.format, "torch zip");
  {
    Vocoder v = load_vocoder(dir / "from_zip.safetensors");
    torch::NoGradGuard no_grad;
    EXPECT_TRUE(torch::equal(v.generator(mel), g(mel)));
  }
  for (const char* mode : {"zip", "legacy"}) {
    ASSERT_EQ(run_export(mode, dir / "plain.safetensors", dir / "g_official"), 0);
    EXPECT_THAT(test::error_of([&] { read_foreign_checkpoint(dir / "g_official", "generator"); }),
                ::testing::HasSubstr("export it once with python"))
        << mode;
  }
}

}  // namespace
}  // namespace mudit
