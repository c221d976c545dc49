// Alarms that cannot be missed: a tone (WebAudio, nothing downloaded) and a flashing banner
// that come back every `repeatSeconds` until the condition behind them ends (the console
// stops listing it: a P1 acknowledged) or, for dismissible ones, the operator dismisses them.
//
// The console owns the truth and says, after every change, which alarms should ring now:
//
//   import { Alarm } from "./alarm.js";
//   const alarm = new Alarm({ scope: "desk", repeatSeconds: 30, controls: element, onOpen: (item) => … });
//   alarm.update([{ key: "p1:42", text: () => t(…), dismissible: false, ticketId: 7 }, …]);
//
// - `update(items)` takes the complete list (derived from server data, so that a reload or a
//   new session rings again for what is still open): call it once the console has loaded
//   everything, then after every change. A key seen for the first time rings at once; while
//   any item is left, all of them ring again every `repeatSeconds`.
// - `dismiss(key)` silences a dismissible item; remembered in localStorage per `scope` (only
//   while the key is still listed), so a reload does not bring back what was dismissed.
// - `text` is a function, called again on every "langchange" event: no stale language.
// - `controls` (optional) receives the sound and desktop-notification buttons.
// - `onOpen(item)` (optional) is called when the operator picks an item in the banner.
//
// Where the browser keeps audio suspended until a user gesture, a banner says so and stays
// until a click or key press lets the sound start. Desktop notifications are shown where the
// user allowed them (Notification API).
//
// While a pointer is down the banners keep their place (their change is drawn on release):
// a banner appearing or going between press and release would move the pressed button away
// and swallow the click, and the very first press of a page is what lets the sound start.
//
// Its styles (css/alarm.css) are linked by the module itself.
//
// State on <body>, for people and tests: data-alarm ("ringing" | "quiet"), data-alarm-count,
// data-alarm-keys (space-separated), data-alarm-rings (rings so far: a repeat adds one) and
// data-sound ("on" | "blocked" | "unavailable").

import { announce } from "./shell.js";
import { define, t } from "./i18n.js";

define({
  "alarm.sound.blocked": [
    "浏览器已阻止提示音：点击此处或按任意键开启声音，否则新警情不会响铃",
    "The browser is blocking sound: click here or press any key to turn it on, or new alarms stay silent",
  ],
  "alarm.sound.enable": ["开启声音", "Turn sound on"],
  "alarm.sound.on": ["提示音：开（点击试听）", "Sound: on (click to test)"],
  "alarm.sound.off": ["提示音：关（点击开启）", "Sound: off (click to turn on)"],
  "alarm.sound.unavailable": ["此浏览器无法发声", "This browser cannot play sound"],
  "alarm.notify.ask": ["开启桌面通知", "Allow desktop notifications"],
  "alarm.notify.on": ["桌面通知：开", "Desktop notifications: on"],
  "alarm.dismiss": ["知道了", "Dismiss"],
  "alarm.open": ["查看", "Open"],
  "alarm.more": ["另有 {count} 条警报", "{count} more alarms"],
});

const MIN_REPEAT_SECONDS = 1;
const MAX_SHOWN = 3; // more would push the work itself off the screen
const MAX_HOLD_MS = 1500; // banners wait for a pressed pointer at most this long

function linkStyles() {
  if (document.querySelector("link[data-alarm-css]")) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = new URL("../css/alarm.css", import.meta.url).href;
  link.dataset.alarmCss = "";
  document.head.append(link);
}

export class Alarm {
  constructor({ scope, repeatSeconds = 30, controls = null, onOpen = null }) {
    this.scope = scope;
    this.repeatMs = Math.max(MIN_REPEAT_SECONDS, Number(repeatSeconds) || 30) * 1000;
    this.onOpen = onOpen;
    this.items = new Map(); // key → item, in the order given
    this.rung = new Set(); // keys that have rung at least once
    this.rings = 0;
    this.lastRingAt = 0;
    this.dismissed = this.loadDismissed();
    this.audio = null;
    linkStyles();
    this.buildBanners();
    if (controls) this.buildControls(controls);
    this.startAudio();
    // Banners coming and going push the page up or down. Between a button's press and its
    // release that would move the button away from the pointer and swallow the click (the
    // very first press also lets the sound start, and so hides the sound-blocked banner):
    // while a pointer is down the banners keep their place, and change once it is released.
    this.pressed = false;
    this.deferred = false;
    const release = () => {
      clearTimeout(this.pressTimer);
      this.pressed = false;
      if (this.deferred) this.render();
    };
    document.addEventListener(
      "pointerdown",
      () => {
        this.pressed = true;
        // A release the page never hears of (the pointer left the window) holds nothing up.
        clearTimeout(this.pressTimer);
        this.pressTimer = setTimeout(release, MAX_HOLD_MS);
        this.unlock();
      },
      true,
    );
    // After the click that the release produces has been dispatched.
    const released = () => setTimeout(release, 0);
    document.addEventListener("pointerup", released, true);
    document.addEventListener("pointercancel", released, true);
    window.addEventListener("blur", released);
    document.addEventListener("keydown", () => this.unlock(), true);
    window.addEventListener("langchange", () => this.render());
    this.timer = setInterval(() => this.tick(), 500);
    this.render();
  }

