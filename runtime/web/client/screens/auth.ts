/** The screens before sign-in: pairing (first password, with the code from the log) and login. */
import { post } from "../api.ts";
import { fill, h } from "../dom.ts";
import { field, form, message } from "../forms.ts";
import type { LoginRequest, PairingRequest } from "../types.ts";

function frame(root: HTMLElement, title: string, ...children: (HTMLElement | null)[]): void {
  document.title = `${title} · Hearth`;
  const heading = h("h1", { tabindex: "-1" }, title);
  fill(root, h("main", { id: "main", class: "auth" }, h("div", { class: "auth-card" }, h("p", { class: "brand" }, "Hearth"), heading, children)));
  heading.focus({ preventScroll: true });
}

function pairingForm(onPaired: () => void): HTMLFormElement {
  const code = field({
    name: "code",
    label: "Pairing code",
    hint: "Printed in the box's log and console, on a line with “pairing code:”.",
    attrs: { autocomplete: "off", autocapitalize: "characters", spellcheck: "false", required: true },
  });
  const password = field({ name: "password", label: "New admin password", type: "password", hint: "At least 8 characters.", attrs: { autocomplete: "new-password", required: true } });
  const repeat = field({ name: "repeat", label: "Repeat the password", type: "password", attrs: { autocomplete: "new-password", required: true } });
  return form({
    fields: [code, password, repeat],
    submit: "Pair and set password",
    check: (v) => (v.code!.trim() === "" ? { field: "code", message: "Enter the pairing code." } : v.password !== v.repeat ? { field: "repeat", message: "The passwords do not match." } : null),
    onSubmit: async (v) => {
      const body: PairingRequest = { code: v.code!.trim(), password: v.password! };
      await post("/pairing", body);
      onPaired();
    },
  }, { "aria-label": "Pairing" });
}

export function showPairing(root: HTMLElement, onPaired: () => void): void {
  frame(
    root,
    "Set up this box",
    h("p", null, "Enter the pairing code the box printed when it started, then choose the password for this admin page."),
    pairingForm(onPaired),
  );
}

export interface LoginOptions {
  /** A new pairing code is open (the box's button was pressed): offer resetting the password with it. */
  pairingOpen: boolean;
  note: string | null;
  onLoggedIn: () => void;
}

export function showLogin(root: HTMLElement, options: LoginOptions): void {
  const note = message("info");
  note.show(options.note);
  const password = field({ name: "password", label: "Admin password", type: "password", attrs: { autocomplete: "current-password", required: true } });
  const login = form({
    fields: [password],
    submit: "Log in",
    check: (v) => (v.password === "" ? { field: "password", message: "Enter the admin password." } : null),
    onSubmit: async (v) => {
      const body: LoginRequest = { password: v.password! };
      await post("/login", body);
      options.onLoggedIn();
    },
  }, { "aria-label": "Log in" });
  const reset = options.pairingOpen
    ? h(
        "details",
        { class: "reset" },
        h("summary", null, "Forgot the password? Use a pairing code"),
        h("p", null, "A short press on the box's button prints a new pairing code to its log. With it you can set a new password."),
        pairingForm(() => options.onLoggedIn()),
      )
    : null;
  frame(root, "Log in", note.root, login, reset);
}
