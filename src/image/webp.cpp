#include "darkroom/image/webp.hpp"

#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <stdexcept>
#include <string>

#include "checks.hpp"
#include "header.hpp"

namespace darkroom::image {
namespace {

constexpr int kMaxFrameDuration = (1 << 24) - 1;  // ANMF stores durations in 24 bits
constexpr std::size_t kMaxAnimationBytes = std::size_t{1} << 30;

std::string status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "corrupt bitstream";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated: the WebP data ends early";
    case VP8_STATUS_SUSPENDED: return "corrupt or truncated bitstream";
    default: return "decoder status " + std::to_string(static_cast<int>(status));
  }
}

std::string encoding_error_text(WebPEncodingError error) {
  switch (error) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "bad picture dimensions";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "file too big (over 4 GiB)";
    default: return "libwebp encoding error " + std::to_string(static_cast<int>(error));
  }
}

// Quality 100 asks for the pixels back exactly: lossless, and `exact` keeps the colour under transparent
// pixels, which libwebp would otherwise replace with whatever compresses best.
WebPConfig make_config(int quality) {
  WebPConfig config;
  if (!WebPConfigInit(&config)) throw std::runtime_error("libwebp version mismatch");
  if (quality == 100) {
    config.lossless = 1;
    config.exact = 1;
  } else {
    config.quality = static_cast<float>(quality);
  }
  if (!WebPValidateConfig(&config)) throw std::runtime_error("libwebp rejected the encoder configuration");
  return config;
}

struct Picture {
  WebPPicture pic;
  // use_argb: lossless and animation frames need ARGB; lossy stills go straight to YUV.
  Picture(const Image& image, bool use_argb) {
    if (!WebPPictureInit(&pic)) throw std::runtime_error("libwebp version mismatch");
    pic.width = image.width;
    pic.height = image.height;
    pic.use_argb = use_argb ? 1 : 0;
    const int stride = image.width * image.channels;
    const bool imported = image.channels == 4 ? WebPPictureImportRGBA(&pic, image.pixels.data(), stride)
                                              : WebPPictureImportRGB(&pic, image.pixels.data(), stride);
    if (!imported) throw std::runtime_error("libwebp could not import the picture: out of memory");
  }
  ~Picture() { WebPPictureFree(&pic); }
  Picture(const Picture&) = delete;
  Picture& operator=(const Picture&) = delete;
};

struct MemoryWriter {
  WebPMemoryWriter writer;
  MemoryWriter() { WebPMemoryWriterInit(&writer); }
  ~MemoryWriter() { WebPMemoryWriterClear(&writer); }
  MemoryWriter(const MemoryWriter&) = delete;
  MemoryWriter& operator=(const MemoryWriter&) = delete;
};

struct EncoderDeleter {
  void operator()(WebPAnimEncoder* encoder) const { WebPAnimEncoderDelete(encoder); }
};
struct DecoderDeleter {
  void operator()(WebPAnimDecoder* decoder) const { WebPAnimDecoderDelete(decoder); }
};

// The canvas size of any WebP (still or animated) and whether it is animated, from the headers alone.
WebPBitstreamFeatures read_features(std::span<const uint8_t> bytes) {
  const auto fail = [](const std::string& problem) { return std::runtime_error("WebP data: " + problem); };
  if (bytes.size() < 12 || std::string(bytes.begin(), bytes.begin() + 4) != "RIFF" ||
      std::string(bytes.begin() + 8, bytes.begin() + 12) != "WEBP")
    throw fail("not a WebP file (it does not start with a RIFF WEBP header)");
  WebPBitstreamFeatures features;
  const auto status = WebPGetFeatures(bytes.data(), bytes.size(), &features);
  if (status != VP8_STATUS_OK) throw fail(status_text(status));
  return features;
}

}  // namespace

