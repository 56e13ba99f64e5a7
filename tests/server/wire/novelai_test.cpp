// The NovelAI dialect's pure half: its request body, its chunks and its zip.
#include "darkroom/server/novelai.hpp"

#include <gtest/gtest.h>

#include <zip.h>

#include "darkroom/preview/preview_image.hpp"
#include "darkroom/server/msgpack_frame.hpp"
#include "darkroom/server/sse.hpp"
#include "darkroom/server/zip_archive.hpp"
#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;

const RequestDefaults kDefaults{"default-model", {}};

TEST(NovelAiRequest, ReadsNovelAisBodyAndMeansItsModelsAsTheDefault) {
  const auto r = parse_novelai_request(json::parse(R"({"input": "a cat", "model": "nai-diffusion-4-5-full",
      "action": "generate", "parameters": {"width": 832, "height": 1216, "steps": 28, "scale": 6, "sampler":
      "k_euler_ancestral", "noise_schedule": "karras", "seed": 7, "n_samples": 2, "negative_prompt": "lowres",
      "stream": "sse", "cfg_rescale": 0, "ucPreset": 0, "qualityToggle": true, "characterPrompts": []}})"),
                                       kDefaults);
  EXPECT_EQ(r.job.model, "default-model");
  EXPECT_EQ(r.job.generation.prompt, "a cat");
  EXPECT_EQ(r.job.generation.width, 832);
  EXPECT_EQ(*r.job.generation.cfg, 6);
  EXPECT_EQ(r.job.generation.sampler, sampling::SamplerKind::euler_a);
  EXPECT_EQ(r.job.generation.scheduler, sampling::SigmaSchedule::karras);
  EXPECT_EQ(r.n_samples, 2);
  EXPECT_EQ(r.stream, StreamFormat::sse);
  EXPECT_EQ(*r.job.generation.negative_prompt, "lowres");
  EXPECT_EQ(r.job.preview.every_n_steps, 1);
  EXPECT_EQ(r.job.preview.format, image::Format::jpeg);
  EXPECT_EQ(novelai_sample(r, 1).generation.seed, 8);

  const auto v4 = parse_novelai_request(json::parse(R"({"parameters": {"v4_prompt": {"caption": {"base_caption": "a fox"}},
      "v4_negative_prompt": {"caption": {"base_caption": "blurry"}}}})"),
                                        kDefaults);
  EXPECT_EQ(v4.job.generation.prompt, "a fox");
  EXPECT_EQ(*v4.job.generation.negative_prompt, "blurry");
  EXPECT_EQ(v4.stream, StreamFormat::msgpack);
}

TEST(NovelAiRequest, ErrorsNameNovelAisFields) {
  const auto field_of = [](const char* body) {
    try {
      validate_novelai_request(parse_novelai_request(json::parse(body), kDefaults), kDefaults, 8);
    } catch (const RequestError& e) {
      return e.field();
    }
    return std::string("none");
  };
  EXPECT_EQ(field_of(R"({"parameters": {}})"), "input");
  EXPECT_EQ(field_of(R"({"input": "x", "action": "infill"})"), "action");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": 3})"), "parameters");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"sampler": "k_dpmpp_sde"}})"), "parameters.sampler");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"noise_schedule": "exponential"}})"), "parameters.noise_schedule");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"n_samples": 9}})"), "parameters.n_samples");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"width": 65}})"), "parameters.width");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"steps": 0}})"), "parameters.steps");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"scale": -1}})"), "parameters.scale");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"stream": "json"}})"), "parameters.stream");
  EXPECT_EQ(field_of(R"({"input": "x", "model": "../x"})"), "model");
  EXPECT_EQ(field_of(R"({"input": "x", "parameters": {"width": 64, "height": 64}})"), "none");
  const auto error = novelai_error({Failure::Kind::invalid_request, "input: required", "input", "", 0});
  EXPECT_EQ(error.status, 400u);
  EXPECT_EQ(error.body, json({{"statusCode", 400}, {"message", "input: required"}}));
}

