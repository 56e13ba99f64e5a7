// `darkroom generate` with previews: files in --preview-dir as the throttle says, an animated WebP whose
// last frame is the final image, and Ctrl-C cancelling a running generation cleanly.
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "darkroom/image/png.hpp"
#include "darkroom/image/webp.hpp"
#include "cli_runner.hpp"
#include "support/golden.hpp"

extern char** environ;

namespace darkroom::cli {
namespace {
namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
  const auto dir = fs::temp_directory_path() / ("darkroom-preview-cli-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

std::vector<std::string> tiny_model_args() {
  return {DARKROOM_BINARY, "generate", "--model", golden::checkpoint("sd1_tiny").string(),
          "--vocab", golden::path("clip/bpe_simple_vocab_16e6.txt.gz").string(), "--prompt", "a red apple",
          "--seed", "42", "--threads", "2"};
}

// Runs the binary with stderr+stdout on a pipe; `on_line` sees each output line as it arrives.
int run(std::vector<std::string> args, const std::function<void(pid_t, const std::string&)>& on_line = {}) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  if (rc != 0) return -1;
  std::string buffer;
  char chunk[4096];
  for (ssize_t n; (n = ::read(fds[0], chunk, sizeof chunk)) > 0;) {
    buffer.append(chunk, n);
    for (std::size_t nl; (nl = buffer.find('\n')) != std::string::npos; buffer.erase(0, nl + 1))
      if (on_line) on_line(pid, buffer.substr(0, nl));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(PreviewCli, WritesThrottledPreviewsAndAnAnimationEndingOnTheImage) {
  const auto dir = fresh_dir("anim");
  auto args = tiny_model_args();
  for (const char* a : {"--width", "64", "--height", "64", "--steps", "8", "--preview", "latent2rgb",
                        "--preview-count", "3", "--preview-format", "png", "--preview-quality", "100"})
    args.emplace_back(a);
  args.insert(args.end(), {"--preview-dir", (dir / "frames").string(), "--preview-anim", (dir / "develop.webp").string(),
                           "--out", (dir / "final.png").string()});
  std::string output;
  ASSERT_EQ(run(args, [&](pid_t, const std::string& l) { output += l + "\n"; }), 0) << output;

  // count 3 over 8 steps: steps 3, 6 and 8 (ceil((k+1)*8/3)).
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir / "frames")) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"preview-000-step-003.png", "preview-001-step-006.png",
                                             "preview-002-step-008.png"}));
  const auto preview = image::read_png(dir / "frames" / names.back());
  EXPECT_EQ(preview.width, 8);  // latent2rgb previews are latent-sized

  const auto animation = image::decode_webp_animation(read_bytes(dir / "develop.webp"));
  EXPECT_EQ(animation.width, 64);
  EXPECT_EQ(animation.height, 64);
  // Three previews, then the final image; libwebp folds a frame identical to the one before into a longer
  // showing of it, and the random-weight model's previews saturate, so some may fold.
  ASSERT_GE(animation.frames.size(), 2u);
  ASSERT_LE(animation.frames.size(), 4u);
  EXPECT_GE(animation.frames.back().duration_ms, 1500);
  const auto final_image = image::read_png(dir / "final.png");
  EXPECT_EQ(animation.frames.back().image.pixels, final_image.pixels) << "quality 100 is lossless";
}

TEST(PreviewCli, CtrlCCancelsTheRunningGeneration) {
  const auto dir = fresh_dir("interrupt");
  auto args = tiny_model_args();
  // Enough steps that the run lasts seconds, so the interrupt lands mid-denoising.
  for (const char* a : {"--width", "128", "--height", "128", "--steps", "200"}) args.emplace_back(a);
  args.insert(args.end(), {"--out", (dir / "never.png").string()});
  bool sent = false;
  std::string output;
  const int code = run(args, [&](pid_t pid, const std::string& line) {
    output += line + "\n";
    if (!sent && line.rfind("step 2/", 0) == 0) {
      ::kill(pid, SIGINT);
      sent = true;
    }
  });
  ASSERT_TRUE(sent) << output;
  EXPECT_EQ(code, 130) << output;
  EXPECT_NE(output.find("cancelled"), std::string::npos) << output;
  EXPECT_EQ(output.find("step 200/200"), std::string::npos) << "the run went on to the end";
  EXPECT_EQ(output.find("decoding"), std::string::npos) << "a cancelled run decodes nothing";
  EXPECT_FALSE(fs::exists(dir / "never.png"));
}

}  // namespace
}  // namespace darkroom::cli
