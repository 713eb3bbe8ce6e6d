// What one HTTP request may cost the server: configuration, so a plain struct that
// pulls in no transport; the HTTP server takes it as http::Limits.
#pragma once

#include <chrono>
#include <cstdint>

namespace esp::config {

struct HttpLimits {
  std::uint64_t max_body_bytes = 64ULL << 20;
  std::uint32_t max_header_bytes = 16U << 10;
  std::chrono::milliseconds read_timeout{30'000};
  std::chrono::milliseconds idle_timeout{75'000};
  // Open connections at most; past it the server stops accepting until one closes, so
  // the kernel's backlog holds new clients instead of espd running out of descriptors.
  std::uint32_t max_connections = 10'000;
};

}  // namespace esp::config

namespace esp::http {
using Limits = config::HttpLimits;
}  // namespace esp::http
