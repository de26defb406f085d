// TCP mode (L4): one client connection tunnelled byte for byte to one backend chosen per
// connection, with connect timeout + retries (BackendConnector), half-close and backpressure
// (Pump), and the pool's idle_timeout.
//
// States: [reading_proxy_header →] connecting → tunneling → closed. Thread: the owning worker.
#pragma once
#include <sys/socket.h>

#include <memory>

#include "common/uv.h"
#include "lb/conn/backend_connector.h"
#include "lb/conn/proxy_protocol.h"
#include "lb/conn/pump.h"
#include "lb/conn/session.h"
#include "lb/snapshot.h"
#include "lb/transport/transport.h"

namespace ebb::lb {

class TcpSession final : public Session,
                         public BackendConnector::Owner,
                         public Pump::Owner,
                         public TransportHandler {
 public:
  TcpSession(Worker& worker, std::shared_ptr<const Snapshot> snap, const ListenerSnapshot& listener,
             TransportPtr client);
  ~TcpSession() override;

  void start() override;
  void begin_shutdown() override {}  // a tunnel is in-flight work: it runs until the grace ends
  void abort() override { close(); }
  void on_snapshot(const Snapshot& snap) override;

  enum class State { reading_proxy_header, connecting, tunneling, closed };
  State state() const { return state_; }

  // BackendConnector::Owner
  void on_connected(size_t backend_index, TransportPtr t, bool reused) override;
  void on_connect_failed(bool no_backend) override;
  // Pump::Owner
  void on_pump_done(bool error) override;
  // TransportHandler for the client before the tunnel: the PROXY header, then only failures.
  void on_read(Transport&, const char* data, size_t len) override;
  void on_eof(Transport&) override { close(); }
  void on_error(Transport&, int) override { close(); }
  void on_write_progress(Transport&) override {}

 private:
  void close();
  void on_idle_timer();
  void connect_backend();

  std::shared_ptr<const Snapshot> snap_;
  const ListenerSnapshot& listener_;
  const PoolSnapshot* pool_ = nullptr;
  TransportPtr client_;
  TransportPtr upstream_;
  BackendConnector connector_;
  Pump pump_;
  UvHandle<uv_timer_t> idle_timer_;
  State state_ = State::connecting;
  std::unique_ptr<ProxyProtocolParser> proxy_header_;
  std::string early_data_;  // client bytes after the PROXY header, sent once connected
  size_t backend_ = kNoBackend;
  sockaddr_storage peer_{};
  int64_t start_wall_ms_ = 0;
  uint64_t start_ns_ = 0;  // uv_hrtime at accept (sub-ms durations for metrics / access log)
  double connect_ms_ = -1;
};

}  // namespace ebb::lb
