/**
 * The signed-in page: a header with log-out, the section navigation and a hash router
 * (#/dashboard, #/keys, …) so any section can be bookmarked without server routes. Each section
 * renders into <main> and gets an AbortSignal that ends its polling when the user moves on.
 */
import { post } from "./api.ts";
import { fill, h } from "./dom.ts";
import { errorText } from "./forms.ts";

export interface ScreenContext {
  main: HTMLElement;
  signal: AbortSignal;
  /** Runs fn now and then every ms (asked again after each run) until the section is left; errors are shown, polling goes on. */
  poll(ms: number | (() => number), fn: () => Promise<void>): void;
}

export interface Section {
  id: string;
  label: string;
  render(ctx: ScreenContext): Promise<void>;
}

export function pollEvery(signal: AbortSignal, ms: number | (() => number), fn: () => Promise<void>, onError: (text: string | null) => void): void {
  const tick = async () => {
    if (signal.aborted) return;
    // A tab in the background asks the box nothing; it catches up once shown again.
    if (document.hidden) {
      document.addEventListener("visibilitychange", () => void tick(), { once: true });
      return;
    }
    try {
      await fn();
      onError(null);
    } catch (err) {
      onError(errorText(err));
    }
    if (!signal.aborted) setTimeout(tick, typeof ms === "number" ? ms : ms());
  };
  void tick();
}

export function showShell(root: HTMLElement, sections: Section[], onLoggedOut: () => void): void {
  const main = h("main", { id: "main", tabindex: "-1" });
  const links = sections.map((s) => h("a", { href: `#/${s.id}`, "data-section": s.id }, s.label));
  const logout = h("button", { type: "button", class: "ghost" }, "Log out");
  // The hash is the router's: the skip link moves focus itself instead of changing it.
  const skip = h("a", { class: "skip", href: "#main" }, "Skip to content");
  skip.addEventListener("click", (event) => {
    event.preventDefault();
    main.focus();
  });
  const problem = h("p", { class: "message message-error", role: "alert", hidden: true });
  logout.addEventListener("click", async () => {
    try {
      await post("/logout");
    } catch (err) {
      problem.textContent = errorText(err);
      problem.hidden = false;
      return;
    }
    onLoggedOut();
  });
  fill(
    root,
    skip,
    h("header", { class: "topbar" }, h("span", { class: "brand" }, h("img", { src: document.querySelector<HTMLLinkElement>("link[rel=icon]")?.href ?? "", alt: "", width: 24, height: 24 }), "Hearth"), logout),
    h("nav", { "aria-label": "Sections" }, h("ul", null, links.map((a) => h("li", null, a)))),
    h("div", { class: "content" }, problem, main),
  );

  let current: AbortController | null = null;
  const show = async () => {
    const id = location.hash.replace(/^#\/?/, "") || sections[0]!.id;
    const section = sections.find((s) => s.id === id) ?? sections[0]!;
    current?.abort();
    const controller = new AbortController();
    current = controller;
    for (const a of links) {
      if (a.dataset.section === section.id) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    document.title = `${section.label} · Hearth`;
    const heading = h("h1", { tabindex: "-1" }, section.label);
    const sectionError = h("p", { class: "message message-error", role: "alert", hidden: true });
    fill(main, heading, sectionError);
    // Moving focus to the new heading tells screen readers the section changed.
    heading.focus({ preventScroll: true });
    const ctx: ScreenContext = {
      main,
      signal: controller.signal,
      poll: (ms, fn) =>
        pollEvery(controller.signal, ms, fn, (text) => {
          sectionError.textContent = text ?? "";
          sectionError.hidden = text === null;
        }),
    };
    try {
      await section.render(ctx);
    } catch (err) {
      if (controller.signal.aborted) return;
      sectionError.textContent = errorText(err);
      sectionError.hidden = false;
    }
  };
  window.addEventListener("hashchange", () => {
    if (root.contains(main)) void show();
  });
  void show();
}
