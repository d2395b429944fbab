/** Entry point of the admin page: asks the API where this browser stands and shows that screen. */
import { ApiError, get, setCsrfToken, whenUnauthorized } from "./api.ts";
import { fill, h } from "./dom.ts";
import { errorText } from "./forms.ts";
import { showLogin, showPairing } from "./screens/auth.ts";
import { SECTIONS } from "./sections.ts";
import { showShell } from "./shell.ts";
import type { SessionState } from "./types.ts";

const root = document.getElementById("app")!;

async function start(note: string | null = null): Promise<void> {
  let session: SessionState;
  try {
    session = await get<SessionState>("/session");
  } catch (err) {
    const retry = h("button", { type: "button" }, "Try again");
    retry.addEventListener("click", () => void start(note));
    fill(root, h("main", { id: "main", class: "auth" }, h("div", { class: "auth-card" }, h("h1", null, "Hearth"), h("p", { class: "message message-error", role: "alert" }, errorText(err)), retry)));
    return;
  }
  setCsrfToken(session.csrfToken);
  if (!session.paired) return showPairing(root, () => void start("The password is set."));
  if (!session.authenticated) return showLogin(root, { pairingOpen: session.pairingOpen, note, onLoggedIn: () => void start() });
  showShell(root, SECTIONS, () => void start("You are logged out."));
}

whenUnauthorized(() => void start("Your session has ended. Log in again."));
window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof ApiError) event.preventDefault();
});
void start();
