package clickhouse

// SelectSendsUnknownPacket makes Select's connections send each query as a packet no server
// knows, until the returned function is called: for tests of a server that does not
// understand them.
func SelectSendsUnknownPacket() (restore func()) {
	queryPacket = 77
	return func() { queryPacket = clientQuery }
}

// SelectAt points the connections Select opens for c at addr, closing those it keeps.
func SelectAt(c *Conn, addr string) {
	c.sel.mu.Lock()
	defer c.sel.mu.Unlock()
	c.sel.addr = addr
	for _, n := range c.sel.idle {
		n.conn.Close()
	}
	c.sel.idle = nil
}

// SelectOff reports whether c's Select reads through the driver for good.
func SelectOff(c *Conn) bool { return c.sel.off.Load() }
