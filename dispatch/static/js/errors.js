// API errors in the console's language: an error's code and each detail's field and type
// (docs/api.md) become a sentence in Chinese (English in English mode), never pydantic's text.

import { define, has, t } from "./i18n.js";

define({
  "field.description": ["诉求内容", "Description"],
  "field.caller": ["来电人", "Caller"],
  "field.caller.phone": ["来电号码", "Caller's phone"],
  "field.caller.name": ["来电人姓名", "Caller's name"],
  "field.caller.no_phone_reason": ["无号码原因", "Why there is no number"],
  "field.location": ["地点", "Location"],
  "field.location.address": ["地址", "Address"],
  "field.location.district": ["区县", "District"],
  "field.location.lat": ["纬度", "Latitude"],
  "field.location.lon": ["经度", "Longitude"],
  "field.category": ["事项类别", "Category"],
  "field.priority": ["紧急程度", "Priority"],
  "field.agencies": ["处置单位", "Agencies"],
  "field.district": ["区县", "District"],
  "field.reason": ["原因", "Reason"],
  "field.resolution": ["办结情况", "Resolution"],
  "field.agency": ["单位", "Agency"],
  "field.text": ["内容", "Text"],
  "field.body": ["请求", "Request"],
  "field.other": ["字段 {field}", "Field {field}"],

  "invalid.missing": ["{field}：必须填写", "{field}: required"],
  "invalid.text_empty": ["{field}：不能为空", "{field}: must not be empty"],
  "invalid.string_too_long": ["{field}：内容过长", "{field}: too long"],
  "invalid.string_too_short": ["{field}：内容过短", "{field}: too short"],
  "invalid.string_type": ["{field}：应为文字", "{field}: must be text"],
  "invalid.phone_invalid": [
    "{field}：号码无效。手机为 11 位；座机可带区号（如 0396-2345678）或只填本地 7–8 位；也可填 12345 等服务号码",
    "{field}: not a valid number. Mobiles have 11 digits; landlines with area code (e.g. 0396-2345678) or the local 7–8 digits; or a service number such as 12345",
  ],
  "invalid.phone_or_reason": [
    "请填写来电号码，或选择无号码的原因",
    "Enter the caller's number, or choose why there is none",
  ],
  "invalid.phone_and_reason": [
    "已填写来电号码，无需选择无号码原因",
    "A number was entered: no reason for a missing number is needed",
  ],
  "invalid.address_required": ["请填写地址", "Enter the address"],
  "invalid.coordinates_pair": ["经纬度须同时填写", "Latitude and longitude go together"],
  "invalid.unknown_category": ["{field}：没有这个类别", "{field}: no such category"],
  "invalid.unknown_agency": ["{field}：没有这个单位", "{field}: no such agency"],
  "invalid.unknown_district": ["{field}：没有这个区县", "{field}: no such district"],
  "invalid.agency_twice": ["{field}：同一单位选了两次", "{field}: an agency is chosen twice"],
  "invalid.category_required": ["请选择事项类别", "Choose a category"],
  "invalid.literal_error": ["{field}：不是可选的值", "{field}: not one of the choices"],
  "invalid.enum": ["{field}：不是可选的值", "{field}: not one of the choices"],
  "invalid.extra_forbidden": ["{field}：不认识的字段", "{field}: unknown field"],
  "invalid.too_long": ["{field}：选得太多", "{field}: too many"],
  "invalid.too_short": ["{field}：至少选一项", "{field}: choose at least one"],
  "invalid.other": ["{field}：填写有误", "{field}: not valid"],

  "apierror.validation_failed": ["请检查标红的字段", "Please check the marked fields"],
  "apierror.idempotency_key_reused": [
    "本次来电已登记过，内容又有改动。请按“新来电”再登记下一个电话",
    "This call was already recorded and has since been changed. Press New call for the next call",
  ],
  "apierror.not_in_queue": [
    "该工单已不在待分派队列中（可能已由他人分派）",
    "This ticket is no longer waiting in the queue (perhaps a colleague routed it)",
  ],
  "apierror.ticket_changed": ["该工单刚被修改，请重试", "The ticket changed meanwhile; try again"],
  "apierror.ticket_not_open": ["该工单已结束，不能再办理", "This ticket is closed"],
  "apierror.ticket_not_found": ["没有这个工单", "No such ticket"],
  "apierror.agency_already_assigned": ["该单位已在办理此工单", "This agency already works on the ticket"],
  "apierror.lead_already_assigned": ["该工单已有主办单位", "The ticket already has a lead agency"],
  "apierror.illegal_transition": ["当前状态下不能进行此操作", "Not possible in the current state"],
  "apierror.rate_limited": ["操作过于频繁，请稍后再试", "Too many requests; wait a moment"],
  "apierror.unavailable": ["服务暂时不可用，请稍后重试", "The service is unavailable; retry shortly"],
  "apierror.internal": ["服务器内部错误，已记录", "Internal error; it has been logged"],
  "apierror.status.409": ["与当前状态冲突", "Conflicts with the current state"],
  "apierror.status.404": ["没有找到", "Not found"],
  "apierror.status.413": ["内容过多", "Too large"],
});

/** The field a detail names, as a label: "caller.phone" → 来电号码. */
export function fieldLabel(field) {
  const path = field || "body";
  for (let parts = path.split("."); parts.length; parts.pop()) {
    const key = `field.${parts.join(".")}`;
    if (has(key)) return t(key); // "agencies.0" falls back to "agencies"
  }
  return t("field.other", { field: path });
}

/** One validation detail ({field, type, message}) as a sentence. */
export function detailText(detail) {
  const field = fieldLabel(detail.field);
  const key = `invalid.${detail.type}`;
  return t(has(key) ? key : "invalid.other", { field });
}

/** A whole API error as a sentence: its code's text, with the details' texts. */
export function errorText(error) {
  if (error?.status === 0) return t("error.network");
  if (error?.status === 403) return t("error.forbidden");
  const code = error?.code;
  const details = (error?.details || []).filter((d) => d && (d.type || d.field));
  if (error?.status === 422 && details.length) {
    return `${t("apierror.validation_failed")}：${details.map(detailText).join("；")}`;
  }
  if (code && has(`apierror.${code}`)) return t(`apierror.${code}`);
  if (error?.status && has(`apierror.status.${error.status}`)) return t(`apierror.status.${error.status}`);
  return t("error.generic", { message: error?.message || String(error) });
}
