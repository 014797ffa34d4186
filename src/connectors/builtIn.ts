import { ecc4xAppServerConnector } from "./ecc4x/appServerConnector.ts";
import { ecc4xSftpConnector } from "./ecc4x/sftpConnector.ts";
import { ecc6xKafkaConnector } from "./ecc6x-kafka/index.ts";
import { exoliteConnector } from "./exolite/connector.ts";
import type { AnyConnectorDefinition } from "./registry.ts";
import { s3Connector } from "./s3/connector.ts";

/**
 * The connector kinds shipped with cqa. Each lives in its own folder (`src/connectors/<kind>/`) and
 * is listed here — one import and one entry per kind.
 */
export const builtInConnectors: AnyConnectorDefinition[] = [
  exoliteConnector,
  s3Connector,
  ecc6xKafkaConnector,
  ecc4xSftpConnector,
  ecc4xAppServerConnector,
];
