// Every label in Simplified Chinese first and English second; the choice persists in
// localStorage. Static markup names its key in data-i18n (text) or data-i18n-attr
// ("attr:key,attr:key"); scripts call t(key) and re-render on the "langchange" event.

const STORE_KEY = "dispatch.lang";

const T = {
  // shell
  "app.title": ["民生110 调度", "Minsheng 110 dispatch"],
  "nav.intake": ["接警", "Intake"],
  "nav.desk": ["处置台", "Desk"],
  "nav.supervisor": ["督办", "Supervisor"],
  "nav.label": ["控制台", "Consoles"],
  "lang.toggle": ["English", "中文"],
  "lang.toggle.label": ["切换到英文界面", "Switch to Chinese"],
  "signout": ["退出", "Sign out"],
  "signed.in.as": ["当前用户：{name}（{role}）", "Signed in: {name} ({role})"],
  "skip": ["跳到主要内容", "Skip to main content"],
  "role.call_taker": ["接警员", "call-taker"],
  "role.desk": ["处置单位", "desk"],
  "role.supervisor": ["督办员", "supervisor"],
  "role.admin": ["管理员", "administrator"],
  "role.partner": ["合作系统", "partner"],
  "error.generic": ["出错了：{message}", "Something went wrong: {message}"],
  "error.network": ["网络连接失败，请稍后重试", "Network error, please retry"],
  "error.forbidden": ["当前账号无权进行此操作", "This account may not do this"],
  "loading": ["加载中…", "Loading…"],
  "none": ["无", "none"],
  "close": ["关闭", "Close"],
  "cancel": ["取消", "Cancel"],
  "confirm": ["确定", "Confirm"],
  "all": ["全部", "All"],
  "shortcuts": ["快捷键", "Shortcuts"],

  // sign-in
  "signin.title": ["登录控制台", "Sign in to the consoles"],
  "signin.intro": [
    "请输入管理员为您生成的 API 令牌（ms_ 开头）。登录有效期为一个班次（12 小时）。",
    "Enter the API token your administrator gave you (it starts with ms_). A sign-in lasts one shift (12 hours).",
  ],
  "signin.token": ["API 令牌", "API token"],
  "signin.submit": ["登录", "Sign in"],
  "signin.invalid": ["令牌无效、已过期或已吊销", "The token is unknown, expired or revoked"],
  "signin.noconsole": ["该角色没有控制台，请使用 API", "This role has no console; use the API"],
  "signin.choose": ["选择控制台", "Choose a console"],
  "signin.already": ["已登录：{name}", "Signed in as {name}"],
  "console.intake.desc": ["接警员：边接电话边录入诉求", "Call-takers: record requests while on the phone"],
  "console.desk.desc": ["处置单位：实时接收、签收、办结", "Agency desks: receive, acknowledge and resolve live"],
  "console.supervisor.desc": ["督办：实时统计、超时与督办", "Supervisors: live numbers, overdue work, escalations"],
  "console.status.desc": ["群众：凭工单号和查询码查看进度", "Citizens: follow a ticket with its number and token"],

  // ticket vocabulary
  "priority": ["紧急程度", "Priority"],
  "category": ["事项类别", "Category"],
  "agencies": ["处置单位", "Agencies"],
  "agency": ["单位", "Agency"],
  "district": ["区县", "District"],
  "status": ["状态", "Status"],
  "number": ["工单号", "Ticket number"],
  "token": ["查询码", "Tracking token"],
  "created": ["受理时间", "Received"],
  "description": ["诉求内容", "Description"],
  "address": ["地址", "Address"],
  "phone": ["来电号码", "Caller's phone"],
  "caller.name": ["来电人姓名（可不填）", "Caller's name (optional)"],
  "state.dispatched": ["待签收", "to acknowledge"],
  "state.acknowledged": ["已签收", "acknowledged"],
  "state.in_progress": ["处置中", "in progress"],
  "state.resolved": ["已办结", "resolved"],
  "state.returned": ["已退回", "returned"],
  "state.transferred": ["已转派", "transferred"],
  "state.released": ["协办结束", "released"],
  "status.new": ["待分派", "to route"],
  "status.dispatched": ["已派单", "dispatched"],
  "status.acknowledged": ["已签收", "acknowledged"],
  "status.in_progress": ["处置中", "in progress"],
  "status.resolved": ["已办结", "resolved"],
  "status.closed": ["已归档", "closed"],
  "status.merged": ["已合并", "merged"],
  "status.cancelled": ["已撤销", "cancelled"],
  "role.lead": ["主办", "lead"],
  "role.assist": ["协办", "assisting"],

  // intake
  "intake.title": ["接警录入", "Call intake"],
  "intake.form": ["诉求登记", "New request"],
  "intake.auto": ["自动（按建议）", "Automatic (as suggested)"],
  "intake.auto.with": ["自动：{value}", "Auto: {value}"],
  "intake.lead": ["主办单位", "Lead agency"],
  "intake.assist": ["协办单位", "Assisting agencies"],
  "intake.suggestion": ["系统建议", "Suggestion"],
  "intake.suggestion.empty": ["输入诉求内容后显示建议", "Type the description to see a suggestion"],
  "intake.confidence": ["置信度 {value}%", "confidence {value}%"],
  "intake.reasons": ["依据", "Reasons"],
  "intake.overridden": ["已人工修改", "changed by you"],
  "intake.submit": ["提交工单", "Create ticket"],
  "intake.submitting": ["正在提交…", "Submitting…"],
  "intake.reset": ["新来电", "New call"],
  "intake.duplicates": ["可能重复的工单", "Likely duplicates"],
  "intake.duplicates.empty": ["暂无疑似重复工单", "No likely duplicates"],
  "intake.attach": ["并入此工单（补充反映）", "Attach as a report"],
  "intake.attached": ["已作为补充反映并入 {number}", "Attached as a report to {number}"],
  "intake.history": ["该号码的历史工单", "This caller's earlier tickets"],
  "intake.history.empty": ["该号码无历史工单", "No earlier tickets from this number"],
  "intake.created": ["工单已创建，请向来电人读出：", "Ticket created. Read this out to the caller:"],
  "intake.replayed": ["（重复提交，已返回同一工单）", "(submitted twice: the same ticket)"],
  "intake.keys": [
    "Ctrl+Enter 提交 · Alt+1…4 设紧急程度（Alt+0 自动）· Alt+A 并入第一条疑似重复 · Alt+N 新来电",
    "Ctrl+Enter create · Alt+1…4 set priority (Alt+0 automatic) · Alt+A attach to the first duplicate · Alt+N new call",
  ],
  "intake.priority.set": ["紧急程度已设为 {value}", "Priority set to {value}"],
  "intake.invalid": ["请检查标红的字段", "Please check the marked fields"],
  "intake.need": ["请填写诉求内容、来电号码和地址", "Fill in the description, the phone and the address"],

  // desk
  "desk.title": ["处置台", "Agency desk"],
  "desk.list": ["本单位待办工单", "Our open assignments"],
  "desk.agency": ["查看单位", "Agency"],
  "desk.count": ["共 {count} 件待办", "{count} open"],
  "desk.due.ack": ["签收时限", "ack due"],
  "desk.due.resolve": ["办结时限", "resolve due"],
  "desk.left": ["剩余 {time}", "{time} left"],
  "desk.overdue": ["已超时 {time}", "overdue {time}"],
  "desk.paused": ["已暂停计时", "clock paused"],
  "desk.deadline": ["时限", "Deadline"],
  "desk.ticket": ["工单", "Ticket"],
  "desk.empty": ["目前没有待办工单", "Nothing open right now"],
  "desk.select": ["用 ↑/↓ 选择工单，Enter 查看详情", "Use ↑/↓ to select, Enter for details"],
  "desk.detail": ["工单详情", "Ticket details"],
  "desk.timeline": ["处理记录", "Timeline"],
  "desk.ack": ["签收", "Acknowledge"],
  "desk.start": ["开始处置", "Start"],
  "desk.resolve": ["办结", "Resolve"],
  "desk.return": ["退回", "Return"],
  "desk.transfer": ["转派", "Transfer"],
  "desk.resolution": ["办结情况", "Resolution"],
  "desk.reason": ["原因", "Reason"],
  "desk.transfer.to": ["转派至", "Transfer to"],
  "desk.done.acknowledge": ["已签收 {number}", "Acknowledged {number}"],
  "desk.done.start": ["已开始处置 {number}", "Started {number}"],
  "desk.done.resolve": ["已办结 {number}", "Resolved {number}"],
  "desk.done.return": ["已退回 {number}", "Returned {number}"],
  "desk.done.transfer": ["已转派 {number}", "Transferred {number}"],
  "desk.newp1": ["新的紧急（P1）工单：{number}", "New emergency (P1): {number}"],
  "desk.new": ["新工单：{number}", "New assignment: {number}"],
  "desk.offline": ["离线：连接已断开，正在重新连接…", "Offline: connection lost, reconnecting…"],
  "desk.online": ["已连接", "Connected"],
  "desk.perf": ["最近一次更新用时 {ms} ms", "last update took {ms} ms"],
  "desk.keys": [
    "↑/↓ 选择 · a 签收 · s 开始 · r 办结 · b 退回 · t 转派 · Enter 详情",
    "↑/↓ select · a acknowledge · s start · r resolve · b return · t transfer · Enter details",
  ],
  "desk.sound.off": ["提示音：关（点击开启）", "Sound: off (click to turn on)"],
  "desk.sound.on": ["提示音：开", "Sound: on"],
  "desk.needagency": ["请选择要查看的单位", "Choose an agency to watch"],

  // supervisor
  "sup.title": ["督办总览", "Supervisor dashboard"],
  "sup.filters": ["筛选", "Filters"],
  "sup.open": ["在办任务", "Open assignments"],
  "sup.overdue.now": ["超时任务", "Overdue assignments"],
  "sup.tickets.today": ["24 小时受理工单", "Tickets received, 24 h"],
  "sup.ack.rate": ["按时签收率", "Acknowledged on time"],
  "sup.resolve.rate": ["按时办结率", "Resolved on time"],
  "sup.ack.p50": ["签收用时中位数", "Median time to acknowledge"],
  "sup.resolve.p50": ["办结用时中位数", "Median time to resolve"],
  "sup.resolved": ["已办结", "Resolved"],
  "sup.escalations": ["24 小时督办次数", "Escalations sent, 24 h"],
  "sup.satisfaction": ["满意率", "Satisfied"],
  "sup.by.agency": ["各单位在办任务", "Open assignments by agency"],
  "sup.col.dispatched": ["待签收", "To acknowledge"],
  "sup.col.acknowledged": ["已签收", "Acknowledged"],
  "sup.col.in_progress": ["处置中", "In progress"],
  "sup.col.paused": ["暂停", "Paused"],
  "sup.col.total": ["合计", "Total"],
  "sup.col.overdue": ["超时", "Overdue"],
  "sup.overdue.list": ["超时任务", "Overdue assignments"],
  "sup.overdue.empty": ["没有超时任务", "Nothing overdue"],
  "sup.kind.ack": ["未按时签收", "not acknowledged"],
  "sup.kind.resolve": ["未按时办结", "not resolved"],
  "sup.overdue.by": ["超时时长", "Overdue by"],
  "sup.level": ["督办级别", "Level"],
  "sup.live": ["当前督办", "Escalations open now"],
  "sup.live.empty": ["当前没有未解除的督办", "No escalation is open"],
  "sup.escalated": ["{number} {agency} {kind}，第 {level} 级督办", "{number} {agency} {kind}, level {level}"],
  "sup.chart.volume": ["24 小时工单量（每小时）", "Volume over 24 h (per hour)"],
  "sup.chart.ack": ["签收用时中位数（秒，每小时）", "Median seconds to acknowledge (per hour)"],
  "sup.times": ["各单位响应时间", "Response times by agency"],
  "sup.col.ack.p50": ["签收 P50", "Ack P50"],
  "sup.col.ack.p90": ["签收 P90", "Ack P90"],
  "sup.col.res.p50": ["办结 P50", "Resolve P50"],
  "sup.col.res.p90": ["办结 P90", "Resolve P90"],
  "sup.series.created": ["受理", "created"],
  "sup.series.acknowledged": ["签收", "acknowledged"],
  "sup.series.resolved": ["办结", "resolved"],
  "sup.series.median": ["签收中位数（秒）", "median ack (s)"],
  "sup.time": ["时间", "Time"],
  "sup.updated": ["更新于 {time}", "updated {time}"],
  "sup.refresh": ["立即刷新", "Refresh now"],

  // citizen
  "status.title": ["工单查询", "Track your request"],
  "status.intro": [
    "请输入受理时告知您的工单号和查询码。",
    "Enter the ticket number and the tracking token you were given.",
  ],
  "status.lookup": ["查询", "Look up"],
  "status.notfound": ["没有与该工单号和查询码相符的工单", "No ticket with this number and token"],
  "status.ratelimited": ["查询过于频繁，请稍后再试", "Too many lookups, please wait a moment"],
  "status.agency": ["主办单位", "Handled by"],
  "status.resolution": ["办理结果", "Outcome"],
  "status.timeline": ["办理进度", "Progress"],
  "status.rate": ["请评价办理结果", "Rate the outcome"],
  "status.satisfied": ["问题是否已解决？", "Was the problem solved?"],
  "status.yes": ["已解决，满意", "Yes, solved"],
  "status.no": ["未解决，需要重新办理", "No, please work on it again"],
  "status.rating": ["评分（1 最差，5 最好）", "Rating (1 bad, 5 very good)"],
  "status.comment": ["意见建议（可不填）", "Comment (optional)"],
  "status.send": ["提交评价", "Send feedback"],
  "status.thanks": ["感谢您的评价", "Thank you for your feedback"],
  "status.emergency": ["紧急情况请直接拨打 110", "In an emergency call 110"],

  // timeline events
  "event.ticket.created": ["受理", "received"],
  "event.assignment.created": ["派单", "dispatched"],
  "event.assignment.acknowledged": ["签收", "acknowledged"],
  "event.assignment.started": ["开始处置", "started"],
  "event.assignment.resolved": ["办结", "resolved"],
  "event.assignment.returned": ["退回", "returned"],
  "event.assignment.transferred": ["转派", "transferred"],
  "event.assignment.released": ["协办结束", "released"],
  "event.assignment.reopened": ["重新办理", "reopened"],
  "event.assignment.paused": ["暂停计时", "clock paused"],
  "event.assignment.resumed": ["恢复计时", "clock resumed"],
  "event.assignment.note": ["备注", "note"],
  "event.ticket.report_added": ["补充反映", "further report"],
  "event.ticket.merged": ["合并", "merged"],
  "event.ticket.queued": ["转待分派", "to the queue"],
  "event.ticket.rerouted": ["重新分派", "re-routed"],
  "event.ticket.escalated": ["督办", "escalated"],
  "event.ticket.reminder": ["催办", "reminder"],
  "event.assignment.desk_changed": ["改派席位", "moved to another desk"],
  "event.ticket.feedback": ["群众评价", "citizen's feedback"],
  "event.ticket.closed": ["归档", "closed"],
  "event.ticket.answered": ["直接答复", "answered on the phone"],
  "event.ticket.eido_updated": ["EIDO 更新", "EIDO update"],
  "event.ticket.imported": ["外部导入", "imported"],
  "event.ticket.note": ["外部备注", "note from outside"],
  "event.ticket.service_request": ["网上诉求详情", "service request details"],
  "event.ticket.duplicates_suggested": ["疑似重复提示", "possible duplicates"],
};

