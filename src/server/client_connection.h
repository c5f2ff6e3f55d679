// The connection of a request being handled, to notice when its client has gone away (closed the
// connection, or reset it, e.g. after a client-side timeout) while its work still waits for inference.
// cpp-httplib 0.11 does not hand the socket to handlers, so it is found among the process's open
// descriptors by its local and peer address and port, which identify one open TCP connection (see the
// constructor for the exception). The descriptor stays open (and ours) until the handler returns, so it is
// safe to poll while the handler runs.
#pragma once

#include <httplib.h>

namespace rwkv::server {

class ClientConnection {
 public:
  explicit ClientConnection(const httplib::Request& req);
  bool found() const { return fd_ >= 0; }
  // True once the peer has closed its side or reset the connection. False if the socket was not found.
  bool gone() const;

 private:
  int fd_ = -1;
};

}  // namespace rwkv::server
