// The ECC6x Kafka connector passes the connector conformance suite against a real Apache Kafka broker
// (started by this file): every event ingested once, a restart re-reads nothing, a poison event is
// dead-lettered while the others flow, and a broker stopped and started again is reconnected to.
import { type ConformancePeer, connectorConformance } from "../connectors/conformance.ts";
import { brokerForThisFile, eccEvent, kafkaConfig, uniqueName } from "./support.ts";

const { broker, tool } = await brokerForThisFile();

connectorConformance(
  "ECC6x Kafka",
  async (): Promise<ConformancePeer> => {
    const config = kafkaConfig(broker);
    const topic = (config["topics"] as string[])[0]!;
    await tool.createTopic(topic, 3);
    const prefix = uniqueName("call");
    let next = 0;
    return {
      kind: "ecc6x_kafka",
      config: () => config,
      async produce(count) {
        const ids = Array.from({ length: count }, () => `${prefix}-${next++}`);
        await tool.produce(ids.map((id) => ({ topic, key: id, value: JSON.stringify(eccEvent(id)) })));
        return ids;
      },
      async producePoison() {
        await tool.produce([{ topic, key: "poison", value: "{ this is not JSON" }]);
      },
      interrupt: () => broker.halt(),
      restore: () => broker.restart(),
      async close() {},
    };
  },
  { catchUpMs: 90_000 },
);
