/** Building blocks the screens share: cards, fact lists, meters, copy buttons, confirmation. */
import { h, uid, type Child } from "./dom.ts";
import { actionButton } from "./forms.ts";

export function card(title: string, ...children: Child[]): HTMLElement {
  return h("section", { class: "card" }, h("h2", null, title), children);
}

/** A definition list of label → value pairs; null values are left out. */
export function facts(rows: [string, Child][]): HTMLElement {
  return h("dl", { class: "facts" }, rows.filter(([, v]) => v !== null && v !== undefined).map(([k, v]) => h("div", null, h("dt", null, k), h("dd", null, v))));
}

/** A labelled bar for a fraction (0..1); `high` marks it as a warning. */
export function meter(label: string, fraction: number, text: string, high = 0.9): HTMLElement {
  const value = Math.min(1, Math.max(0, fraction));
  return h(
    "div",
    { class: "meter-row" },
    h("div", { class: "meter-label" }, h("span", null, label), h("span", { class: "num" }, text)),
    h("meter", { min: 0, max: 1, low: 0.7, high, optimum: 0, value, "aria-label": `${label}: ${text}` }),
  );
}

export function badge(text: string, tone: "ok" | "warn" | "bad" | "neutral"): HTMLElement {
  return h("span", { class: `badge badge-${tone}` }, text);
}

/**
 * Copies to the clipboard. navigator.clipboard needs a secure context, and a box on the LAN is
 * usually plain http://, so the fallback selects the text and uses the legacy copy command.
 */
export async function copyText(text: string, source?: HTMLInputElement): Promise<boolean> {
  try {
    if (window.isSecureContext && navigator.clipboard) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection-based copy.
  }
  const input = source ?? document.body.appendChild(h("input", { value: text, readonly: true, class: "offscreen" }));
  input.focus();
  input.select();
  const ok = document.execCommand("copy");
  if (!source) input.remove();
  return ok;
}

/** A read-only secret or id with a Copy button and a status message. */
export function copyField(label: string, value: string, id: string): HTMLElement {
  const input = h("input", { id, value, readonly: true, class: "mono", spellcheck: "false" });
  const status = h("span", { class: "copy-status", role: "status" });
  const button = h("button", { type: "button" }, "Copy");
  button.addEventListener("click", async () => {
    const ok = await copyText(value, input);
    status.textContent = ok ? "Copied" : "Select the text and copy it";
  });
  input.addEventListener("focus", () => input.select());
  return h("div", { class: "field" }, h("label", { for: id }, label), h("div", { class: "copy-row" }, input, button), status);
}

/** A modal confirmation (native <dialog>): resolves true when confirmed. */
export function confirmAction(question: string, detail: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", value: "cancel" }, "Cancel");
    const ok = h("button", { type: "button", class: "danger", value: "ok" }, confirmLabel);
    const dialog = h("dialog", { class: "confirm", "aria-labelledby": "confirm-title" }, h("h2", { id: "confirm-title" }, question), h("p", null, detail), h("div", { class: "actions" }, cancel, ok));
    const close = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    cancel.addEventListener("click", () => close(false));
    ok.addEventListener("click", () => close(true));
    dialog.addEventListener("cancel", () => close(false));
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

export function loading(): HTMLElement {
  return h("p", { class: "muted", role: "status" }, "Loading…");
}

export interface Column<T> {
  label: string;
  cell(row: T): Child;
  /** Right-aligned numbers. */
  num?: boolean;
}

/** A table whose rows stack into labelled blocks on a narrow screen (see styles: .stack). */
export function dataTable<T>(caption: string, columns: Column<T>[], rows: T[], empty: string): HTMLElement {
  if (rows.length === 0) return h("p", { class: "muted" }, empty);
  return h(
    "table",
    { class: "stack" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : null }, c.label)))),
    h("tbody", null, rows.map((row) => h("tr", null, columns.map((c) => h("td", { "data-label": c.label, class: c.num ? "num" : null }, c.cell(row)))))),
  );
}

/** A new secret (API key, admin token) shown this once, with a Copy button and a Done button that hides it. */
export function revealSecret(opts: { region: string; title: string; label: string; secret: string; extra?: Child; onDone(): void }): HTMLElement {
  const done = h("button", { type: "button" }, "Done");
  done.addEventListener("click", opts.onDone);
  return h(
    "div",
    { class: "reveal", role: "region", "aria-label": opts.region },
    h("p", null, h("strong", null, opts.title), " Copy it now: it is not shown again."),
    copyField(opts.label, opts.secret, uid("secret")),
    opts.extra,
    h("div", { class: "actions" }, done),
  );
}

/** A Revoke button for a named credential that asks first; `consequence` says what stops working. */
export function revokeButton(name: string, consequence: string, revoke: () => Promise<void>, errors: (text: string | null) => void): HTMLButtonElement {
  return actionButton(
    "Revoke",
    async () => {
      if (await confirmAction(`Revoke “${name}”?`, consequence, "Revoke")) await revoke();
    },
    errors,
    { class: "danger", "aria-label": `Revoke ${name}` },
  );
}
