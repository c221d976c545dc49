// Sign-in: exchange the API token for a session cookie (POST /console/session), then go to
// the console for the user's role or back to the page that sent us here. Works as a plain
// form too (the server answers a redirect).

import { ApiError, api, get } from "./api.js";
import { t } from "./i18n.js";
import { startShell } from "./shell.js";

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

async function main() {
  await startShell({ requireUser: false });
  $("next").value = nextPath();
  if (new URLSearchParams(location.search).get("error") === "invalid_token") $("signin-error").textContent = t("signin.invalid");
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
    const token = $("token").value.trim();
    if (!token) {
      $("signin-error").textContent = t("signin.invalid");
      $("token").focus();
      return;
    }
    try {
      const { data } = await api("POST", "/console/session", { token }, { signInOn401: false });
      location.assign(nextPath() || data.home);
    } catch (error) {
      const key = error instanceof ApiError && error.code === "no_console" ? "signin.noconsole" : "signin.invalid";
      $("signin-error").textContent = error.status === 0 ? t("error.network") : t(key);
      $("token").select();
    }
  });
  document.body.dataset.ready = "true";
  $("token").focus();
}

main();
