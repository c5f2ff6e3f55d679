// HttpServer's listen backlog: a burst of connections completes its TCP handshakes even while no thread
// accepts (with cpp-httplib's backlog of 5 the kernel dropped all but the first few, and under load some
// clients of `rwkv serve` got no reply).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "server/http_server.h"

namespace rwkv::server {
namespace {

// Starts a non-blocking connect to 127.0.0.1:port; -1 on failure.
int start_connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// How many of the sockets finish their handshake within `wait`.
int established(const std::vector<int>& fds, std::chrono::milliseconds wait) {
  const auto deadline = std::chrono::steady_clock::now() + wait;
  std::vector<bool> done(fds.size(), false);
  int n = 0;
  while (n < static_cast<int>(fds.size()) && std::chrono::steady_clock::now() < deadline) {
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (done[i]) continue;
      pollfd p{fds[i], POLLOUT, 0};
      if (::poll(&p, 1, 0) == 1 && (p.revents & POLLOUT)) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
        if (err == 0) done[i] = true, ++n;
      }
    }
    ::usleep(1000);
  }
  return n;
}

TEST(HttpServer, ABurstOfConnectionsIsQueuedWhileNoneIsAccepted) {
  HttpServer http;
  const int port = http.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  ASSERT_TRUE(http.widen_listen_backlog());
  constexpr int kClients = 48;
  std::vector<int> fds;
  for (int i = 0; i < kClients; ++i) {
    const int fd = start_connect(port);
    ASSERT_GE(fd, 0) << "connect " << i;
    fds.push_back(fd);
  }
  // Nothing accepts (listen_after_bind is not running): only the backlog holds these connections.
  EXPECT_EQ(established(fds, std::chrono::milliseconds(500)), kClients);
  for (int fd : fds) ::close(fd);
}

}  // namespace
}  // namespace rwkv::server
