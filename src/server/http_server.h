// The HTTP server of `rwkv serve`: cpp-httplib's Server with a listen backlog sized for bursts of clients.
#pragma once

#include <sys/socket.h>

#include <httplib.h>

namespace rwkv::server {

class HttpServer : public httplib::Server {
 public:
  // cpp-httplib 0.11 (Debian's shared library) listens with a backlog of 5. A burst of new connections
  // (16 clients at once, under load) overflowed it: the kernel dropped handshakes, and some clients got
  // no reply at all. Calling listen() again on the bound socket sets the system's maximum instead.
  // Call after bind_to_port / bind_to_any_port; false if the socket refused.
  bool widen_listen_backlog() { return ::listen(svr_sock_, SOMAXCONN) == 0; }
};

}  // namespace rwkv::server
