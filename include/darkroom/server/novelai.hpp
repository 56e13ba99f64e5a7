#pragma once
// The NovelAI image dialect (docs/server.md, "NovelAI"; the seed ../shared/seeds/002_*): POST
// /ai/generate-image-stream answers msgpack frames (or SSE) of "intermediate" chunks, one per step of
// every sample, and one "final" chunk per sample; POST /ai/generate-image answers a zip of PNGs.
// NovelAI's samples are darkroom jobs of one image each (seed, seed + 1, ...), run one after another, so
// every sample gets a preview on every step.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "darkroom/engine/job.hpp"
#include "darkroom/server/dialect.hpp"
#include "darkroom/server/request_json.hpp"

namespace darkroom::server {

struct NovelAiRequest {
  engine::JobRequest job;  // sample 0's job (batch 1); sample i has seed + i
  int n_samples = 1;
  StreamFormat stream = StreamFormat::msgpack;
};

// {"input", "model", "action", "parameters": {width, height, steps, scale, sampler (k_euler,
// k_euler_ancestral, k_dpmpp_2m, ddim, ddim_v3), noise_schedule (native, karras), seed, n_samples,
// negative_prompt, v4_prompt / v4_negative_prompt captions (used when input / negative_prompt are absent),
// stream ("msgpack" or "sse"), ...}}. The dozens of other parameters NovelAI's clients send are accepted
// and ignored. model: a darkroom model id; NovelAI's own names (nai-diffusion-*, safe-diffusion,
// furry-diffusion) mean the default model. action: "generate" only (img2img and infill are refused).
// Throws RequestError naming NovelAI's field ("parameters.width", ...).
NovelAiRequest parse_novelai_request(const nlohmann::json& body, const RequestDefaults& defaults);

// validate_job with NovelAI's field names (parameters.*).
void validate_novelai_request(const NovelAiRequest& request, const RequestDefaults& defaults, int latent_scale);

// Sample i's job: seed + i (a random seed stays random per sample).
engine::JobRequest novelai_sample(const NovelAiRequest& request, int samp_ix);

// NovelAI's error body {"statusCode", "message"} with the failure's status.
ErrorReply novelai_error(const Failure& failure);

// One sample's stream: {"event_type": "intermediate", "samp_ix", "step_ix" (0-based), "gen_id" (an
// integer), "sigma", "image" (JPEG)} per preview, {"event_type": "final", ..., "image" (PNG with the
// parameters chunk)} at the end, {"event_type": "error", "message", "code"} for a job that ended without
// an image. msgpack: frames with images as bin and no heartbeats (NovelAI's readers take any frame for a
// chunk); SSE: "event: NAME" and base64 images, ": heartbeat" comments. The request must outlive it.
std::unique_ptr<StreamEncoder> novelai_stream_encoder(StreamFormat format, const engine::JobRequest& request,
                                                      int samp_ix, uint64_t gen_id);

}  // namespace darkroom::server
