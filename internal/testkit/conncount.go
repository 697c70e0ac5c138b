package testkit

import (
	"net"
	"sync/atomic"
)

// CountingListener wraps a listener, counting the connections it accepts
// and the Write calls made on them: on plain TCP each Write is one write
// system call, so a test can check how many writes an answer took, or that
// a client reused its connections, without timing anything. Install it as
// an unstarted httptest.Server's Listener before Start.
type CountingListener struct {
	net.Listener
	conns, writes atomic.Int64
}

// Accept implements net.Listener.
func (l *CountingListener) Accept() (net.Conn, error) {
	conn, err := l.Listener.Accept()
	if err == nil {
		l.conns.Add(1)
		conn = &countedConn{Conn: conn, writes: &l.writes}
	}
	return conn, err
}

// Conns is the number of connections accepted so far.
func (l *CountingListener) Conns() int64 { return l.conns.Load() }

// Writes is the number of Write calls made on accepted connections so far.
func (l *CountingListener) Writes() int64 { return l.writes.Load() }

type countedConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countedConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}
