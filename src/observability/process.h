// Metrics about this process, read from /proc at scrape time.
#pragma once

#include <cstdint>
#include <string>

namespace esp::metrics {

std::uint64_t resident_memory_bytes();

// Appends process_resident_memory_bytes, process_cpu_seconds_total,
// process_start_time_seconds and process_open_fds.
void append_process_metrics(std::string& out);

}  // namespace esp::metrics
