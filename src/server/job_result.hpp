#pragma once
// Answering a generation request with its result, in the same response: what the OpenAI and A1111 APIs
// do, where the client never learns a job id.
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <optional>

#include "darkroom/engine/job.hpp"
#include "exchange.hpp"

namespace darkroom::server {

// The job's terminal event (completed, error or cancelled), awaited on the event loop. A client that
// leaves first cannot get the result from anywhere else, so its job is cancelled and this returns nullopt.
// Watching for the departure reads (and discards) what the client sends meanwhile, so the connection
// closes after the answer.
boost::asio::awaitable<std::optional<engine::Event>> await_result(Exchange& exchange,
                                                                  const std::shared_ptr<engine::Job>& job);

// await_result for answers made of the images: the completed event; nullopt when the client left or the
// job ended without images (its failure then answered in the route's dialect).
boost::asio::awaitable<std::optional<engine::Event>> await_images(Exchange& exchange,
                                                                  const std::shared_ptr<engine::Job>& job);

}  // namespace darkroom::server