std::vector<uint8_t> encode_webp(const Image& image, int quality) {
  detail::check_quality(quality, "encode_webp");
  detail::check_image(image, "encode_webp", WEBP_MAX_DIMENSION);
  const auto config = make_config(quality);
  Picture picture(image, config.lossless != 0);
  MemoryWriter memory;
  picture.pic.writer = WebPMemoryWrite;
  picture.pic.custom_ptr = &memory.writer;
  if (!WebPEncode(&config, &picture.pic))
    throw std::runtime_error("cannot encode WebP: " + encoding_error_text(picture.pic.error_code));
  return {memory.writer.mem, memory.writer.mem + memory.writer.size};
}

detail::Size detail::webp_size(std::span<const uint8_t> bytes) {
  const auto features = read_features(bytes);
  return {features.width, features.height};
}

Image decode_webp(std::span<const uint8_t> bytes, const DecodeLimits& limits) {
  const auto features = read_features(bytes);
  detail::check_size("WebP data", {features.width, features.height}, limits);
  if (features.has_animation) throw std::runtime_error("WebP data: an animation; decode_webp_animation reads it");
  Image out{features.width, features.height, 3, {}};
  out.pixels.resize(3 * static_cast<std::size_t>(features.width) * features.height);
  WebPDecoderConfig config;
  if (!WebPInitDecoderConfig(&config)) throw std::runtime_error("libwebp version mismatch");
  config.output.colorspace = MODE_RGB;
  config.output.is_external_memory = 1;
  config.output.u.RGBA.rgba = out.pixels.data();
  config.output.u.RGBA.stride = 3 * features.width;
  config.output.u.RGBA.size = out.pixels.size();
  const auto status = WebPDecode(bytes.data(), bytes.size(), &config);
  WebPFreeDecBuffer(&config.output);  // frees nothing of ours; releases what libwebp may hold
  if (status != VP8_STATUS_OK) throw std::runtime_error("WebP data: " + status_text(status));
  return out;
}

// --- animation ---

struct WebpAnimation::State {
  std::unique_ptr<WebPAnimEncoder, EncoderDeleter> encoder;
  WebPConfig config;
  int width;
  int height;
  int timestamp_ms = 0;  // where the next frame starts
  int frames = 0;
};

WebpAnimation::WebpAnimation(int width, int height, int quality) {
  detail::check_quality(quality, "WebpAnimation");
  if (width < 1 || height < 1 || width > WEBP_MAX_DIMENSION || height > WEBP_MAX_DIMENSION)
    throw std::invalid_argument("WebpAnimation: canvas size " + std::to_string(width) + "x" + std::to_string(height) +
                                " is outside 1..16383 per side");
  WebPAnimEncoderOptions options;
  if (!WebPAnimEncoderOptionsInit(&options)) throw std::runtime_error("libwebpmux version mismatch");
  options.anim_params.loop_count = 0;
  state_ = std::make_unique<State>(State{nullptr, make_config(quality), width, height});
  state_->encoder.reset(WebPAnimEncoderNew(width, height, &options));
  if (!state_->encoder) throw std::runtime_error("WebpAnimation: cannot create the encoder: out of memory");
}

WebpAnimation::~WebpAnimation() = default;
WebpAnimation::WebpAnimation(WebpAnimation&&) noexcept = default;
WebpAnimation& WebpAnimation::operator=(WebpAnimation&&) noexcept = default;

