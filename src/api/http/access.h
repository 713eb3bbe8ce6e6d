// Turns every answered request into one access-log line and its metrics.
#pragma once

#include "api/http/server.h"
#include "observability/metrics.h"

namespace esp::http {

class AccessRecorder final : public ExchangeObserver {
 public:
  explicit AccessRecorder(metrics::Registry& registry);

  void on_request_started() override;
  void on_request_abandoned() override;
  void on_exchange(const Exchange& exchange) override;

 private:
  metrics::Family<metrics::Counter>& requests_;
  metrics::Family<metrics::Histogram>& durations_;
  metrics::Gauge& in_flight_;
};

}  // namespace esp::http
