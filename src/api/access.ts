import type { RowScope } from "../storage/repositories/analyses.ts";
import type { AccountCaller } from "./route.ts";

/**
 * The rows a caller may see, as metadata conditions: a user's metadata scope, and for agents only
 * their own conversations (metadata agent_id = their agent id). API keys see the whole account,
 * except agent-role keys: a key belongs to no agent, so it sees no conversation.
 */
export function rowScopeOf(caller: AccountCaller): RowScope {
  const { principal } = caller;
  if (principal.kind !== "user") return principal.role === "agent" ? { agent_id: [] } : {};
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
