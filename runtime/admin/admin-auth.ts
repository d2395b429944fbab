/**
 * Who may administer the box: the password, the pairing code, sessions, admin tokens and the
 * attempt limiter together. What the button and the CLI call (a new pairing code, factory reset)
 * lives here too, so the LED/button wiring needs only this object.
 */
import type { Clock } from "../clock.ts";
import type { Logger } from "../log.ts";
import type { Db } from "../store/db.ts";
import { AdminCredentials } from "./credentials.ts";
import { clearAdminState, RESET_CLEARS, RESET_KEEPS } from "./factory-reset.ts";
import { AttemptLimiter, type AttemptLimit } from "./rate-limit.ts";
import type { FactoryResetResponse } from "./schemas/system.ts";
import { SessionStore } from "./sessions.ts";
import { AdminTokenStore } from "./tokens.ts";

export interface AdminAuthDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Also shows a new pairing code on the console (serve prints it to stdout). */
  console?: (line: string) => void;
  attemptLimit?: AttemptLimit;
}

export class AdminAuth {
  readonly credentials: AdminCredentials;
  readonly sessions: SessionStore;
  readonly tokens: AdminTokenStore;
  readonly limiter: AttemptLimiter;

  constructor(private readonly deps: AdminAuthDeps) {
    this.credentials = new AdminCredentials(deps.db, deps.clock);
    this.sessions = new SessionStore(deps.db, deps.clock);
    this.tokens = new AdminTokenStore(deps.db, deps.clock);
    this.limiter = new AttemptLimiter(deps.clock, deps.attemptLimit);
  }

  /** At start: a box with no admin gets a fresh pairing code (only its hash is kept, so each start shows a new one). */
  async startup(): Promise<void> {
    if (!this.credentials.isPaired()) await this.newPairingCode();
  }

  /**
   * Issues a pairing code, logs it (`pairing code: <code>`) and shows it on the console. With an
   * admin set, pairing with it sets a new password (and ends every session): whoever holds the box
   * can recover it; admin tokens stay valid.
   */
  async newPairingCode(): Promise<string> {
    const code = await this.credentials.issuePairingCode();
    const paired = this.credentials.isPaired();
    this.deps.logger.info(`pairing code: ${code}`, { purpose: paired ? "reset the admin password" : "first pairing", valid_hours: 24 });
    this.deps.console?.(`Pairing code: ${code}  (open the admin page and enter it to ${paired ? "set a new admin password" : "set the admin password"}; valid 24 hours)`);
    return code;
  }

  /** Clears admin credentials, sessions, admin tokens and API keys, then issues a new pairing code. */
  async factoryReset(): Promise<FactoryResetResponse> {
    const { keysErased } = clearAdminState(this.deps.db, this.deps.clock.now());
    this.deps.logger.warn("factory reset", { api_keys_erased: keysErased });
    await this.newPairingCode();
    return { cleared: RESET_CLEARS, kept: RESET_KEEPS, message: `factory reset done: ${keysErased} API key(s) erased; pair the box again with the new pairing code` };
  }
}