  // ----- what rings -------------------------------------------------------------------------

  /** The complete list of alarm conditions now; see the top of this file. */
  update(list) {
    const next = new Map(list.map((item) => [item.key, item]));
    const fresh = [...next.keys()].filter((key) => !this.rung.has(key) && !this.dismissed.has(key));
    this.items = next;
    for (const key of this.rung) if (!next.has(key)) this.rung.delete(key);
    // Forget dismissals of conditions that ended, so that the list cannot grow for ever.
    let pruned = false;
    for (const key of this.dismissed) {
      if (!next.has(key)) {
        this.dismissed.delete(key);
        pruned = true;
      }
    }
    if (pruned) this.saveDismissed();
    if (fresh.length) this.ring(fresh);
    this.render();
  }

  dismiss(key) {
    const item = this.items.get(key);
    if (!item || !item.dismissible) return;
    this.dismissed.add(key);
    this.saveDismissed();
    this.render();
  }

  active() {
    return [...this.items.values()].filter((item) => !this.dismissed.has(item.key));
  }

  tick() {
    if (this.active().length && performance.now() - this.lastRingAt >= this.repeatMs) this.ring([]);
  }

  ring(freshKeys) {
    const active = this.active();
    if (!active.length) return;
    this.rings += 1;
    this.lastRingAt = performance.now();
    for (const item of active) this.rung.add(item.key);
    this.tone();
    const banner = this.banner;
    banner.classList.remove("alarm-flashing");
    void banner.offsetWidth; // restart the animation
    banner.classList.add("alarm-flashing");
    const first = freshKeys.length ? this.items.get(freshKeys[0]) : active[0];
    // A new alarm is spoken (and shown in the toast line); a repeat rings and flashes only.
    if (freshKeys.length) announce(() => first.text(), { urgent: true });
    this.notify(first, first.text());
    this.render();
  }

  // ----- banners ----------------------------------------------------------------------------

  buildBanners() {
    const anchor = document.querySelector("header.bar");
    this.soundBanner = document.createElement("div");
    this.soundBanner.id = "sound-blocked";
    this.soundBanner.className = "banner sound-blocked";
    this.soundBanner.setAttribute("role", "alert");
    this.soundBanner.hidden = true;
    this.soundText = document.createElement("span");
    this.soundButton = document.createElement("button");
    this.soundButton.type = "button";
    this.soundButton.className = "small-button";
    this.soundButton.addEventListener("click", () => this.unlock());
    // No emoji: office PCs often lack a font for them and would show an empty box.
    this.soundBanner.append("⚠ ", this.soundText, " ", this.soundButton);

    this.banner = document.createElement("div");
    this.banner.id = "alarm";
    this.banner.className = "banner alarm";
    this.banner.setAttribute("role", "alert");
    this.banner.hidden = true;
    this.list = document.createElement("ul");
    this.list.className = "alarm-list";
    this.rows = new Map(); // key → its <li>, kept between renders
    this.more = document.createElement("li");
    this.more.className = "alarm-more";
    this.banner.append(this.list);

    if (anchor) anchor.after(this.soundBanner, this.banner);
    else document.body.prepend(this.soundBanner, this.banner);
  }

  buildControls(container) {
    this.soundToggle = document.createElement("button");
    this.soundToggle.type = "button";
    this.soundToggle.id = "sound";
    this.soundToggle.className = "small-button";
    this.soundToggle.addEventListener("click", () => {
      this.unlock();
      this.tone(); // let the operator hear what an alarm sounds like
    });
    container.append(this.soundToggle);
    if ("Notification" in window && Notification.permission === "default") {
      this.notifyButton = document.createElement("button");
      this.notifyButton.type = "button";
      this.notifyButton.id = "notify";
      this.notifyButton.className = "small-button";
      this.notifyButton.addEventListener("click", async () => {
        try {
          await Notification.requestPermission();
        } catch {
          // refused or unsupported: the banner and the tone remain
        }
        this.render();
      });
      container.append(this.notifyButton);
    }
  }

  render() {
    // The state is always current; what moves the page waits while a pointer is down.
    const sound = this.soundState();
    const active = this.active();
    const body = document.body.dataset;
    body.sound = sound;
    body.alarm = active.length ? "ringing" : "quiet";
    body.alarmCount = String(active.length);
    body.alarmKeys = active.map((item) => item.key).join(" ");
    body.alarmRings = String(this.rings);
    if (this.pressed) {
      this.deferred = true;
      return;
    }
    this.deferred = false;
    this.draw(sound, active);
  }

