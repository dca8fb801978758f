"""The WebSocket gateway: protocol, fan-out, presence and typing."""
