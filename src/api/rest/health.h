// Liveness, readiness and metrics handlers.
#pragma once

#include "api/http/message.h"
#include "api/rest/routes.h"

namespace esp::rest {

http::Response healthy(const http::Request& request);
http::Response liveness(const Services& services);
http::Response readiness(const Services& services, const http::Request& request);
http::Response prometheus_metrics(const Services& services);

}  // namespace esp::rest