function load() {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    if (saved === "en" || saved === "zh") return saved;
  } catch {
    // storage blocked: Chinese by default
  }
  return "zh";
}

let lang = load();

export function getLang() {
  return lang;
}

/**
 * Adds a console's or a feature's own labels ({key: [zh, en]}), so that each module keeps its
 * strings beside its code. A key defined twice is a mistake and is reported in the console.
 */
export function define(entries) {
  for (const [key, pair] of Object.entries(entries)) {
    if (Object.prototype.hasOwnProperty.call(T, key)) console.warn(`i18n: ${key} defined twice`);
    T[key] = pair;
  }
}

export function has(key) {
  return Object.prototype.hasOwnProperty.call(T, key);
}

/** The label for key in the current language, with {name} placeholders filled. */
export function t(key, vars) {
  const entry = T[key];
  let text = entry ? entry[lang === "en" ? 1 : 0] : key;
  if (vars) text = text.replace(/\{(\w+)\}/g, (_, name) => (vars[name] ?? "").toString());
  return text;
}

/** The right half of a {zh, en} pair from the API. */
export function pick(names) {
  if (!names) return "";
  return lang === "en" ? names.en : names.zh;
}

export function applyStatic(root = document) {
  document.documentElement.lang = lang === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-attr]")) {
    for (const pair of el.dataset.i18nAttr.split(",")) {
      const [attr, key] = pair.split(":");
      el.setAttribute(attr.trim(), t(key.trim()));
    }
  }
}