engine::JobRequest job_request() {
  engine::JobRequest request;
  request.model = "m";
  request.generation.prompt = "a cat";
  request.generation.steps = 4;
  request.preview.format = image::Format::jpeg;
  return request;
}

TEST(NovelAiStream, MsgpackChunksCarryTheSampleAndStep) {
  const auto request = job_request();
  const auto encoder = novelai_stream_encoder(StreamFormat::msgpack, request, 1, 17);
  EXPECT_TRUE(encoder->heartbeat().empty());  // any frame is a chunk to NovelAI's readers
  const engine::Event preview{5, 0.5, engine::Preview{2, 4, 3.5, 1, std::make_shared<const preview::PreviewImage>(testing::gradient(16, 16)), "taesd"}};
  const engine::Event done{9, 1.0, engine::Completed{{std::make_shared<const image::Image>(testing::gradient(16, 16))}, 43, {}}};
  EXPECT_TRUE(encoder->encode({3, 0.1, engine::Progress{1, 4, 5.0, 0.1, 0.3}}).bytes.empty());
  MsgpackFrameReader reader;
  const auto maps = reader.feed(encoder->encode(preview).bytes + encoder->encode(done).bytes +
                                encoder->encode({10, 1.0, engine::Error{"internal", "boom"}}).bytes);
  ASSERT_EQ(maps.size(), 3u);
  EXPECT_EQ(maps[0]["event_type"], "intermediate");
  EXPECT_EQ(maps[0]["samp_ix"], 1);
  EXPECT_EQ(maps[0]["step_ix"], 1);
  EXPECT_EQ(maps[0]["gen_id"], 17);
  EXPECT_EQ(maps[0]["sigma"], 3.5);
  ASSERT_TRUE(maps[0]["image"].is_binary());
  EXPECT_EQ(maps[0]["image"].get_binary()[0], 0xff);  // JPEG
  EXPECT_EQ(maps[1]["event_type"], "final");
  EXPECT_EQ(maps[1]["step_ix"], 3);
  EXPECT_EQ(maps[1]["image"].get_binary()[0], 0x89);  // PNG
  EXPECT_EQ(maps[2]["event_type"], "error");
  EXPECT_EQ(maps[2]["message"], "boom");
}

TEST(NovelAiStream, SseNamesTheChunksAndInlinesBase64) {
  const auto request = job_request();
  const auto encoder = novelai_stream_encoder(StreamFormat::sse, request, 0, 1);
  EXPECT_EQ(encoder->heartbeat(), ": heartbeat\n\n");
  const engine::Event done{9, 1.0, engine::Completed{{std::make_shared<const image::Image>(testing::gradient(8, 8))}, 1, {}}};
  SseParser parser;
  const auto events = parser.feed(encoder->encode(done).bytes);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, "final");
  EXPECT_TRUE(json::parse(events[0].data)["image"].is_string());
}

TEST(ZipArchive, HoldsTheEntriesInOrder) {
  const std::vector<ZipEntry> entries{{"image_0.png", {1, 2, 3}}, {"image_1.png", std::vector<uint8_t>(1000, 7)}};
  const auto bytes = zip_archive(entries);
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  zip_t* archive = zip_open_from_source(source, ZIP_RDONLY, &error);
  ASSERT_TRUE(archive);
  ASSERT_EQ(zip_get_num_entries(archive, 0), 2);
  for (zip_uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(std::string(zip_get_name(archive, i, 0)), entries[i].name);
    zip_stat_t stat;
    zip_stat_index(archive, i, 0, &stat);
    std::vector<uint8_t> read(stat.size);
    zip_file_t* file = zip_fopen_index(archive, i, 0);
    EXPECT_EQ(zip_fread(file, read.data(), stat.size), static_cast<zip_int64_t>(stat.size));
    zip_fclose(file);
    EXPECT_EQ(read, entries[i].bytes);
  }
  zip_close(archive);
  zip_error_fini(&error);
}

}  // namespace
}  // namespace darkroom::server
