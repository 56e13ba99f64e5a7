#pragma once
// Helpers shared by the wire tests: small real images and "which field did this error name".
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "darkroom/image/image.hpp"
#include "darkroom/server/request_error.hpp"

namespace darkroom::server::testing {

// A smooth gradient (compresses like a picture, so lossy round trips stay close).
inline image::Image gradient(int width, int height) {
  image::Image image{width, height, 3, std::vector<uint8_t>(static_cast<std::size_t>(width) * height * 3)};
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x) {
      uint8_t* p = &image.pixels[(static_cast<std::size_t>(y) * width + x) * 3];
      p[0] = static_cast<uint8_t>(x * 255 / std::max(1, width - 1));
      p[1] = static_cast<uint8_t>(y * 255 / std::max(1, height - 1));
      p[2] = 128;
    }
  return image;
}

// The field a RequestError names, after checking that its message names it too; "<no error>" if none.
inline std::string error_field(const std::function<void()>& call) {
  try {
    call();
  } catch (const RequestError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find(error.field()), std::string::npos) << "message does not name the field: " << what;
    return error.field();
  }
  return "<no error>";
}

}  // namespace darkroom::server::testing
