#include "darkroom/server/server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <csignal>
#include <iostream>
#include <thread>

#include "http_session.hpp"
#include "routes.hpp"
#include "server_state.hpp"

namespace darkroom::server {

namespace asio = boost::asio;
using asio::ip::tcp;

constexpr auto kAcceptBackoff = std::chrono::milliseconds(100);

// One event-loop thread serves every connection: handlers only parse, look up and copy bytes (the
// generation runs on the engine's workers), and one thread keeps every session free of locks.
struct Server::Impl {
  explicit Impl(ServerOptions options) : io(1), acceptor(io) {
    // Members are destroyed in reverse order: the loop (and every session suspended in it) goes before
    // the state the sessions refer to.
    state = std::make_unique<ServerState>(options, io.get_executor());
    const tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    add_native_routes(router);
    add_websocket_routes(router);
    add_openai_routes(router);
    add_a1111_routes(router);
    add_fal_routes(router);
    add_novelai_routes(router);
    add_diffugen_routes(router);
    add_web_routes(router);
  }

  asio::awaitable<void> accept_loop() {
    asio::steady_timer backoff(io);
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!acceptor.is_open()) co_return;
        // Out of file descriptors (or memory) the pending connection stays in the backlog and the next
        // accept fails at once: retrying straight away would spin a core. Keep serving the connections
        // there are and try again shortly, when one of them may have closed.
        backoff.expires_after(kAcceptBackoff);
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      asio::co_spawn(io, serve_connection(*state, router, std::move(socket)), [](std::exception_ptr error) {
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const std::exception& e) {
          std::cerr << "darkroom serve: connection ended by an error: " << e.what() << '\n';
        }
      });
    }
  }

  // On the loop: stop accepting, cancel every job (their streams then send the terminal events), give
  // open streams shutdown_grace to flush, then end the loop.
  void begin_stop() {
    if (state->stopping.exchange(true)) return;
    boost::system::error_code ignored;
    acceptor.close(ignored);
    engine_stopper = std::thread([this] {
      state->engine.shutdown();
      asio::co_spawn(io, drain(), asio::detached);
    });
  }

  asio::awaitable<void> drain() {
    state->run_stop_hooks();
    const auto deadline = std::chrono::steady_clock::now() + state->options.shutdown_grace;
    asio::steady_timer timer(io);
    while (state->metrics.open_streams() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(std::chrono::milliseconds(20));
      co_await timer.async_wait(asio::use_awaitable);
    }
    io.stop();
  }

  std::unique_ptr<ServerState> state;
  asio::io_context io;
  tcp::acceptor acceptor;
  Router router;
  std::thread engine_stopper;
};

Server::Server(ServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Server::~Server() {
  stop();
  if (impl_->engine_stopper.joinable()) impl_->engine_stopper.join();
}

uint16_t Server::port() const { return impl_->acceptor.local_endpoint().port(); }

void Server::run(bool handle_signals, const std::function<void()>& on_ready) {
  auto& impl = *impl_;
  asio::co_spawn(impl.io, impl.accept_loop(), asio::detached);
  std::optional<asio::signal_set> signals;
  if (handle_signals) {
    signals.emplace(impl.io, SIGINT, SIGTERM);
    signals->async_wait([&impl](boost::system::error_code ec, int) {
      if (!ec) impl.begin_stop();
    });
  }
  if (on_ready) asio::post(impl.io, on_ready);
  impl.io.run();
  if (impl.engine_stopper.joinable()) impl.engine_stopper.join();
  impl.state->engine.shutdown();  // stopped by the loop ending some other way: still no job outlives run()
}

void Server::stop() {
  asio::post(impl_->io, [impl = impl_.get()] { impl->begin_stop(); });
}

}  // namespace darkroom::server
