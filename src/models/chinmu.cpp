#include "mudit/models/chinmu.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/normalization.h>

#include <cmath>

#include "mudit/core/checkpoint.h"
#include "mudit/core/config.h"
#include "mudit/core/error.h"

namespace mudit {
namespace {

at::Tensor l2_normalize(const at::Tensor& x) {
  return torch::nn::functional::normalize(
      x, torch::nn::functional::NormalizeFuncOptions().p(2).dim(-1).eps(1e-12));
}

}  // namespace

// --- audio tower ----------------------------------------------------------------------------

void AudioTowerConfig::validate() const {
  mel.validate();
  MUDIT_CHECK(window_seconds > 0 && window_samples() >= 4 * mel.hop_length, ConfigError,
              "chinmu audio: window_seconds must hold at least 4 mel frames");
  MUDIT_CHECK(stem_channels > 0, ConfigError, "chinmu audio: stem_channels must be positive");
  layer_config().validate();
  check_choice("audio.pooling", pooling, {"attention", "mean"});
}

int64_t AudioTowerConfig::window_samples() const {
  return static_cast<int64_t>(std::llround(window_seconds * static_cast<double>(mel.sample_rate)));
}

int64_t AudioTowerConfig::window_frames() const {
  const int64_t mel_frames = window_samples() / mel.hop_length + 1;  // centred frames
  return ((mel_frames + 1) / 2 + 1) / 2;                             // two stride-2 convs
}

BertConfig AudioTowerConfig::layer_config() const {
  BertConfig c;
  c.vocab_size = 1;
  c.hidden_size = hidden_size;
  c.num_hidden_layers = num_layers;
  c.num_attention_heads = num_heads;
  c.intermediate_size = intermediate_size;
  c.max_position_embeddings = std::max<int64_t>(1, window_frames());
  c.hidden_dropout_prob = dropout;
  c.attention_probs_dropout_prob = dropout;
  c.layer_norm_eps = 1e-5;
  c.pad_token_id = 0;
  return c;
}

AudioTowerImpl::AudioTowerImpl(AudioTowerConfig config)
    : config_(std::move(config)), mel_(config_.mel) {
  config_.validate();
  const auto& c = config_;
  const BertConfig lc = c.layer_config();
  auto conv = [](int64_t in, int64_t out) {
    return torch::nn::Conv1d(torch::nn::Conv1dOptions(in, out, 3).stride(2).padding(1));
  };
  stem1_ = register_module("stem1", conv(c.mel.n_mels, c.stem_channels));
  stem2_ = register_module("stem2", conv(c.stem_channels, c.hidden_size));
  position_ = register_module("position", torch::nn::Embedding(c.window_frames(), c.hidden_size));
  embed_norm_ = register_module(
      "embed_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(1e-5)));
  auto encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  auto list = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < c.num_layers; ++i) {
    layers_.emplace_back(lc);
    list->push_back(layers_.back());
  }
  if (c.pooling == "attention")
    pool_ = register_module("pool", torch::nn::Linear(c.hidden_size, 1));
  torch::NoGradGuard no_grad;
  position_->weight.normal_(0.0, 0.02);
}

AudioTowerImpl::Output AudioTowerImpl::forward(const at::Tensor& wav,
                                               std::vector<at::Tensor>* layers) {
  MUDIT_CHECK(wav.dim() == 2 && wav.size(1) > 0 && wav.size(1) <= config_.window_samples(),
              ShapeError,
              "chinmu audio tower expects [B, T] with 0 < T <= ", config_.window_samples(),
              " samples, got ", wav.sizes());
  // ln-mel (about -11.5 ... 3) shifted and scaled to roughly unit range.
  const at::Tensor m = (mel_(wav) + 4.0) / 4.0;  // [B, M, N]
  at::Tensor h = at::gelu(stem1_(m));            // [B, C, N / 2]
  h = at::gelu(stem2_(h)).transpose(1, 2);       // [B, F, H]
  const int64_t f = h.size(1);
  h = embed_norm_(h + position_->weight.slice(0, 0, f).unsqueeze(0));
  if (layers) layers->push_back(h);
  for (auto& layer : layers_) {
    h = layer(h, at::Tensor());
    if (layers) layers->push_back(h);
  }
  Output out;
  out.sequence = h;
  if (pool_) {
    const at::Tensor w = at::softmax(pool_(h).squeeze(-1), 1);  // [B, F]
    out.pooled = (h * w.unsqueeze(-1)).sum(1);                  // [B, H]
  } else {
    out.pooled = h.mean(1);
  }
  return out;
}

// --- ChinMu ---------------------------------------------------------------------------------

void ChinMuConfig::validate() const {
  text.validate();
  audio.validate();
  MUDIT_CHECK(embed_dim > 0, ConfigError, "chinmu: embed_dim must be positive");
  MUDIT_CHECK(init_temperature > 0 && max_logit_scale > 1, ConfigError,
              "chinmu: init_temperature must be positive and max_logit_scale above 1");
  MUDIT_CHECK(static_cast<int64_t>(vocab.size()) == text.bert.vocab_size, ConfigError,
              "chinmu: the vocabulary has ", vocab.size(), " tokens, text.bert.vocab_size is ",
              text.bert.vocab_size);
}

ChinMuConfig ChinMuConfig::seed() {
  ChinMuConfig c;
  c.text.bert = BertConfig::base_chinese();
  c.text.tokenizer.max_length = 256;
  return c;
}

ChinMuConfig ChinMuConfig::tiny() {
  ChinMuConfig c;
  c.text.bert = BertConfig::tiny(0);
  c.text.tokenizer.max_length = 96;
  c.text.bert.max_position_embeddings = 96;
  c.audio.window_seconds = 5.0;
  c.audio.stem_channels = 128;
  c.audio.hidden_size = 128;
  c.audio.num_layers = 2;
  c.audio.num_heads = 2;
  c.audio.intermediate_size = 512;
  c.embed_dim = 128;
  return c;
}

ChinMuImpl::ChinMuImpl(ChinMuConfig config) : config_(std::move(config)) {
  config_.validate();
  tokenizer_ = text::WordPieceTokenizer(config_.vocab, config_.text.tokenizer);
  text_ = register_module("text", BertModel(config_.text.bert));
  audio_ = register_module("audio", AudioTower(config_.audio));
  text_proj_ = register_module(
      "text_proj",
      torch::nn::Linear(
          torch::nn::LinearOptions(config_.text.bert.hidden_size, config_.embed_dim).bias(false)));
  audio_proj_ = register_module(
      "audio_proj",
      torch::nn::Linear(
          torch::nn::LinearOptions(config_.audio.hidden_size, config_.embed_dim).bias(false)));
  logit_scale_ =
      register_parameter("logit_scale", at::full({}, std::log(1.0 / config_.init_temperature)));
}

at::Tensor ChinMuImpl::encode_text(const at::Tensor& ids, const at::Tensor& mask) {
  return l2_normalize(text_proj_(pool_bert(text_(ids, mask), mask, config_.text.pooling)));
}

at::Tensor ChinMuImpl::encode_audio(const at::Tensor& wav) {
  return l2_normalize(audio_proj_(audio_(wav).pooled));  // [B, D]
}

at::Tensor ChinMuImpl::audio_sequence(const at::Tensor& wav) {
  return audio_proj_(audio_(wav).sequence);  // [B, F, D]
}

at::Tensor ChinMuImpl::embed_song(const at::Tensor& wav, int64_t batch) {
  return song_embedding(embed_windows(wav, batch));
}

at::Tensor ChinMuImpl::song_embedding(const at::Tensor& window_embeddings) {
  return l2_normalize(window_embeddings.mean(0));  // [D]
}

at::Tensor ChinMuImpl::song_windows(const at::Tensor& wav) const {
  MUDIT_CHECK(wav.dim() == 1 && wav.size(0) > 0, ShapeError, "embed_windows expects [T], got ",
              wav.sizes());
  const int64_t w = config_.audio.window_samples();
  const int64_t t = wav.size(0);
  std::vector<at::Tensor> windows;
  for (int64_t s = 0; s < t; s += w) {
    const int64_t n = std::min(w, t - s);
    if (n < w / 2 && !windows.empty()) break;  // a short tail adds little but noise
    at::Tensor x = wav.slice(0, s, s + n);
    if (n < w) x = at::constant_pad_nd(x, {0, w - n});
    windows.push_back(x);
  }
  return at::stack(windows);  // [K, W]
}

at::Tensor ChinMuImpl::embed_windows(const at::Tensor& wav, int64_t batch) {
  const at::Tensor windows = song_windows(wav);
  std::vector<at::Tensor> parts;
  for (int64_t b = 0; b < windows.size(0); b += batch) {
    parts.push_back(encode_audio(windows.slice(0, b, std::min(windows.size(0), b + batch))));
  }
  return at::cat(parts, 0);  // [K, D]
}

at::Tensor ChinMuImpl::audio_layer_means(const at::Tensor& wav, int64_t batch,
                                         at::Tensor* window_embeddings) {
  const at::Tensor windows = song_windows(wav);
  at::Tensor sum;  // [L + 1, H]
  std::vector<at::Tensor> embeddings;
  for (int64_t b = 0; b < windows.size(0); b += batch) {
    std::vector<at::Tensor> layers;
    const auto out =
        audio_->forward(windows.slice(0, b, std::min(windows.size(0), b + batch)), &layers);
    if (window_embeddings) embeddings.push_back(l2_normalize(audio_proj_(out.pooled)));
    const at::Tensor means = at::stack(layers).mean(2).sum(1);  // [L + 1, B, F, H] -> [L + 1, H]
    sum = sum.defined() ? sum + means : means;
  }
  if (window_embeddings) *window_embeddings = at::cat(embeddings, 0);  // [K, D]
  return sum / static_cast<double>(windows.size(0));
}

at::Tensor ChinMuImpl::embed_texts(const std::vector<std::string>& texts, int64_t batch) {
  std::vector<at::Tensor> parts;
  for (size_t b = 0; b < texts.size(); b += static_cast<size_t>(batch)) {
    const size_t e = std::min(texts.size(), b + static_cast<size_t>(batch));
    const auto [ids, mask] = batch_tensors(
        tokenizer_.encode_batch({texts.begin() + b, texts.begin() + e}), logit_scale_.device());
    parts.push_back(encode_text(ids, mask));
  }
  if (parts.empty()) return at::empty({0, config_.embed_dim}, logit_scale_.options());
  return at::cat(parts, 0);  // [N, D]
}

at::Tensor ChinMuImpl::scale() const {
  return logit_scale_.exp().clamp_max(config_.max_logit_scale);
}

at::Tensor info_nce(const at::Tensor& text, const at::Tensor& audio, const at::Tensor& scale) {
  return info_nce(text, audio, text, audio, scale, 0);
}

at::Tensor info_nce(const at::Tensor& text, const at::Tensor& audio, const at::Tensor& all_text,
                    const at::Tensor& all_audio, const at::Tensor& scale, int64_t offset) {
  MUDIT_CHECK(text.dim() == 2 && text.sizes() == audio.sizes() && all_text.dim() == 2 &&
                  all_text.sizes() == all_audio.sizes() && all_text.size(1) == text.size(1) &&
                  all_text.size(0) > 1,
              ShapeError, "info_nce needs [B, D] pairs and [N, D] candidates with N > 1, got ",
              text.sizes(), ", ", audio.sizes(), ", ", all_text.sizes(), ", ", all_audio.sizes());
  MUDIT_CHECK(offset >= 0 && offset + text.size(0) <= all_text.size(0), ShapeError,
              "info_nce: rows ", offset, "..", offset + text.size(0), " outside ", all_text.size(0),
              " candidates");
  const at::Tensor target =
      at::arange(offset, offset + text.size(0), text.options().dtype(at::kLong));
  const at::Tensor t2a = scale * at::matmul(text, all_audio.t());  // [B, N]
  const at::Tensor a2t = scale * at::matmul(audio, all_text.t());  // [B, N]
  return 0.5 * (at::cross_entropy_loss(t2a, target) + at::cross_entropy_loss(a2t, target));
}

ChinMu load_chinmu(const std::filesystem::path& file, c10::Device device) {
  return with_context("chinmu " + file.string(), [&] {
    const ModelMeta meta = read_model_meta(file);
    MUDIT_CHECK(meta.arch == "chinmu", CheckpointError, file.string(), ": holds a '", meta.arch,
                "' model, not ChinMu");
    ChinMu m(bind_config<ChinMuConfig>(parse_config_text(meta.config, file.string())));
    load_model(file, *m, "chinmu", 1);
    m->to(device);
    m->eval();
    return m;
  });
}

}  // namespace mudit
