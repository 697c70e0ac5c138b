// Package dcrmetrics implements dcr.Metrics, the registration service's
// measurements, twice: [Prometheus] for `mcp-dcr serve` (scraped at
// /metrics) and [EMF], CloudWatch Embedded Metric Format log lines, for
// mcp-dcr under AWS Lambda, where nothing can be scraped and CloudWatch
// Logs turns the lines into metrics.
//
// Both expose the same names (labels in Prometheus, dimensions in
// CloudWatch):
//
//   - mcpdcr_requests_total{endpoint,status}
//   - mcpdcr_registrations_total{result,reason}
//   - mcpdcr_rate_limited_total{endpoint}
//   - mcpdcr_cognito_calls_total{op,result} and
//     mcpdcr_cognito_call_duration_seconds{op}
//   - mcpdcr_cimd_fetches_total{result}
//
// Label values are internal/dcr's fixed constants (and HTTP status codes),
// so the number of series is bounded.
package dcrmetrics
