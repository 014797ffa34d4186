import { AppError } from "../core/errors.ts";
import { type CredentialedFetcher, type FetchOwner, parseS3Url } from "../net/credentialedFetch.ts";
import {
  getIntegrationById,
  type IntegrationRecord,
  listIntegrations,
} from "../storage/repositories/integrations.ts";
import type { ConnectorInstance } from "./connector.ts";
import { type ConnectorEnvironment, instantiateConnector } from "./connectorContext.ts";

/** The connector kind whose integrations hold an account's S3 credentials. */
const s3Kind = "s3";

/**
 * Opens URLs with credentials the account's integrations hold, for the pipeline and file jobs:
 * - `s3://bucket/key` with the account's S3 integration for that bucket (the one the interaction
 *   came from first, then any enabled one, oldest first);
 * - any other URL of an interaction that came from an integration, when that integration's connector
 *   claims it (e.g. the Exolite recording URL, fetched with the account's API key and token).
 */
export function connectorMediaFetcher(env: ConnectorEnvironment): CredentialedFetcher {
  const instances = new Map<string, { version: number; instance: ConnectorInstance }>();
  const instanceOf = async (integration: IntegrationRecord): Promise<ConnectorInstance> => {
    const cached = instances.get(integration.id);
    if (cached && cached.version === integration.configVersion) return cached.instance;
    const instance = await instantiateConnector(env, integration);
    instances.set(integration.id, { version: integration.configVersion, instance });
    return instance;
  };
  const s3IntegrationFor = async (owner: FetchOwner, bucket: string): Promise<IntegrationRecord | null> => {
    const candidates = (await listIntegrations(env.db, owner.accountId)).filter(
      (i) => i.kind === s3Kind && i.enabled && i.config["bucket"] === bucket,
    );
    return candidates.find((i) => i.id === owner.integrationId) ?? candidates[0] ?? null;
  };
  const s3Refusal = async (owner: FetchOwner, url: string): Promise<string | null> => {
    const parsed = parseS3Url(url);
    if (!parsed) return `'${url.slice(0, 200)}' is not an s3://bucket/key URL`;
    if (await s3IntegrationFor(owner, parsed.bucket)) return null;
    return (
      `${url.slice(0, 200)} needs S3 credentials for bucket '${parsed.bucket}': add an S3 integration for that ` +
      "bucket to this account (its credentials are used for s3:// URLs), or send an https:// URL (a pre-signed one works)"
    );
  };
  return {
    async open(owner, url, limits) {
      if (url.trim().startsWith("s3://")) {
        const refusal = await s3Refusal(owner, url);
        if (refusal) throw new AppError("FETCH_REFUSED", refusal);
        const integration = (await s3IntegrationFor(owner, parseS3Url(url)!.bucket))!;
        const instance = await instanceOf(integration);
        return (await instance.openMedia?.(url, owner, limits)) ?? null;
      }
      if (!owner.integrationId) return null;
      const integration = await getIntegrationById(env.db, owner.integrationId);
      if (!integration || integration.accountId !== owner.accountId) return null;
      const instance = await instanceOf(integration);
      return instance.openMedia ? instance.openMedia(url, owner, limits) : null;
    },
    async refusal(owner, url) {
      return url.trim().startsWith("s3://") ? s3Refusal(owner, url) : null;
    },
  };
}
