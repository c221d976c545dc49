// The live feed (GET /api/v1/stream, authenticated by the session cookie): reconnects by
// itself, resumes after the last event it processed, and says when it is offline.

import { get } from "./api.js";

const PING_EVERY_MS = 15000;
const PONG_WITHIN_MS = 10000;
const MAX_BACKOFF_MS = 10000;

export class LiveFeed {
  /**
   * onEvents(list): events in order (each has type, cursor, ticket, assignment?).
   * onState("online" | "offline"): connection changes.
   */
  constructor({ query = "", onEvents, onState }) {
    this.query = query;
    this.onEvents = onEvents;
    this.onState = onState || (() => {});
    this.cursor = null;
    this.ws = null;
    this.backoff = 1000;
    this.failures = 0;
    this.stopped = false;
    this.online = null; // unknown until the first connection succeeds or fails
    this.timer = null;
    this.pingTimer = null;
    this.lastMessageAt = 0;
    window.addEventListener("offline", () => this.ws && this.ws.close());
    window.addEventListener("online", () => this.reconnectNow());
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    if (this.ws) this.ws.close(1000);
  }

  url() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const params = new URLSearchParams(this.query);
    if (this.cursor !== null) params.set("cursor", this.cursor);
    const qs = params.toString();
    return `${scheme}://${location.host}/api/v1/stream${qs ? `?${qs}` : ""}`;
  }

  connect() {
    clearTimeout(this.timer);
    let ws;
    try {
      ws = new WebSocket(this.url());
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onmessage = (message) => this.receive(message.data);
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.pingTimer);
      this.setOnline(false);
      if (!this.stopped) this.scheduleReconnect();
    };
  }

  receive(raw) {
    this.lastMessageAt = performance.now();
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    const list = Array.isArray(message) ? message : [message];
    const events = [];
    for (const item of list) {
      if (item.type === "hello") {
        if (this.cursor === null) this.cursor = item.cursor;
        this.backoff = 1000;
        this.failures = 0;
        this.setOnline(true);
        this.startPings();
      } else if (item.cursor !== undefined && item.type !== "reply" && item.type !== "pong") {
        this.cursor = item.cursor;
        events.push(item);
      }
    }
    if (events.length) this.onEvents(events);
  }

  startPings() {
    clearInterval(this.pingTimer);
    this.pingTimer = setInterval(() => {
      const ws = this.ws;
      if (!ws || ws.readyState !== WebSocket.OPEN) return;
      const sentAt = performance.now();
      ws.send(JSON.stringify({ type: "ping" }));
      // A half-open connection (cable pulled, laptop asleep) never closes by itself.
      setTimeout(() => {
        if (this.ws === ws && this.lastMessageAt < sentAt) ws.close();
      }, PONG_WITHIN_MS);
    }, PING_EVERY_MS);
  }

  setOnline(online) {
    if (this.online === online) return;
    this.online = online;
    this.onState(online ? "online" : "offline");
  }

  scheduleReconnect() {
    this.failures += 1;
    if (this.failures % 3 === 0) {
      // Perhaps the session ended: /api/v1/me answers 401 and api() goes to sign-in.
      get("/api/v1/me").catch(() => {});
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), this.backoff);
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
  }

  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    this.backoff = 1000;
    this.connect();
  }
}
