// Finding a request's socket by its addresses, and polling it for a closed or reset connection.
#include "server/client_connection.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <array>
#include <cstdlib>
#include <string>

namespace rwkv::server {

namespace {

// The numeric host and the port of a socket address, as cpp-httplib reports them in Request.
bool host_and_port(const sockaddr_storage& addr, socklen_t len, std::string& host, int& port) {
  if (addr.ss_family == AF_INET)
    port = ntohs(reinterpret_cast<const sockaddr_in*>(&addr)->sin_port);
  else if (addr.ss_family == AF_INET6)
    port = ntohs(reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_port);
  else
    return false;
  std::array<char, NI_MAXHOST> buf{};
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, buf.data(), buf.size(), nullptr, 0,
                  NI_NUMERICHOST) != 0)
    return false;
  host = buf.data();
  return true;
}

// Whether `fd` is a TCP socket connected from (local_host, local_port) to (peer_host, peer_port).
bool is_connection(int fd, const httplib::Request& req) {
  sockaddr_storage peer{}, local{};
  socklen_t peer_len = sizeof peer, local_len = sizeof local;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) return false;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) return false;
  std::string host;
  int port = -1;
  if (!host_and_port(peer, peer_len, host, port) || port != req.remote_port || host != req.remote_addr)
    return false;
  return host_and_port(local, local_len, host, port) && port == req.local_port && host == req.local_addr;
}

}  // namespace

ClientConnection::ClientConnection(const httplib::Request& req) {
  if (req.remote_port < 0 || req.local_port < 0) return;
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return;
  const int own = dirfd(dir);
  // Two sockets can share the addresses when the client reuses its port (loopback allows it) before the
  // server has closed an old, finished connection, which the client has hung up. So the match that is not
  // hung up is ours; if all are, ours is gone too.
  while (const dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long n = std::strtol(e->d_name, &end, 10);
    const int fd = static_cast<int>(n);
    if (end == e->d_name || *end != '\0' || fd == own || !is_connection(fd, req)) continue;
    fd_ = fd;
    if (!gone()) break;
  }
  closedir(dir);
}

bool ClientConnection::gone() const {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

}  // namespace rwkv::server
