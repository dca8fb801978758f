// The one WebSocket to /api/v1/ws: first-frame auth (the cookie rides on the handshake,
// the CSRF token in the auth frame), requests matched to acks by `ref`, heartbeats,
// and reconnection with backoff. Close codes are those of docs/protocol.md.

const CLOSE = {
  UNAUTHENTICATED: 4001,
  FORBIDDEN_ORIGIN: 4003,
  SLOW_CONSUMER: 4008,
  TOO_MANY_SOCKETS: 4029,
};

export class SocketError extends Error {
  constructor(code, message, frame = {}) {
    super(message || code);
    this.code = code;
    this.frame = frame;
  }
}

export class Socket {
  constructor({ csrf, onEvent, onStatus, onReady, onSessionEnded }) {
    this.csrf = csrf;
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onReady = onReady;
    this.onSessionEnded = onSessionEnded;
    this.status = 'idle'; // idle | connecting | ready | waiting | replaced | offline | ended
    this.ws = null;
    this.ref = 0;
    this.pending = new Map();
    this.attempt = 0;
    this.retryAt = 0;
    this.retryTimer = null;
    this.heartbeat = null;
    this.ready = null;
    this.stopped = false;
    this.onOnline = () => this.retryNow();
    this.onOffline = () => this.goOffline();
    this.onVisible = () => {
      if (document.visibilityState !== 'visible') return;
      if (this.status === 'waiting' || this.status === 'replaced') this.retryNow();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    document.addEventListener('visibilitychange', this.onVisible);
    if (navigator.onLine === false) this.setStatus('offline');
    else this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    document.removeEventListener('visibilitychange', this.onVisible);
    clearTimeout(this.retryTimer);
    this.teardown('signed out');
    this.setStatus('idle');
  }

  setStatus(status) {
    this.status = status;
    this.onStatus(status, this);
  }

  connect() {
    if (this.stopped || this.status === 'ended') return;
    clearTimeout(this.retryTimer);
    this.teardown('reconnecting');
    this.setStatus('connecting');
    const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/api/v1/ws`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.addEventListener('open', () => this.authenticate(ws));
    ws.addEventListener('message', (ev) => this.receive(ws, ev.data));
    ws.addEventListener('close', (ev) => this.closed(ws, ev.code));
  }

  async authenticate(ws) {
    try {
      const result = await this.send(ws, 'auth', { csrf: this.csrf }, 10_000);
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.ready = result;
      this.setStatus('ready');
      this.startHeartbeat((result.heartbeat_seconds || 20) * 1000);
      this.onReady(result);
    } catch {
      if (ws === this.ws) ws.close();
    }
  }

  receive(ws, raw) {
    if (ws !== this.ws) return;
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return;
    }
    if ((frame.op === 'ack' || frame.op === 'error') && this.pending.has(frame.ref)) {
      const { resolve, reject, timer } = this.pending.get(frame.ref);
      this.pending.delete(frame.ref);
      clearTimeout(timer);
      if (frame.op === 'ack') resolve(frame.result || {});
      else reject(new SocketError(frame.code, frame.message, frame));
      return;
    }
    this.onEvent(frame);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.failPending('disconnected');
    clearInterval(this.heartbeat);
    if (this.stopped) return;
    if (code === CLOSE.UNAUTHENTICATED) {
      this.setStatus('ended');
      this.onSessionEnded();
      return;
    }
    if (code === CLOSE.TOO_MANY_SOCKETS) {
      // Closed as this person's oldest socket: reconnecting at once would close the next
      // oldest, and so on round every tab. Only coming back to this tab (or Retry) does.
      this.setStatus('replaced');
      return;
    }
    if (navigator.onLine === false) {
      this.setStatus('offline');
      return;
    }
    // A slow consumer reconnects at once and resumes; anything else backs off, with
    // jitter so a restarted server is not hit by every client in the same instant.
    const base = code === CLOSE.SLOW_CONSUMER ? 0 : Math.min(30_000, 500 * 2 ** this.attempt);
    const delay = base * (0.8 + Math.random() * 0.4);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.setStatus('waiting');
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  goOffline() {
    clearTimeout(this.retryTimer);
    this.teardown('offline');
    this.setStatus('offline');
  }

  retryNow() {
    if (this.stopped || this.status === 'ended') return;
    if (this.status === 'ready' || this.status === 'connecting') return;
    this.attempt = 0;
    this.connect();
  }

  teardown(reason) {
    const ws = this.ws;
    this.ws = null;
    clearInterval(this.heartbeat);
    this.failPending(reason);
    if (ws && ws.readyState <= WebSocket.OPEN) ws.close(1000, reason);
  }

  failPending(reason) {
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new SocketError('disconnected', reason));
    }
    this.pending.clear();
  }

  startHeartbeat(every) {
    clearInterval(this.heartbeat);
    // The server pings too; this catches a connection that died without a close
    // (a sleeping laptop, a dropped mobile network) from our side, within the same
    // window as the server's: a ping every heartbeat, answered within one more.
    this.heartbeat = setInterval(() => {
      const ws = this.ws;
      if (!ws) return;
      this.send(ws, 'ping', {}, every).catch(() => {
        if (ws === this.ws) ws.close(4000, 'heartbeat lost');
      });
    }, every);
  }

  send(ws, op, args, timeout) {
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new SocketError('disconnected', 'not connected'));
        return;
      }
      this.ref += 1;
      const ref = String(this.ref);
      const timer = setTimeout(() => {
        this.pending.delete(ref);
        reject(new SocketError('timeout', `${op} timed out`));
      }, timeout);
      this.pending.set(ref, { resolve, reject, timer });
      ws.send(JSON.stringify({ op, ref, ...args }));
    });
  }

  /** A request on the ready socket; rejects with code "disconnected" when there is none. */
  request(op, args = {}, { timeout = 15_000 } = {}) {
    if (this.status !== 'ready') {
      return Promise.reject(new SocketError('disconnected', 'not connected'));
    }
    return this.send(this.ws, op, args, timeout);
  }
}
