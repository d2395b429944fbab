/** License: tier and verdict, this box's fingerprint for the reseller, and installing a license file. */
import { ApiError, get, post } from "../api.ts";
import { fill, h, uid } from "../dom.ts";
import { field, form, message } from "../forms.ts";
import { dateTime } from "../format.ts";
import type { ScreenContext } from "../shell.ts";
import type { LicenseStatus } from "../types.ts";
import { badge, card, copyField, facts, loading } from "../ui.ts";

function statusCard(l: LicenseStatus): HTMLElement {
  const doc = l.license;
  return card(
    "Status",
    facts([
      ["Tier", badge(l.tier === "smb" ? "SMB" : "Community", l.tier === "smb" ? "ok" : "neutral")],
      ["Verdict", `${l.reason}: ${l.message}`],
      ["Entitlements", l.entitlements.length > 0 ? l.entitlements.join(", ") : "none"],
      ["Licensed to", doc?.customer ?? null],
      ["License id", doc ? h("code", null, doc.licenseId) : null],
      ["Valid", doc ? `${dateTime(doc.notBefore)} to ${dateTime(doc.expiresAt)}` : null],
      ["Grace ends", doc ? dateTime(doc.graceEndsAt) : null],
      ["Update channel", l.updateChannel],
    ]),
    l.warnings.map((w) => h("p", { class: "message message-warn", role: "status" }, w)),
    l.clock.rolledBack ? h("p", { class: "message message-warn", role: "status" }, "The clock was set back behind the trusted time; this never extends a license.") : null,
    l.restartRequired ? h("p", { class: "message message-info", role: "status" }, "The installed license applies at the next restart (System → Restart).") : null,
  );
}

function identityCard(l: LicenseStatus): HTMLElement {
  return card(
    "This box",
    h("p", null, "A reseller needs the device id and the fingerprint to issue a license for this box."),
    copyField("Device id", l.deviceId, uid("device-id")),
    l.fingerprint ? copyField("Hardware fingerprint", l.fingerprint, uid("fingerprint")) : h("p", { class: "muted" }, "The fingerprint is being read."),
  );
}

function uploadCard(onInstalled: (l: LicenseStatus) => void): HTMLElement {
  const done = message("ok");
  const file = field({ name: "file", label: "License file", type: "file", hint: "The .json file your reseller sent. It is verified before anything is written.", attrs: { accept: ".json,application/json", required: true } });
  const upload = form({
    fields: [file],
    submit: "Install license",
    onSubmit: async () => {
      done.show(null);
      const chosen = file.input.files?.[0];
      if (!chosen) throw new ApiError(0, "invalid_request", "Choose the license file first.", "file");
      let body: unknown;
      try {
        body = JSON.parse(await chosen.text());
      } catch {
        throw new ApiError(0, "invalid_request", `${chosen.name} is not a license file (not JSON).`, "file");
      }
      try {
        const status = await post<LicenseStatus>("/license", body);
        done.show(`License installed: ${status.license?.licenseId ?? status.tier}.${status.restartRequired ? " It applies at the next restart." : ""}`);
        onInstalled(status);
      } catch (err) {
        // Whatever part of the file is at fault, the user can only act on the file itself.
        if (err instanceof ApiError) throw new ApiError(err.status, err.code, err.message, "file");
        throw err;
      }
    },
  }, { "aria-label": "Install a license" });
  return card("Install a license", upload, done.root);
}

export async function renderLicense(ctx: ScreenContext): Promise<void> {
  const status = h("div", { class: "grid" }, loading());
  const show = (l: LicenseStatus) => fill(status, statusCard(l), identityCard(l));
  ctx.main.append(status, uploadCard(show));
  show(await get<LicenseStatus>("/license"));
}
