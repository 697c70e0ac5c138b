package dcrtest

import (
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/mcp-gateway/mcp-gateway/internal/dcr"
)

// Metrics is a dcr.Metrics that records every measurement as one line of
// its kind and labels, for tests: "request register 201", "registration
// refused quota", "rate_limited register", "cognito CreateUserPoolClient
// ok", "cimd fetched". Durations are kept apart (Durations), so that the
// lines do not depend on timing. It is safe for concurrent use.
type Metrics struct {
	mu        sync.Mutex
	events    []string
	durations map[string][]time.Duration
}

var _ dcr.Metrics = (*Metrics)(nil)

func (m *Metrics) add(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, fmt.Sprintf(format, args...))
}

// Request records "request <endpoint> <status>".
func (m *Metrics) Request(endpoint string, status int) { m.add("request %s %d", endpoint, status) }

// Registration records "registration <result> <reason>".
func (m *Metrics) Registration(result, reason string) { m.add("registration %s %s", result, reason) }

// RateLimited records "rate_limited <endpoint>".
func (m *Metrics) RateLimited(endpoint string) { m.add("rate_limited %s", endpoint) }

// CognitoCall records "cognito <op> <result>" and d for Durations.
func (m *Metrics) CognitoCall(op, result string, d time.Duration) {
	m.mu.Lock()
	if m.durations == nil {
		m.durations = map[string][]time.Duration{}
	}
	m.durations[op] = append(m.durations[op], d)
	m.mu.Unlock()
	m.add("cognito %s %s", op, result)
}

// CIMDFetch records "cimd <result>".
func (m *Metrics) CIMDFetch(result string) { m.add("cimd %s", result) }

// Events returns the recorded lines in order.
func (m *Metrics) Events() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.events)
}

// Count returns how many recorded lines equal event.
func (m *Metrics) Count(event string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, e := range m.events {
		if e == event {
			n++
		}
	}
	return n
}

// Durations returns the durations of the Cognito calls of op, in order.
func (m *Metrics) Durations(op string) []time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.durations[op])
}
