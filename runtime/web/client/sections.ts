/** The signed-in page's sections, in navigation order. */
import { renderAccess } from "./screens/access.ts";
import { renderDashboard } from "./screens/dashboard.ts";
import { renderKeys } from "./screens/keys.ts";
import { renderLicense } from "./screens/license.ts";
import { renderLogs } from "./screens/logs.ts";
import { renderSystem } from "./screens/system.ts";
import { renderTelemetry } from "./screens/telemetry.ts";
import { renderUpdates } from "./screens/updates.ts";
import { renderUsage } from "./screens/usage.ts";
import type { Section } from "./shell.ts";

export const SECTIONS: Section[] = [
  { id: "dashboard", label: "Dashboard", render: renderDashboard },
  { id: "keys", label: "API keys", render: renderKeys },
  { id: "usage", label: "Usage", render: renderUsage },
  { id: "license", label: "License", render: renderLicense },
  { id: "updates", label: "Updates", render: renderUpdates },
  { id: "telemetry", label: "Telemetry", render: renderTelemetry },
  { id: "logs", label: "Logs", render: renderLogs },
  { id: "access", label: "Access", render: renderAccess },
  { id: "system", label: "System", render: renderSystem },
];
