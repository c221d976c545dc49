// Sign-in: a user name and password (or, folded away, an API token) for a session cookie
// (POST /console/session), then the console for the user's role or the page that sent us here.
// Works as a plain form too (the server answers a redirect).

import { ApiError, api, get } from "./api.js";
import { define, t } from "./i18n.js";
import { startShell } from "./shell.js";

define({
  "signin.intro.password": [
    "请输入用户名和密码。登录有效期 13 小时（一个 12 小时班次加交接班）。",
    "Enter your user name and password. A sign-in lasts 13 hours (a 12-hour shift and its hand-over).",
  ],
  "signin.username": ["用户名", "User name"],
  "signin.password": ["密码", "Password"],
  "signin.with.token": ["或使用 API 令牌登录（ms_ 开头）", "Or sign in with an API token (starts with ms_)"],
  "signin.wrong": ["用户名或密码错误", "Wrong user name or password"],
  "signin.missing": ["请输入用户名和密码，或 API 令牌", "Enter a user name and password, or an API token"],
  "signin.throttled": ["尝试次数过多，请 {seconds} 秒后再试", "Too many attempts; try again in {seconds} s"],
  "console.kb.desc": [
    "督办员、管理员：维护直接答复用的知识条目",
    "Supervisors and admins: the entries consultations are answered from",
  ],
});

const $ = (id) => document.getElementById(id);

function nextPath() {
  const next = new URLSearchParams(location.search).get("next") || "";
  return next.startsWith("/console/") || next === "/status" ? next : "";
}

function showSignedIn(user) {
  const box = $("signed-in");
  if (!user) {
    box.hidden = true;
    return;
  }
  $("signed-in-as").textContent = t("signed.in.as", { name: user.name, role: t(`role.${user.role}`) });
  box.hidden = false;
}

function errorText(error) {
  if (error.status === 0) return t("error.network");
  if (error.status === 429) return t("signin.throttled", { seconds: error.details?.[0]?.retry_after ?? 60 });
  if (error instanceof ApiError && error.code === "no_console") return t("signin.noconsole");
  if (error instanceof ApiError && error.code === "invalid_token") return t("signin.invalid");
  return t("signin.wrong");
}

async function main() {
  await startShell({ requireUser: false });
  $("next").value = nextPath();
  const failed = new URLSearchParams(location.search).get("error");
  if (failed === "invalid_token") $("signin-error").textContent = t("signin.invalid");
  if (failed === "invalid_credentials") $("signin-error").textContent = t("signin.wrong");
  let user = null;
  try {
    user = (await get("/api/v1/me", { signInOn401: false })).data;
  } catch {
    user = null;
  }
  showSignedIn(user);
  window.addEventListener("langchange", () => showSignedIn(user));
  $("signin-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    $("signin-error").textContent = "";
    const username = $("username").value.trim();
    const password = $("password").value;
    const token = $("token").value.trim();
    let body = null;
    if (username && password) body = { username, password };
    else if (token && !username) body = { token };
    if (!body) {
      $("signin-error").textContent = t("signin.missing");
      (username ? $("password") : $("username")).focus();
      return;
    }
    try {
      const { data } = await api("POST", "/console/session", body, { signInOn401: false });
      location.assign(nextPath() || data.home);
    } catch (error) {
      $("signin-error").textContent = errorText(error);
      if (body.token) $("token").select();
      else {
        $("password").value = "";
        $("password").focus();
      }
    }
  });
  document.body.dataset.ready = "true";
  $("username").focus();
}

main();
