#include "darkroom/server/ws_message.hpp"

#include <gtest/gtest.h>

#include "wire_test_util.hpp"

namespace darkroom::server {
namespace {

using nlohmann::json;
using testing::error_field;
using Type = WsMessage::Type;

// The message of the RequestError that parsing `text` throws; "<no error>" if it parses.
std::string error_message(const std::string& text) {
  try {
    parse_ws_message(text);
  } catch (const RequestError& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(WsMessage, ReadsSubmit) {
  const auto m = parse_ws_message(R"({"type": "submit", "request": {"prompt": "a cat", "steps": 4}, "request_id": "r1"})");
  EXPECT_EQ(m.type, Type::submit);
  EXPECT_EQ(m.request, json({{"prompt", "a cat"}, {"steps", 4}}));
  EXPECT_EQ(m.request_id, "r1");
}

TEST(WsMessage, ReadsSubscribeWithAndWithoutACursor) {
  const auto m = parse_ws_message(R"({"type": "subscribe", "job_id": "abc", "after": 17})");
  EXPECT_EQ(m.type, Type::subscribe);
  EXPECT_EQ(m.job_id, "abc");
  EXPECT_EQ(m.after, 17u);
  EXPECT_TRUE(m.request_id.is_null());
  EXPECT_EQ(parse_ws_message(R"({"type": "subscribe", "job_id": "abc"})").after, 0u);
  EXPECT_EQ(parse_ws_message(R"({"type": "subscribe", "job_id": "abc", "after": null})").after, 0u);
  EXPECT_EQ(parse_ws_message(R"({"type": "subscribe", "job_id": "abc", "after": -0})").after, 0u);
  EXPECT_EQ(parse_ws_message(R"({"type": "subscribe", "job_id": "abc", "after": 18446744073709551615})").after,
            UINT64_MAX);
}

TEST(WsMessage, ReadsUnsubscribeAndCancel) {
  const auto unsubscribe = parse_ws_message(R"({"type": "unsubscribe", "job_id": "abc"})");
  EXPECT_EQ(unsubscribe.type, Type::unsubscribe);
  EXPECT_EQ(unsubscribe.job_id, "abc");
  const auto cancel = parse_ws_message(R"({"type": "cancel", "job_id": "def", "request_id": 3})");
  EXPECT_EQ(cancel.type, Type::cancel);
  EXPECT_EQ(cancel.job_id, "def");
  EXPECT_EQ(cancel.request_id, 3);
}

TEST(WsMessage, ReadsFeatureFlagsAndIgnoresFlagsItDoesNotKnow) {
  const auto on = parse_ws_message(
      R"({"type": "feature_flags", "data": {"supports_preview_metadata": true, "max_upload_size": 1024}})");
  EXPECT_EQ(on.type, Type::feature_flags);
  EXPECT_TRUE(on.preview_metadata);
  EXPECT_FALSE(parse_ws_message(R"({"type": "feature_flags", "data": {"supports_preview_metadata": false}})")
                   .preview_metadata);
  EXPECT_FALSE(parse_ws_message(R"({"type": "feature_flags", "data": {}})").preview_metadata);
  EXPECT_FALSE(parse_ws_message(R"({"type": "feature_flags"})").preview_metadata);
  EXPECT_FALSE(parse_ws_message(R"({"type": "feature_flags", "data": null})").preview_metadata);
}

TEST(WsMessage, RequestIdIsAStringOrANumber) {
  EXPECT_EQ(parse_ws_message(R"({"type": "cancel", "job_id": "a", "request_id": "x"})").request_id, "x");
  EXPECT_EQ(parse_ws_message(R"({"type": "cancel", "job_id": "a", "request_id": -7})").request_id, -7);
  EXPECT_EQ(parse_ws_message(R"({"type": "cancel", "job_id": "a", "request_id": 2.5})").request_id, 2.5);
  EXPECT_TRUE(parse_ws_message(R"({"type": "cancel", "job_id": "a", "request_id": null})").request_id.is_null());
  for (const char* id : {"{}", "[1]", "true"})
    EXPECT_EQ(error_field([&] {
                parse_ws_message(std::string(R"({"type": "cancel", "job_id": "a", "request_id": )") + id + "}");
              }),
              "request_id")
        << id;
}

// Every refusal names its field, in plain words: no library exception text reaches the client.
TEST(WsMessage, EveryErrorNamesItsField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"type": "submit"})", "request"},
      {R"({"type": "submit", "request": null})", "request"},
      {R"({"type": "submit", "request": "prompt"})", "request"},
      {R"({"type": "submit", "request": [{}]})", "request"},
      {R"({"type": "subscribe"})", "job_id"},
      {R"({"type": "subscribe", "job_id": 12})", "job_id"},
      {R"({"type": "subscribe", "job_id": "a", "after": -1})", "after"},
      {R"({"type": "subscribe", "job_id": "a", "after": 1.5})", "after"},
      {R"({"type": "subscribe", "job_id": "a", "after": 3.0})", "after"},
      {R"({"type": "subscribe", "job_id": "a", "after": "3"})", "after"},
      {R"({"type": "subscribe", "job_id": "a", "after": 1e30})", "after"},
      {R"({"type": "unsubscribe", "job_id": ["a"]})", "job_id"},
      {R"({"type": "cancel"})", "job_id"},
      {R"({"type": "cancel", "job_id": {}})", "job_id"},
      {R"({"type": "feature_flags", "data": true})", "data"},
      {R"({"type": "feature_flags", "data": {"supports_preview_metadata": 1}})", "data.supports_preview_metadata"},
      {R"({"type": "feature_flags", "data": {"supports_preview_metadata": "yes"}})", "data.supports_preview_metadata"},
      {R"({"job_id": "a"})", "type"},
      {R"({"type": null})", "type"},
      {R"({"type": 1})", "type"},
      {R"({"type": "prompt"})", "type"},
      {R"({"type": "Submit", "request": {}})", "type"},
      {R"({"type": "submit", "request": {}, "request_id": {"a": 1}})", "request_id"},
      {R"({"type": "subscribe", "job_id": "a", "aftr": 3})", "aftr"},
      {R"({"type": "cancel", "job_id": "a", "after": 3})", "after"},
      {R"({"type": "submit", "request": {}, "job_id": "a"})", "job_id"},
      {R"({"type": "feature_flags", "supports_preview_metadata": true})", "supports_preview_metadata"},
      {R"({"type": "cancel", "job_id": "a")", ""},
      {"", ""},
      {"\"submit\"", ""},
      {"[]", ""},
      {"{\"type\": \"cancel\", \"job_id\": \"\xff\"}", ""},  // invalid UTF-8
  };
  for (const auto& [text, field] : cases) {
    EXPECT_EQ(error_field([&text = text] { parse_ws_message(text); }), field) << text;
    const auto message = error_message(text);
    EXPECT_EQ(message.find("json.exception"), std::string::npos) << text << " -> " << message;
    EXPECT_EQ(message.find("type_error"), std::string::npos) << text << " -> " << message;
  }
}

TEST(WsMessage, ErrorsSayWhatWasExpected) {
  EXPECT_EQ(error_message(R"({"type": 1})"), "type: must be a string, got number");
  EXPECT_EQ(error_message(R"({"type": "prompt"})"),
            "type: unknown message type \"prompt\" (accepted: submit | subscribe | unsubscribe | cancel | "
            "feature_flags)");
  EXPECT_EQ(error_message(R"({"type": "subscribe", "job_id": "a", "after": -1})"),
            "after: must be an event sequence number (an integer, 0 or more), got -1");
  EXPECT_EQ(error_message(R"({"type": "subscribe", "job_id": "a", "aftr": 3})"),
            "unknown field 'aftr' (did you mean 'after'?) in a subscribe message");
  EXPECT_EQ(error_message(R"({"type": "submit", "request": "x"})"),
            "request: must be the native request body as an object, got string");
}

// The type is checked first: a message of an unknown type has no fields to judge.
TEST(WsMessage, AnUnknownTypeIsReportedBeforeItsFields) {
  EXPECT_EQ(error_field([] { parse_ws_message(R"({"type": "subscrib", "job_id": 3, "extra": 1})"); }), "type");
}

TEST(WsRequestId, EchoesWhatCanStillBeRead) {
  EXPECT_EQ(ws_request_id(R"({"type": "submit", "request": {"stpes": 3}, "request_id": 7})"), 7);
  EXPECT_EQ(ws_request_id(R"({"type": "nope", "request_id": "r9"})"), "r9");
  EXPECT_EQ(ws_request_id(R"({"type": "cancel", "job_id": 5, "request_id": "r2"})"), "r2");
  EXPECT_TRUE(ws_request_id(R"({"type": "cancel", "request_id": {"a": 1}})").is_null());
  EXPECT_TRUE(ws_request_id(R"({"type": "cancel", "request_id": true})").is_null());
  EXPECT_TRUE(ws_request_id(R"({"type": "cancel"})").is_null());
  EXPECT_TRUE(ws_request_id(R"({"request_id": "r1", )").is_null());
  EXPECT_TRUE(ws_request_id("[\"request_id\"]").is_null());
  EXPECT_TRUE(ws_request_id("").is_null());
}

}  // namespace
}  // namespace darkroom::server
