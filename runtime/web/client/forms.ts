/**
 * Labelled fields and forms that show the API's errors where they belong: next to the field the
 * error names (aria-invalid, aria-describedby), otherwise above the submit button. Errors use
 * role=alert so screen readers announce them.
 */
import { ApiError } from "./api.ts";
import { h, uid, type Child, type Props } from "./dom.ts";

export interface FieldSpec {
  name: string;
  label: string;
  type?: string;
  value?: string;
  hint?: string;
  /** Further input attributes: autocomplete, required, minlength, inputmode, … */
  attrs?: Props;
  /** A fixed set of values: a <select> instead of an <input>. */
  choices?: string[];
}

export interface Field<E extends HTMLInputElement | HTMLSelectElement = HTMLInputElement | HTMLSelectElement> {
  root: HTMLElement;
  input: E;
  showError(message: string | null): void;
}

function control(id: string, spec: FieldSpec, describedBy: string | null): HTMLInputElement | HTMLSelectElement {
  if (spec.choices) return h("select", { id, name: spec.name, "aria-describedby": describedBy, ...spec.attrs }, spec.choices.map((c) => h("option", { value: c, selected: c === spec.value }, c)));
  return h("input", { id, name: spec.name, type: spec.type ?? "text", value: spec.value, "aria-describedby": describedBy, ...spec.attrs });
}

export function field(spec: FieldSpec & { choices?: undefined }): Field<HTMLInputElement>;
export function field(spec: FieldSpec): Field;
export function field(spec: FieldSpec): Field {
  const id = uid(`f-${spec.name}`);
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const input = control(id, spec, spec.hint ? hintId : null);
  const error = h("p", { id: errorId, class: "field-error", role: "alert", hidden: true });
  const root = h("div", { class: "field" }, h("label", { for: id }, spec.label), spec.hint ? h("p", { id: hintId, class: "hint" }, spec.hint) : null, input, error);
  const showError = (message: string | null) => {
    error.textContent = message ?? "";
    error.hidden = message === null;
    if (message === null) input.removeAttribute("aria-invalid");
    else input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [spec.hint ? hintId : "", message === null ? "" : errorId].filter(Boolean).join(" "));
  };
  return { root, input, showError };
}

/** A form-level message: role=alert for errors, role=status for confirmations. */
export function message(kind: "error" | "ok" | "info"): { root: HTMLElement; show(text: string | null): void } {
  const root = h("p", { class: `message message-${kind}`, role: kind === "error" ? "alert" : "status", hidden: true });
  return {
    root,
    show(text) {
      root.textContent = text ?? "";
      root.hidden = text === null;
    },
  };
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return err instanceof Error ? err.message : String(err);
}

/** The field an API error names: exact name, else the last segment of a dotted path. */
function fieldFor(fields: Field[], name: string | null): Field | undefined {
  if (!name) return undefined;
  return fields.find((f) => f.input.name === name) ?? fields.find((f) => f.input.name === name.split(".").pop());
}

export interface FormSpec {
  fields: Field[];
  submit: string;
  /** Extra content between the fields and the button. */
  extra?: Child;
  /** Receives the values by field name; throws to show an error. */
  onSubmit(values: Record<string, string>, form: HTMLFormElement): Promise<void>;
  /** Client-side checks before calling the API: a field name → message. */
  check?(values: Record<string, string>): { field: string; message: string } | null;
}

export function form(spec: FormSpec, props: Props = {}): HTMLFormElement {
  const general = message("error");
  const button = h("button", { type: "submit", class: "primary" }, spec.submit);
  const el = h("form", { novalidate: true, ...props }, spec.fields.map((f) => f.root), spec.extra, general.root, h("div", { class: "actions" }, button));
  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of spec.fields) f.showError(null);
    general.show(null);
    const values = Object.fromEntries(spec.fields.map((f) => [f.input.name, f.input instanceof HTMLInputElement && f.input.type === "checkbox" ? String(f.input.checked) : f.input.value]));
    const problem = spec.check?.(values);
    if (problem) return report(spec.fields, general, problem.field, problem.message);
    button.disabled = true;
    el.setAttribute("aria-busy", "true");
    try {
      await spec.onSubmit(values, el);
    } catch (err) {
      report(spec.fields, general, err instanceof ApiError ? err.field : null, errorText(err));
    } finally {
      button.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });
  return el;
}

function report(fields: Field[], general: ReturnType<typeof message>, name: string | null, text: string): void {
  const target = fieldFor(fields, name);
  if (target) {
    target.showError(text);
    target.input.focus();
  } else general.show(text);
}

/** A button that runs an action, disabled while it runs, reporting failures to `errors`. */
export function actionButton(label: string, run: () => Promise<void>, errors: (text: string | null) => void, props: Props = {}): HTMLButtonElement {
  const button = h("button", { type: "button", ...props }, label);
  button.addEventListener("click", async () => {
    errors(null);
    button.disabled = true;
    try {
      await run();
    } catch (err) {
      errors(errorText(err));
    } finally {
      if (button.isConnected) button.disabled = false;
    }
  });
  return button;
}
