import type { RowScope } from "../storage/repositories/analyses.ts";
import type { AccountCaller } from "./route.ts";

/**
 * The rows a caller may see, as metadata conditions: a user's metadata scope, and for agents only
 * their own conversations (metadata agent_id = their agent id). API keys see the whole account.
 */
export function rowScopeOf(caller: AccountCaller): RowScope {
  const { principal } = caller;
  if (principal.kind !== "user") return {};
  const scope: RowScope = { ...principal.metadataScope };
  if (principal.role === "agent") scope["agent_id"] = principal.agentId ? [principal.agentId] : [];
  return scope;
}

/** Whether a conversation with this metadata is within the caller's scope. */
export function canSee(caller: AccountCaller, metadata: Record<string, unknown>): boolean {
  return Object.entries(rowScopeOf(caller)).every(([key, allowed]) => {
    const value = metadata[key];
    return value !== undefined && value !== null && allowed.includes(String(value));
  });
}
