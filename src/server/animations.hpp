#pragma once
// Development animations: a job submitted with "animation": true has its previews kept (a thinned set of
// at most kMaxFrames) and, once it has completed, GET /v1/jobs/{id}/animation is an animated WebP of them
// ending on the final image, built once on a thread of its own (never the event loop's) and then kept
// instead of the frames for as long as the job is.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/thread_pool.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "darkroom/engine/job.hpp"

namespace darkroom::server {

class Animations {
 public:
  static constexpr std::size_t kMaxFrames = 32;  // a few seconds at 150 ms a frame, and bounded memory
  static constexpr int kMaxSide = 512;           // of the canvas: the final image, scaled down to fit

  Animations();
  ~Animations();  // waits for a build in progress

  // Keeps the job's previews from now on (and the one it has, should it already have made one). On the
  // event loop; forgets the jobs the engine has let go (past their TTL).
  void record(const std::shared_ptr<engine::Job>& job);
  bool recorded(const std::string& job_id) const;

  // The animation of a recorded job that has completed (finished with images); built the first time. On
  // the event loop.
  boost::asio::awaitable<std::shared_ptr<const std::vector<uint8_t>>> webp(std::shared_ptr<engine::Job> job);

 private:
  struct Recording;
  std::map<std::string, std::shared_ptr<Recording>> recordings_;
  boost::asio::thread_pool builder_{1};
};

}  // namespace darkroom::server
