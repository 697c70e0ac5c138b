// Package testkit is the one shared test-support kit of this module: golden
// files, a fake clock, a goroutine-safe buffer, condition waiters, a
// goroutine-leak check and a check of CloudWatch EMF lines. It uses only the standard library and is meant to
// be imported from _test.go files (and test-helper packages) only.
//
// The rule it serves: tests must not depend on timing. Inject a Clock where
// the code takes a clock, and wait on events (WaitFor, WaitContains, Recv)
// rather than sleeping a fixed time. Timeouts given to the waiters are
// generous failure bounds (see DefaultTimeout), never expected durations.
//
// Importing testkit registers the -update flag (see Golden); a test package
// that imports it must not define its own "update" flag.
package testkit
