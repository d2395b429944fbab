/** The page's view of the admin API: types derived from the API's own TypeBox schemas (erased from the bundle). */
import type { Static } from "@sinclair/typebox";
import type { ApiKeyList, CreatedKey, KeyUsageResponse } from "../../admin/schemas/keys.ts";
import type { AdminTokenList } from "../../admin/schemas/tokens.ts";
import type { LogRecord, LogsResponse, RestartResponse } from "../../admin/schemas/system.ts";

export type { SessionState, PairingRequest, LoginRequest, PasswordChangeRequest } from "../../admin/schemas/auth.ts";
export type { StatusResponse, Health, ModelsResponse } from "../../admin/schemas/status.ts";
export type { ApiKey, UsageResponse, UsageDay } from "../../admin/schemas/keys.ts";
export type { LicenseStatus } from "../../admin/schemas/license.ts";
export type { UpdatesState } from "../../admin/schemas/updates.ts";
export type { TelemetrySettings, TelemetryUpdate, FactoryResetResponse } from "../../admin/schemas/system.ts";
export type { SettingsResponse, SettingsUpdate } from "../../admin/schemas/settings.ts";
export type { AdminToken, CreatedToken } from "../../admin/schemas/tokens.ts";

export type ApiKeyListResponse = Static<typeof ApiKeyList>;
export type CreatedKeyResponse = Static<typeof CreatedKey>;
export type KeyUsage = Static<typeof KeyUsageResponse>;
export type AdminTokenListResponse = Static<typeof AdminTokenList>;
export type LogEntry = Static<typeof LogRecord>;
export type Logs = Static<typeof LogsResponse>;
export type Restart = Static<typeof RestartResponse>;
