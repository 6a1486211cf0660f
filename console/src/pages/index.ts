import type { ComponentType } from "react";
import { AlertsPage, AuditPage } from "./alerts-audit";
import { BillingPage } from "./billing";
import { CredentialsPage } from "./credentials";
import { KeysPage } from "./keys";
import { ModelsPage } from "./models";
import { OverviewPage } from "./overview";
import { PeoplePage } from "./people";
import { UsagePage } from "./usage";
import { WorkspacesPage } from "./workspaces";

/** The sections, each shown to roles holding its read scope. */
export const PAGES: Array<{ path: string; title: string; scope: string; component: ComponentType }> = [
  { path: "overview", title: "Overview", scope: "org:read", component: OverviewPage },
  { path: "keys", title: "API keys", scope: "keys:read", component: KeysPage },
  { path: "usage", title: "Usage", scope: "usage:read", component: UsagePage },
  { path: "workspaces", title: "Workspaces", scope: "workspaces:read", component: WorkspacesPage },
  { path: "billing", title: "Billing", scope: "org:read", component: BillingPage },
  { path: "credentials", title: "Provider credentials", scope: "credentials:read", component: CredentialsPage },
  { path: "models", title: "Models and prices", scope: "models:read", component: ModelsPage },
  { path: "alerts", title: "Alerts", scope: "alerts:read", component: AlertsPage },
  { path: "audit", title: "Audit log", scope: "audit:read", component: AuditPage },
  { path: "people", title: "People", scope: "users:read", component: PeoplePage },
];
