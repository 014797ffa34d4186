import type { AnyConnectorDefinition } from "./registry.ts";

/**
 * The connector kinds shipped with cqa. Each lives in its own folder (`src/connectors/<kind>/`) and
 * is listed here — one import and one entry per kind.
 */
export const builtInConnectors: AnyConnectorDefinition[] = [];
