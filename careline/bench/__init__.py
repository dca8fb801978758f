"""`careline bench`: a real server, real sockets, honest figures (docs/performance.md)."""