export function setLang(next) {
  lang = next === "en" ? "en" : "zh";
  try {
    localStorage.setItem(STORE_KEY, lang);
  } catch {
    // not persisted; still switched for this page
  }
  applyStatic();
  window.dispatchEvent(new CustomEvent("langchange"));
}

export function toggleLang() {
  setLang(lang === "en" ? "zh" : "en");
}

const LOCALES = { zh: "zh-CN", en: "en-GB" };

export function formatTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleTimeString(LOCALES[lang], { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export function formatDateTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(LOCALES[lang], {
    year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false,
  });
}

/** 75 → "1:15", 3700 → "1:01:40", 200000 → "2天7时" / "2d 7h". */
export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  let s = Math.max(0, Math.floor(seconds));
  if (s >= 86400) {
    const d = Math.floor(s / 86400);
    const h = Math.floor((s % 86400) / 3600);
    return lang === "en" ? `${d}d ${h}h` : `${d}天${h}时`;
  }
  const h = Math.floor(s / 3600);
  s %= 3600;
  const m = Math.floor(s / 60);
  s %= 60;
  const two = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`;
}

/** "公安（主办）" / "Police (lead)". */
export function paren(text, note) {
  return lang === "en" ? `${text} (${note})` : `${text}（${note}）`;
}

/** "公安、卫生健康" / "Police, Health". */
export function listJoin(items) {
  return items.join(lang === "en" ? ", " : "、");
}

export function formatPercent(rate) {
  return rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`;
}