void WebpAnimation::add_frame(const Image& frame, int duration_ms) {
  if (!state_ || !state_->encoder)
    throw std::logic_error("WebpAnimation::add_frame: the animation is finished (or moved from)");
  detail::check_image(frame, "WebpAnimation::add_frame", WEBP_MAX_DIMENSION);
  if (frame.width != state_->width || frame.height != state_->height)
    throw std::invalid_argument("WebpAnimation::add_frame: frame size " + std::to_string(frame.width) + "x" +
                                std::to_string(frame.height) + " differs from the canvas size " +
                                std::to_string(state_->width) + "x" + std::to_string(state_->height));
  if (duration_ms < 1 || duration_ms > kMaxFrameDuration)
    throw std::invalid_argument("WebpAnimation::add_frame: duration " + std::to_string(duration_ms) +
                                " ms is outside 1.." + std::to_string(kMaxFrameDuration));
  if (duration_ms > INT32_MAX - state_->timestamp_ms)
    throw std::invalid_argument("WebpAnimation::add_frame: the animation would last longer than 2^31 ms");
  Picture picture(frame, true);
  if (!WebPAnimEncoderAdd(state_->encoder.get(), &picture.pic, state_->timestamp_ms, &state_->config))
    throw std::runtime_error(std::string("WebpAnimation: cannot encode frame ") + std::to_string(state_->frames) +
                             ": " + WebPAnimEncoderGetError(state_->encoder.get()));
  state_->timestamp_ms += duration_ms;
  ++state_->frames;
}

int WebpAnimation::frame_count() const { return state_ ? state_->frames : 0; }

std::vector<uint8_t> WebpAnimation::finish() {
  if (!state_ || !state_->encoder)
    throw std::logic_error("WebpAnimation::finish: the animation is finished (or moved from)");
  if (state_->frames == 0) throw std::logic_error("WebpAnimation::finish: no frame was added");
  auto* encoder = state_->encoder.get();
  WebPData data;
  WebPDataInit(&data);
  // A null frame ends the last one at this timestamp.
  const bool ok = WebPAnimEncoderAdd(encoder, nullptr, state_->timestamp_ms, nullptr) &&
                  WebPAnimEncoderAssemble(encoder, &data);
  if (!ok) throw std::runtime_error(std::string("WebpAnimation: cannot assemble: ") + WebPAnimEncoderGetError(encoder));
  std::vector<uint8_t> out(data.bytes, data.bytes + data.size);
  WebPDataClear(&data);
  state_->encoder.reset();
  return out;
}

WebpAnimationData decode_webp_animation(std::span<const uint8_t> bytes) {
  const auto fail = [](const std::string& problem) { return std::runtime_error("WebP data: " + problem); };
  detail::check_size("WebP data", detail::webp_size(bytes), {});
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) throw std::runtime_error("libwebpdemux version mismatch");
  options.color_mode = MODE_RGBA;  // the only layouts WebPAnimDecoder writes have alpha
  const WebPData data{bytes.data(), bytes.size()};
  std::unique_ptr<WebPAnimDecoder, DecoderDeleter> decoder(WebPAnimDecoderNew(&data, &options));
  if (!decoder) throw fail("damaged or truncated animation");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder.get(), &info)) throw fail("damaged animation");
  const std::size_t frame_bytes = 3 * std::size_t{info.canvas_width} * info.canvas_height;
  if (frame_bytes == 0) throw fail("empty canvas");
  if (info.frame_count > kMaxAnimationBytes / frame_bytes)
    throw fail(std::to_string(info.frame_count) + " frames of " + std::to_string(info.canvas_width) + "x" +
               std::to_string(info.canvas_height) + " exceed the limit of 1 GiB of decoded frames");

  WebpAnimationData out{static_cast<int>(info.canvas_width), static_cast<int>(info.canvas_height),
                        static_cast<int>(info.loop_count), {}};
  int previous_ms = 0;
  while (WebPAnimDecoderHasMoreFrames(decoder.get())) {
    uint8_t* rgba = nullptr;
    int timestamp_ms = 0;  // when this frame ends
    if (!WebPAnimDecoderGetNext(decoder.get(), &rgba, &timestamp_ms))
      throw fail("frame " + std::to_string(out.frames.size()) + " is damaged or truncated");
    Image image{out.width, out.height, 3, std::vector<uint8_t>(frame_bytes)};
    for (std::size_t p = 0; p < frame_bytes / 3; ++p)
      for (int c = 0; c < 3; ++c) image.pixels[3 * p + c] = rgba[4 * p + c];
    out.frames.push_back({std::move(image), timestamp_ms - previous_ms});
    previous_ms = timestamp_ms;
  }
  return out;
}

}  // namespace darkroom::image
