import type { Queryable } from "../storage/db.ts";
import { audit } from "../storage/repositories/auditLog.ts";
import { actorName } from "../tenancy/authenticate.ts";
import type { AccountCaller } from "./route.ts";

/** Records in the account's audit trail that the caller did `action` (to `target`, with `details`). */
export function auditAction(
  q: Queryable,
  caller: AccountCaller,
  at: Date,
  action: string,
  target?: string,
  details?: unknown,
): Promise<void> {
  return audit(q, {
    accountId: caller.account.id,
    actor: actorName(caller.principal),
    action,
    at,
    ...(target === undefined ? {} : { target }),
    ...(details === undefined ? {} : { details }),
  });
}
