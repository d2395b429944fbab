/**
 * Every admin API route in one table: method, path, who may call it and its TypeBox schemas. The
 * router (router.ts) validates requests with these schemas and the OpenAPI document (openapi.ts)
 * is generated from them, so the two cannot diverge. Paths are relative to /admin/api.
 */
import type { TSchema } from "@sinclair/typebox";
import { DaysQuery, Empty, IdParams, LimitQuery, Ok } from "./schemas/common.ts";
import { LoginRequest, PairingRequest, PasswordChangeRequest, SessionState } from "./schemas/auth.ts";
import { ModelsResponse, StatusResponse } from "./schemas/status.ts";
import { ApiKey, ApiKeyList, CreatedKey, CreateKeyRequest, KeyUsageResponse, UsageResponse } from "./schemas/keys.ts";
import { AdminToken, AdminTokenList, CreatedToken, CreateTokenRequest } from "./schemas/tokens.ts";
import { LicenseStatus, LicenseUpload } from "./schemas/license.ts";
import { ApplyUpdateRequest, UpdatesState } from "./schemas/updates.ts";
import { SettingsResponse, SettingsUpdate } from "./schemas/settings.ts";
import { FactoryResetRequest, FactoryResetResponse, LogsResponse, RestartResponse, TelemetrySettings, TelemetryUpdate } from "./schemas/system.ts";

export type Method = "GET" | "POST" | "PUT" | "DELETE";

/** public: anyone (what the page needs before login, and the API docs); admin: a session or an admin token. */
export type Access = "public" | "admin";

export interface RouteSpec {
  method: Method;
  /** Hono syntax (`/keys/:id`), relative to /admin/api. */
  path: string;
  summary: string;
  tag: string;
  access: Access;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  response: TSchema | null;
  /** Success status; default 200. */
  status?: number;
  /** The response is not JSON (the docs page). */
  contentType?: string;
}

const route = <const S extends RouteSpec>(spec: S): S => spec;

export const ADMIN_ROUTES = {
  getSession: route({ method: "GET", path: "/session", summary: "Whether the box is paired, this caller is signed in, and its CSRF token", tag: "auth", access: "public", response: SessionState }),
  pair: route({ method: "POST", path: "/pairing", summary: "Set the admin password with the pairing code; starts a session", tag: "auth", access: "public", body: PairingRequest, response: SessionState }),
  login: route({ method: "POST", path: "/login", summary: "Sign in with the admin password; starts a session (rate-limited per client)", tag: "auth", access: "public", body: LoginRequest, response: SessionState }),
  logout: route({ method: "POST", path: "/logout", summary: "End this session", tag: "auth", access: "admin", response: Ok }),
  changePassword: route({ method: "PUT", path: "/password", summary: "Change the admin password; ends every other session", tag: "auth", access: "admin", body: PasswordChangeRequest, response: Ok }),

  getStatus: route({ method: "GET", path: "/status", summary: "Version, uptime, board, kernel build, models and cached health", tag: "status", access: "admin", response: StatusResponse }),
  listModels: route({ method: "GET", path: "/models", summary: "Configured and installed models, the active one, fit numbers where known", tag: "status", access: "admin", response: ModelsResponse }),

  listKeys: route({ method: "GET", path: "/keys", summary: "API keys with their usage totals", tag: "keys", access: "admin", response: ApiKeyList }),
  createKey: route({ method: "POST", path: "/keys", summary: "Create an API key (the key is in this response only)", tag: "keys", access: "admin", body: CreateKeyRequest, response: CreatedKey, status: 201 }),
  revokeKey: route({ method: "DELETE", path: "/keys/:id", summary: "Revoke an API key", tag: "keys", access: "admin", params: IdParams, response: ApiKey }),
  keyUsage: route({ method: "GET", path: "/keys/:id/usage", summary: "One key's usage per day", tag: "keys", access: "admin", params: IdParams, query: DaysQuery, response: KeyUsageResponse }),
  usage: route({ method: "GET", path: "/usage", summary: "Usage per day and per key from the usage ledger", tag: "keys", access: "admin", query: DaysQuery, response: UsageResponse }),

  getLicense: route({ method: "GET", path: "/license", summary: "License status, tier, entitlements and this box's fingerprint", tag: "license", access: "admin", response: LicenseStatus }),
  installLicense: route({ method: "POST", path: "/license", summary: "Install a license (verified before it is written; applies at the next restart)", tag: "license", access: "admin", body: LicenseUpload, response: LicenseStatus }),

  getUpdates: route({ method: "GET", path: "/updates", summary: "Update state (501 until OTA updates are available)", tag: "updates", access: "admin", response: UpdatesState }),
  checkUpdates: route({ method: "POST", path: "/updates/check", summary: "Look for an update now", tag: "updates", access: "admin", response: UpdatesState }),
  applyUpdate: route({ method: "POST", path: "/updates/apply", summary: "Download and apply an update", tag: "updates", access: "admin", body: ApplyUpdateRequest, response: UpdatesState, status: 202 }),
  rollbackUpdate: route({ method: "POST", path: "/updates/rollback", summary: "Go back to the previous release", tag: "updates", access: "admin", response: UpdatesState, status: 202 }),

  getTelemetry: route({ method: "GET", path: "/telemetry", summary: "Telemetry settings and connection status", tag: "system", access: "admin", response: TelemetrySettings }),
  setTelemetry: route({ method: "PUT", path: "/telemetry", summary: "Change the broker, opt-in or fleet (applies at the next restart)", tag: "system", access: "admin", body: TelemetryUpdate, response: TelemetrySettings }),
  logs: route({ method: "GET", path: "/logs", summary: "Recent structured log records (never prompt text)", tag: "system", access: "admin", query: LimitQuery, response: LogsResponse }),
  getSettings: route({ method: "GET", path: "/settings", summary: "Allow-listed settings: in force and stored", tag: "system", access: "admin", response: SettingsResponse }),
  setSettings: route({ method: "PUT", path: "/settings", summary: "Store settings (apply at the next restart)", tag: "system", access: "admin", body: SettingsUpdate, response: SettingsResponse }),
  restart: route({ method: "POST", path: "/restart", summary: "Restart the server in-process with the stored settings", tag: "system", access: "admin", response: RestartResponse, status: 202 }),
  factoryReset: route({ method: "POST", path: "/factory-reset", summary: "Clear admin credentials, sessions, admin tokens and API keys; keep models, license, ledger, identity", tag: "system", access: "admin", body: FactoryResetRequest, response: FactoryResetResponse }),

  listTokens: route({ method: "GET", path: "/tokens", summary: "Admin tokens", tag: "tokens", access: "admin", response: AdminTokenList }),
  createToken: route({ method: "POST", path: "/tokens", summary: "Create an admin token for automation (the token is in this response only)", tag: "tokens", access: "admin", body: CreateTokenRequest, response: CreatedToken, status: 201 }),
  revokeToken: route({ method: "DELETE", path: "/tokens/:id", summary: "Revoke an admin token", tag: "tokens", access: "admin", params: IdParams, response: AdminToken }),

  openapi: route({ method: "GET", path: "/openapi.json", summary: "This document (OpenAPI 3.1)", tag: "docs", access: "public", response: null, contentType: "application/json" }),
  docs: route({ method: "GET", path: "/docs", summary: "Human-readable API documentation", tag: "docs", access: "public", response: null, contentType: "text/html" }),
} as const satisfies Record<string, RouteSpec>;

export type RouteId = keyof typeof ADMIN_ROUTES;

/** Routes that take no body still refuse one, so a fuzzed body can never be ignored silently. */
export const NO_BODY = Empty;