  draw(sound, active) {
    this.soundBanner.hidden = sound !== "blocked";
    this.soundText.textContent = t("alarm.sound.blocked");
    this.soundButton.textContent = t("alarm.sound.enable");
    if (this.soundToggle) {
      this.soundToggle.textContent = t(
        sound === "on" ? "alarm.sound.on" : sound === "blocked" ? "alarm.sound.off" : "alarm.sound.unavailable",
      );
      this.soundToggle.setAttribute("aria-pressed", sound === "on" ? "true" : "false");
    }
    if (this.notifyButton) {
      const permission = Notification.permission;
      this.notifyButton.hidden = permission === "denied";
      this.notifyButton.disabled = permission === "granted";
      this.notifyButton.textContent = t(permission === "granted" ? "alarm.notify.on" : "alarm.notify.ask");
    }

    this.banner.hidden = active.length === 0;
    if (!active.length) this.banner.classList.remove("alarm-flashing");
    // Rows are kept and only their words updated: a row rebuilt on every ring would swallow
    // the click of an operator pressing its button at that moment.
    const shown = active.slice(0, MAX_SHOWN);
    const rows = [];
    for (const item of shown) {
      let li = this.rows.get(item.key);
      if (!li) {
        li = this.makeRow(item);
        this.rows.set(item.key, li);
      }
      li._item = item;
      const text = `⚠ ${item.text()}`;
      if (li._text.textContent !== text) li._text.textContent = text;
      for (const [button, key] of li._buttons) if (button.textContent !== t(key)) button.textContent = t(key);
      rows.push(li);
    }
    for (const [key, li] of this.rows) if (!rows.includes(li)) this.rows.delete(key);
    if (active.length > shown.length) {
      this.more.textContent = t("alarm.more", { count: active.length - shown.length });
      rows.push(this.more);
    }
    const same = rows.length === this.list.children.length && rows.every((row, i) => this.list.children[i] === row);
    if (!same) this.list.replaceChildren(...rows);
  }

  makeRow(item) {
    const li = document.createElement("li");
    li.dataset.alarmKey = item.key;
    li._text = document.createElement("span");
    li._text.className = "alarm-text";
    li._buttons = [];
    li.append(li._text);
    if (this.onOpen) {
      const open = document.createElement("button");
      open.type = "button";
      open.className = "small-button alarm-open";
      open.addEventListener("click", () => this.onOpen(li._item));
      li._buttons.push([open, "alarm.open"]);
      li.append(" ", open);
    }
    if (item.dismissible) {
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "small-button alarm-dismiss";
      dismiss.addEventListener("click", () => this.dismiss(li._item.key));
      li._buttons.push([dismiss, "alarm.dismiss"]);
      li.append(" ", dismiss);
    }
    return li;
  }

  // ----- sound --------------------------------------------------------------------------------

  startAudio() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      this.audio = new Context();
      this.audio.onstatechange = () => this.render();
    } catch {
      this.audio = null;
    }
  }

  soundState() {
    if (!this.audio) return "unavailable";
    return this.audio.state === "running" ? "on" : "blocked";
  }

  /** Browsers start audio only after a user gesture: every click or key press tries. */
  unlock() {
    if (!this.audio) this.startAudio();
    if (this.audio && this.audio.state !== "running") {
      this.audio.resume().then(
        () => this.render(),
        () => this.render(),
      );
    }
  }

  tone() {
    const audio = this.audio;
    if (!audio || audio.state !== "running") return;
    const now = audio.currentTime;
    // Two alternating pitches three times: unlike any chat or mail sound.
    [880, 660, 880, 660, 880, 660].forEach((frequency, i) => {
      const start = now + i * 0.22;
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.2);
      osc.connect(gain).connect(audio.destination);
      osc.start(start);
      osc.stop(start + 0.21);
    });
  }

  notify(item, message) {
    if (!("Notification" in window) || Notification.permission !== "granted") return;
    try {
      const note = new Notification(message, { tag: item.key, renotify: true, requireInteraction: true });
      note.onclick = () => {
        window.focus();
        if (this.onOpen) this.onOpen(item);
        note.close();
      };
    } catch {
      // some browsers allow notifications only from a service worker: banner and tone remain
    }
  }

  // ----- remembered dismissals ----------------------------------------------------------------

  storageKey() {
    return `dispatch.alarm.dismissed.${this.scope}`;
  }

  loadDismissed() {
    try {
      const saved = JSON.parse(localStorage.getItem(this.storageKey()) || "[]");
      return new Set(Array.isArray(saved) ? saved.filter((key) => typeof key === "string") : []);
    } catch {
      return new Set();
    }
  }

  saveDismissed() {
    try {
      localStorage.setItem(this.storageKey(), JSON.stringify([...this.dismissed]));
    } catch {
      // storage blocked: dismissals last as long as the page
    }
  }
}
