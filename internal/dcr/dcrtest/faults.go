// Package dcrtest provides faithful in-memory implementations of the
// dcr.Store and dcr.AppClients interfaces for tests of the registration
// service and its HTTP and Lambda faces: conditional writes, versions,
// expiry, Cognito's input rules, and failure injection.
package dcrtest

import "sync"

// Op names a method of Store or AppClients, for FailNext and Calls.
type Op string

// Operations that can be failed or counted.
const (
	OpCreate  Op = "Create"
	OpGet     Op = "Get"
	OpUpdate  Op = "Update"
	OpDelete  Op = "Delete"
	OpFind    Op = "FindByMetadataHash"
	OpExpired Op = "Expired"
	OpCount   Op = "Count"
	OpSecret  Op = "Secret"
)

// faults is a per-operation queue of injected errors and a call counter.
type faults struct {
	mu    sync.Mutex
	next  map[Op][]error
	calls map[Op]int
}

// FailNext makes the next call of op return err (calls queue up: failing
// twice needs two FailNext calls).
func (f *faults) FailNext(op Op, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.next == nil {
		f.next = map[Op][]error{}
	}
	f.next[op] = append(f.next[op], err)
}

// Calls returns how many times op was called (including failed calls).
func (f *faults) Calls(op Op) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

// enter counts a call of op and returns its injected error, if any.
func (f *faults) enter(op Op) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[Op]int{}
	}
	f.calls[op]++
	q := f.next[op]
	if len(q) == 0 {
		return nil
	}
	f.next[op] = q[1:]
	return q[0]
}
